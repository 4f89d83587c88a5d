// objectGUID: Active Directory's stable object id, 16 bytes on the wire,
// shown as the usual GUID string "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
// (lower case), the form AD's tools, Samba and the "<GUID=...>" DN syntax use.
//
// Byte order: the 16 bytes are a Windows GUID structure, whose first three
// fields (Data1: 4 bytes, Data2: 2, Data3: 2) are little-endian integers and
// whose last 8 bytes (Data4) are taken as they are. So the bytes
//   00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff
// are the string "33221100-5544-7766-8899-aabbccddeeff". (A plain hex dump
// of the bytes, as some tools print, is therefore NOT the GUID string.)
//
// Thread safety: pure functions.
#ifndef DIRLEDGER_ENGINE_DIRSYNC_OBJECT_GUID_H_
#define DIRLEDGER_ENGINE_DIRSYNC_OBJECT_GUID_H_

#include <optional>
#include <string>
#include <string_view>

namespace dirledger {

inline constexpr std::size_t kObjectGuidSize = 16;

// The GUID string of 16 objectGUID bytes; nullopt when not 16 bytes.
std::optional<std::string> FormatObjectGuid(std::string_view bytes);

// The 16 bytes of a GUID string (either case, optionally in braces);
// nullopt when it is not one.
std::optional<std::string> ParseObjectGuid(std::string_view text);

// Whether `text` is a GUID string as FormatObjectGuid writes it.
bool IsObjectGuidString(std::string_view text);

}  // namespace dirledger

#endif  // DIRLEDGER_ENGINE_DIRSYNC_OBJECT_GUID_H_

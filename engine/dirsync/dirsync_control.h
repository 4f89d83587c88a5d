// The DirSync control (LDAP_SERVER_DIRSYNC_OID, 1.2.840.113556.1.4.841,
// MS-ADTS 3.1.1.3.4.1.3): its request value
//   DirSyncRequestValue ::= SEQUENCE { Flags INTEGER, MaxBytes INTEGER,
//                                      Cookie OCTET STRING }
// and its response value
//   DirSyncResponseValue ::= SEQUENCE { MoreResults INTEGER,
//                                       unused INTEGER,
//                                       CookieServer OCTET STRING }
// encoded exactly as libldap's ldap_create_dirsync_value and
// ldap_parse_dirsync_control do (BER "{iiO}" / "{iio}"), without needing a
// session handle.
//
// Flags are a 32-bit field sent as a BER INTEGER of the C int's value: with
// LDAP_DIRSYNC_INCREMENTAL_VALUES (bit 31) set the INTEGER is negative and
// goes on the wire in 4 bytes (02 04 80 00 00 01 for INCREMENTAL_VALUES |
// OBJECT_SECURITY), which is what Windows expects; encoding 0x80000000 as a
// positive 5-byte INTEGER (02 05 00 80 00 00 00) is refused by Windows DCs.
//
// Thread safety: pure functions.
#ifndef DIRLEDGER_ENGINE_DIRSYNC_DIRSYNC_CONTROL_H_
#define DIRLEDGER_ENGINE_DIRSYNC_DIRSYNC_CONTROL_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "codecs/status.h"

namespace dirledger {

inline constexpr char kDirSyncOid[] = "1.2.840.113556.1.4.841";
// LDAP_SERVER_SHOW_DELETED_OID: return tombstones too.
inline constexpr char kShowDeletedOid[] = "1.2.840.113556.1.4.417";

// Request flags (MS-ADTS 3.1.1.3.4.1.3).
inline constexpr std::uint32_t kDirSyncObjectSecurity = 0x00000001;
inline constexpr std::uint32_t kDirSyncAncestorsFirstOrder = 0x00000800;
inline constexpr std::uint32_t kDirSyncPublicDataOnly = 0x00002000;
inline constexpr std::uint32_t kDirSyncIncrementalValues = 0x80000000;

// The BER value of a DirSync request control. `max_bytes` 0 lets the server
// choose how much to return per response.
Result<std::string> EncodeDirSyncRequest(std::uint32_t flags,
                                         std::string_view cookie,
                                         std::int32_t max_bytes = 0);

struct DirSyncResponse {
  bool more_results = false;  // search again with `cookie` for the rest
  std::string cookie;         // the server's new cookie (opaque bytes)
};

// Parses a DirSync response control value; Corruption when malformed.
Result<DirSyncResponse> DecodeDirSyncResponse(std::string_view value);

}  // namespace dirledger

#endif  // DIRLEDGER_ENGINE_DIRSYNC_DIRSYNC_CONTROL_H_

// DirSyncCursor: what the DirSync source stores as its cursor in the log.
// The server's cookie is opaque and a server accepts cookies it cannot use
// (Samba takes a cookie of another domain and silently answers a full
// result set, as if no cookie had been given), so the source wraps the
// cookie with what it is valid for:
//   - the objectGUID of the naming context it was read from: a cookie of
//     another domain (or another naming context) is never sent;
//   - a fingerprint of the search (base, filter, requested attributes): an
//     incremental pass after the attribute map changed would miss the values
//     of newly mapped attributes, so a changed search starts over.
// Stored form (docs/active-directory.md): the line
//   "dirsync1 <naming context GUID> <fingerprint, 16 hex digits>\n"
// followed by the server's cookie bytes.
//
// Thread safety: pure functions.
#ifndef DIRLEDGER_ENGINE_DIRSYNC_DIRSYNC_CURSOR_H_
#define DIRLEDGER_ENGINE_DIRSYNC_DIRSYNC_CURSOR_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "codecs/status.h"

namespace dirledger {

struct DirSyncCursor {
  std::string nc_guid;            // GUID string of the naming context root
  std::uint64_t fingerprint = 0;  // SearchFingerprint of the search
  std::string server_cookie;      // the DC's cookie, opaque bytes

  friend bool operator==(const DirSyncCursor&, const DirSyncCursor&) = default;
};

std::string EncodeDirSyncCursor(const DirSyncCursor& cursor);
// InvalidArgument (naming what is wrong) when `stored` is not a cursor
// EncodeDirSyncCursor wrote.
Result<DirSyncCursor> DecodeDirSyncCursor(std::string_view stored);

// A fingerprint of a DirSync search: its base (case-insensitive), its filter
// and its attribute list (order and case do not matter).
std::uint64_t SearchFingerprint(std::string_view base, std::string_view filter,
                                const std::vector<std::string>& attributes);

}  // namespace dirledger

#endif  // DIRLEDGER_ENGINE_DIRSYNC_DIRSYNC_CURSOR_H_

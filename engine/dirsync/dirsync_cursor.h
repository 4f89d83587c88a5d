// DirSyncCursor: what the DirSync source stores as its cursor in the log.
// The server's cookie is opaque and a server accepts cookies it cannot use
// (Samba takes a cookie of another domain and silently answers a full
// result set, as if no cookie had been given), so the source wraps the
// cookie with what it is valid for:
//   - the objectGUID of the naming context it was read from: a cookie of
//     another domain (or another naming context) is never sent;
//   - a fingerprint of the search (base, filter, requested attributes, the
//     base DNs of the scope): an incremental pass after the attribute map
//     changed would miss the values of newly mapped attributes, and one after
//     the scope changed would never report the objects that left or entered
//     it, so a changed search starts over.
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

// A fingerprint of a DirSync search: its base (case-insensitive), its filter,
// its attribute list (order and case do not matter), and `scope`, the
// client-side scope (the domains' base DNs): DirSync reports only objects
// that changed, so objects a narrower scope leaves out would never be
// reported; a changed scope starts over with a full pass.
std::uint64_t SearchFingerprint(std::string_view base, std::string_view filter,
                                const std::vector<std::string>& attributes,
                                std::string_view scope = {});

}  // namespace dirledger

#endif  // DIRLEDGER_ENGINE_DIRSYNC_DIRSYNC_CURSOR_H_

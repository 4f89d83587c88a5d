// The LDAP reads of the DirSync source, on an LdapConnection: the naming
// context to synchronize, one DirSync search request (entries streamed to a
// callback as they arrive, so a full pass of many objects is never held in
// memory), and the whole of one object read by objectGUID.
//
// Every wait for a server message is bounded by the connector's timeout
// ("per lookup"): a pass of any size runs as long as the server keeps
// answering.
//
// Thread safety: one call at a time per connection.
#ifndef DIRLEDGER_ENGINE_DIRSYNC_DIRSYNC_SEARCH_H_
#define DIRLEDGER_ENGINE_DIRSYNC_DIRSYNC_SEARCH_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "codecs/status.h"
#include "engine/dirsync/dirsync_control.h"
#include "engine/dirsync/dirsync_entry.h"
#include "engine/ldap/ldap_connection.h"

namespace dirledger {

struct NamingContext {
  std::string dn;    // as the server spells it
  std::string guid;  // objectGUID string of its root object
};

// The naming context holding `search_base` (normalized DN; "" = the
// server's default naming context), read from the root DSE.
Result<NamingContext> FindNamingContext(LdapConnection* conn,
                                        std::string_view search_base);

struct DirSyncRequest {
  std::string base;  // a naming context root: DirSync refuses anything else
  std::string filter;
  std::vector<std::string> attributes;
  std::uint32_t flags = 0;
  std::string cookie;  // server cookie; "" = from the beginning
};

// The outcome of one DirSync search request.
struct DirSyncSearchResult {
  Status status;             // OK, or why the search failed
  int ldap_code = 0;         // the LDAP result code (0 on success)
  DirSyncResponse response;  // when OK
  std::uint64_t entries = 0;
};

// Sends `request` and hands each entry to `on_entry` as it arrives; an
// error from `on_entry` abandons the search and is returned.
DirSyncSearchResult RunDirSyncSearch(
    LdapConnection* conn, const DirSyncRequest& request,
    const std::function<Status(DirSyncEntry)>& on_entry);

// The object with objectGUID `guid`, all of `attributes` (multi-valued
// attributes fetched whole, following range retrieval); nullopt when it no
// longer exists.
Result<std::optional<DirSyncEntry>> ReadObjectByGuid(
    LdapConnection* conn, const std::string& guid,
    const std::vector<std::string>& attributes);

}  // namespace dirledger

#endif  // DIRLEDGER_ENGINE_DIRSYNC_DIRSYNC_SEARCH_H_

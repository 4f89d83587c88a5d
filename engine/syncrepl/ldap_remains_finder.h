// LdapRemainsFinder: the RemainsFinder of a syncrepl source. syncprov reports
// an entry moved out of the search base, or no longer matching the filter,
// as deleted; this finder looks the entryUUIDs of such deletes up in the
// whole naming context that holds the base (a rename cannot leave it), on a
// connection of its own (the sync search owns the other), opened at the
// first lookup and kept until an error. Ids go 200 to a search (under
// slapd's default size limit of 500), as one OR filter of entryUUID
// equalities: with syncprov's usual `index entryUUID eq` each is a few
// index reads. An entry the bind DN may not read outside the base is not
// found: its delete stays a delete.
//
// Thread safety: one thread at a time (the source's).
#ifndef DIRLEDGER_ENGINE_SYNCREPL_LDAP_REMAINS_FINDER_H_
#define DIRLEDGER_ENGINE_SYNCREPL_LDAP_REMAINS_FINDER_H_

#include <functional>
#include <memory>
#include <string>

#include "engine/ldap/ldap_connection.h"
#include "engine/remains_finder.h"

namespace dirledger {

class LdapRemainsFinder : public RemainsFinder {
 public:
  using Connector = std::function<Result<std::unique_ptr<LdapConnection>>()>;

  // `connect` opens and binds a connection; `search_base` is the source's;
  // `what` names the source in errors ("corp/syncrepl").
  LdapRemainsFinder(Connector connect, std::string search_base,
                    std::string what);

  Result<std::map<std::string, std::string>> Find(
      const std::vector<std::string>& ids) override;

  // Where lookups search: the naming context holding the search base, once
  // a lookup has read the root DSE ("" before).
  const std::string& lookup_base() const { return lookup_base_; }

 private:
  Status Open();

  Connector connect_;
  std::string search_base_;
  std::string what_;
  std::unique_ptr<LdapConnection> conn_;
  std::string lookup_base_;
};

}  // namespace dirledger

#endif  // DIRLEDGER_ENGINE_SYNCREPL_LDAP_REMAINS_FINDER_H_

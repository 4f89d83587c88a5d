#include "engine/syncrepl/ldap_remains_finder.h"

#include <algorithm>

#include "codecs/attributes.h"
#include "engine/ldap/ldap_filter.h"
#include "engine/ldap/ldap_ops.h"
#include "replay/rules.h"

namespace dirledger {
namespace {

constexpr std::size_t kIdsPerSearch = 200;

}  // namespace

LdapRemainsFinder::LdapRemainsFinder(Connector connect, std::string search_base,
                                     std::string what)
    : connect_(std::move(connect)),
      search_base_(std::move(search_base)),
      what_(std::move(what)) {}

Status LdapRemainsFinder::Open() {
  auto conn = connect_();
  if (!conn.ok()) return conn.status();
  conn_ = std::move(conn).value();
  lookup_base_ = NamingContextOf(*conn_, search_base_);
  return Status::Ok();
}

Result<std::map<std::string, std::string>> LdapRemainsFinder::Find(
    const std::vector<std::string>& ids) {
  std::map<std::string, std::string> out;
  const std::string what =
      what_ + ": looking up where " + std::to_string(ids.size()) +
      " entries reported deleted are (moved out of the base?)";
  if (!conn_) {
    Status st = Open();
    if (!st.ok()) return st.WithContext(what);
  }
  for (std::size_t from = 0; from < ids.size(); from += kIdsPerSearch) {
    std::vector<std::string> filters;
    const std::size_t to = std::min(ids.size(), from + kIdsPerSearch);
    for (std::size_t i = from; i < to; ++i)
      filters.push_back(EqualityFilter("entryUUID", ids[i]));
    auto found = SearchEntries(*conn_, lookup_base_, SearchScope::kSubtree,
                               OrFilter(filters), {"entryUUID"});
    if (!found.ok()) {
      if (found.status().IsNotFound()) continue;  // the base is gone
      conn_.reset();  // opened again by the next lookup
      return found.status().WithContext(what);
    }
    for (const LdapEntry& e : *found) {
      const std::vector<std::string>& uuid = AttrValues(e.attrs, "entryUUID");
      if (uuid.size() == 1) out[AsciiLower(uuid.front())] = e.dn;
    }
  }
  return out;
}

}  // namespace dirledger

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
  // The longest naming context the base lies in; the base itself when the
  // root DSE names none (or cannot be read by this bind).
  auto root = SearchEntries(*conn_, "", SearchScope::kBase, "(objectClass=*)",
                            {"namingContexts"});
  lookup_base_ = search_base_;
  if (!root.ok() || root->empty()) return Status::Ok();
  const std::string base = NormalizeDn(search_base_);
  std::string best;
  for (const std::string& nc :
       AttrValues(root->front().attrs, "namingContexts"))
    if (DnIsUnder(base, NormalizeDn(nc)) && nc.size() > best.size()) best = nc;
  if (!best.empty()) lookup_base_ = best;
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

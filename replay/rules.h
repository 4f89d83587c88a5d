// RuleSet: a Config compiled for deciding: per connector its attribute map
// and the base DNs of every domain that names it, expanded. Sources use it to
// classify LDAP entries (kind, domain, mail address); the reconciler uses it
// as "the config in force at this event".
//
// Thread safety: immutable after Compile; share freely.
#ifndef DIRLEDGER_REPLAY_RULES_H_
#define DIRLEDGER_REPLAY_RULES_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "codecs/attributes.h"
#include "codecs/config.h"
#include "codecs/event.h"
#include "replay/attribute_map.h"
#include "replay/image_plan.h"

namespace dirledger {

// Lower-cases a DN and removes blanks around ',' '=' and '+', so base DN
// suffixes compare reliably. (Escaped characters are kept as they are.)
std::string NormalizeDn(std::string_view dn);
// Whether two DNs name the same entry (their NormalizeDn forms are equal);
// DNs equal byte for byte are not normalized.
inline bool SameDn(std::string_view a, std::string_view b) {
  return a == b || NormalizeDn(a) == NormalizeDn(b);
}
// Whether `dn` equals `base` or lies below it (both normalized).
bool DnIsUnder(std::string_view normalized_dn,
               std::string_view normalized_base);

// One domain served by a connector.
struct DomainScope {
  std::string domain;  // lower case
  bool ldap_sync = false;
  std::string account_base;  // expanded, normalized ("" = none)
  std::string group_base;    // expanded, normalized ("" = no groups)
};

struct ConnectorRules {
  ConnectorConfig config;
  AttributeMap map;
  // `map` compiled for building field images.
  ImagePlan account_plan;
  ImagePlan group_plan;
  std::vector<DomainScope> domains;  // in config order
  // The normalized search base covering every domain's bases (the longest
  // common suffix), or the configured search_base.
  std::string search_base;
  std::uint64_t DeleteThreshold(std::uint64_t known_objects) const;
};

// What an LDAP entry is for dirledger.
struct Classification {
  ObjectKind kind = ObjectKind::kAccount;
  std::string domain;   // "" when out of every domain's scope
  std::string name;     // account / group name (value of name attribute)
  std::string address;  // name@domain, lower case ("" when unknown)
};

class RuleSet {
 public:
  // Compiles `config`; a bad custom schema file is an error naming it.
  static Result<std::shared_ptr<const RuleSet>> Compile(Config config);

  const Config& config() const { return config_; }
  const ConnectorRules* connector(std::string_view name) const;
  const std::vector<ConnectorRules>& connectors() const { return connectors_; }

  // The domain scope of `domain` on `connector`, or nullptr.
  const DomainScope* Scope(std::string_view connector,
                           std::string_view domain) const;

  // Classifies an LDAP entry of `connector` by its objectClass values and DN:
  // std::nullopt when it is neither an account nor a group, or lies under no
  // base DN of any domain naming the connector.
  std::optional<Classification> Classify(std::string_view connector,
                                         std::string_view dn,
                                         const AttrList& attrs) const;

 private:
  Config config_;
  std::vector<ConnectorRules> connectors_;
};

}  // namespace dirledger

#endif  // DIRLEDGER_REPLAY_RULES_H_

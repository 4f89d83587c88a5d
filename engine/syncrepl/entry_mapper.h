// EntryMapper: what one LDAP entry reported by syncrepl is for dirledger.
// Classifies the entry with the connector's rules (account or group, domain,
// address) and builds the event: an ObservedChange carrying the full,
// canonical image of the whole entry (every user attribute, mapped or not;
// secret attributes never), an ObjectError when the entry's data is invalid (so
// the sync goes on for everyone else), or nothing when the entry is out of
// scope. Deletes, reported by entryUUID alone, are built from what the log
// knows of the object.
//
// Thread safety: immutable after construction; const methods only.
#ifndef DIRLEDGER_ENGINE_SYNCREPL_ENTRY_MAPPER_H_
#define DIRLEDGER_ENGINE_SYNCREPL_ENTRY_MAPPER_H_

#include <memory>
#include <string>
#include <string_view>

#include "codecs/event.h"
#include "codecs/projection.h"
#include "engine/ldap/ldap_entry.h"
#include "replay/rules.h"

namespace dirledger {

struct MappedEntry {
  enum class Kind { kChange, kError, kOutOfScope };
  Kind kind = Kind::kOutOfScope;
  ObservedChange change;  // kChange
  ObjectError error;      // kError
};

class EntryMapper {
 public:
  // REQUIRES: `rules` has a connector named `connector`.
  EntryMapper(std::shared_ptr<const RuleSet> rules, std::string connector,
              std::string source);

  // An entry the server reports as added or modified; `known` says whether
  // the log knows the object already (the change is then a modify).
  MappedEntry Map(std::string_view id, LdapEntry entry, bool known) const;

  // The delete of an object the log knows (`known`).
  ObservedChange Delete(const ObjectState& known) const;

  // An error about object `id` (may be "") at `dn` (may be "").
  ObjectError Error(std::string_view id, std::string_view dn,
                    std::string message) const;

  const std::string& source() const { return source_; }
  const std::string& connector() const { return connector_; }

 private:
  std::shared_ptr<const RuleSet> rules_;
  const ConnectorRules* rules_for_connector_;
  std::string connector_;
  std::string source_;
};

}  // namespace dirledger

#endif  // DIRLEDGER_ENGINE_SYNCREPL_ENTRY_MAPPER_H_

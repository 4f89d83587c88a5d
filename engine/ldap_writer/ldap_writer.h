// LdapWriter: the Applier for an OpenLDAP connector: the writes the
// reconciler decides under axigen_to_ldap and both_ways, and an operator's
// rollback under any direction. It adds, modifies, renames and deletes
// accounts (inetOrgPerson) and groups (groupOfNames; the server's memberof
// overlay keeps memberOf) at the DNs the intents carry.
//
// Every write is decided on the entry as read just before it (write_plan.h)
// and guarded by an RFC 4528 assertion of the intent's expected prior
// values, so a concurrent edit is reported as a Conflict naming the
// attribute instead of being overwritten. Re-applying an intent that is in
// effect already changes nothing and reports already_applied (an add whose
// entry exists with the intended values, a delete of an entry that is gone,
// a modify whose values are there). An add reports the new entry's
// entryUUID as assigned_id (read back with the RFC 4527 post-read control).
// An add naming an entryUUID (a rollback bringing a deleted entry back)
// writes it under the Relax Rules control, which slapd allows the rootdn;
// when the server refuses, the entry is added with a new entryUUID and the
// outcome's message says why. When an entry still has that entryUUID
// anywhere in the naming context (moved out of the base, which syncrepl
// reports as a delete), the add moves it back instead and writes the values.
//
// Existing objects are found by entryUUID (the intent's target_id) under
// the connector's search base, so a DN that changed meanwhile does not
// matter; without a target_id, by DN.
//
// Thread safety: one thread at a time (Applier's contract).
#ifndef DIRLEDGER_ENGINE_LDAP_WRITER_LDAP_WRITER_H_
#define DIRLEDGER_ENGINE_LDAP_WRITER_LDAP_WRITER_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "engine/applier.h"
#include "engine/ldap/ldap_connection.h"
#include "engine/ldap/ldap_entry.h"
#include "engine/ldap/write_plan.h"
#include "replay/rules.h"

namespace dirledger {

class LdapWriter : public Applier {
 public:
  // Errors name the connector: unknown, or not OpenLDAP.
  static Result<std::unique_ptr<LdapWriter>> Create(
      std::shared_ptr<const RuleSet> rules, std::string_view connector);

  Side side() const override { return Side::kLdap; }
  ApplyResult Apply(const Intent& intent) override;

 private:
  LdapWriter(std::shared_ptr<const RuleSet> rules,
             const ConnectorRules& connector);

  Status EnsureConnected();
  ApplyResult ApplyConnected(const Intent& intent);
  ApplyResult Add(const Intent& intent);
  ApplyResult Modify(const Intent& intent, const LdapEntry& entry);
  ApplyResult Rename(const Intent& intent, const LdapEntry& entry);
  ApplyResult Delete(const Intent& intent, const LdapEntry& entry);
  // A rollback's add of an entry whose entryUUID `holder` still has (moved
  // out of the base): renames it to the intent's DN and writes `desired`.
  // Also when `holder` is at the DN already (an earlier attempt moved it
  // and stopped before the values).
  ApplyResult MoveBack(const Intent& intent, const LdapEntry& holder,
                       const AttrList& desired);

  // The entry the intent is about, with the attributes it touches; nullopt
  // when there is none.
  Result<std::optional<LdapEntry>> Locate(const Intent& intent);
  Result<std::optional<LdapEntry>> FindById(
      const std::string& base, const std::string& id,
      const std::vector<std::string>& attrs);
  Result<std::optional<LdapEntry>> ReadByDn(
      const std::string& dn, const std::vector<std::string>& attrs);
  std::vector<std::string> AttributesOf(const Intent& intent) const;
  const ObjectMap& MapFor(ObjectKind kind) const;
  ValueRules RulesFor(ObjectKind kind) const;

  std::shared_ptr<const RuleSet> rules_;
  const ConnectorRules& connector_;
  std::string what_;  // connector "corp"
  std::unique_ptr<LdapConnection> conn_;
  // The naming context holding the search base, read from conn_'s root DSE
  // at the first rollback add that asks back an entryUUID ("" until then).
  std::string naming_context_;
};

}  // namespace dirledger

#endif  // DIRLEDGER_ENGINE_LDAP_WRITER_LDAP_WRITER_H_

// AdWriter: the Applier that writes to Active Directory for a connector
// whose direction is axigen_to_ldap or both_ways: modifies attributes of
// existing users and groups, creates users and groups, renames and deletes
// them. Objects are found by objectGUID (the "<GUID=...>" DN form), by DN
// only when the intent names no id (a create).
//
//  - Idempotent: an intent whose target is already in the intended state
//    (the object exists with those values, is already gone, already has that
//    DN) reports ok with already_applied and writes nothing.
//  - Expectations: an attribute the intent expects at some prior value that
//    holds something else is a Conflict naming the attribute; nothing is
//    written. Attributes written with an expectation are written as "delete
//    the expected values, add the new ones" in one modify, so a concurrent
//    change between the read and the write fails the modify instead of
//    being overwritten (AD has no assertion control).
//  - Creates: a user gets objectClass user, sAMAccountName (from the RDN when
//    the intent has none), userPrincipalName name@domain when it has none,
//    and userAccountControl 514 (disabled) unless a password is known; with
//    a password (from `password_for`, never from the intent: intents are
//    logged) it gets unicodePwd and 512 (enabled), which AD accepts only on
//    an encrypted connection (ldaps:// or StartTLS); the writer refuses to
//    send a password otherwise. userAccountControl is never written except on
//    create. assigned_id is the new object's objectGUID string.
//  - Undelete: a create naming an objectGUID (target_id: a rollback bringing
//    a deleted object back) first looks for that object's tombstone (Show
//    Deleted control) and reanimates it (MS-ADTS 3.1.1.5.3.7: one modify of
//    the tombstone removing isDeleted and setting distinguishedName to the
//    intent's DN), so objectGUID and objectSid survive; the intent's other
//    attributes the tombstone lost are written after it. A DC or a bind
//    account that does not allow it (or a tombstone already gone) makes it
//    a plain create; the message says which was done.
//
// Thread safety: one thread at a time (the Applier contract).
#ifndef DIRLEDGER_ENGINE_AD_WRITER_AD_WRITER_H_
#define DIRLEDGER_ENGINE_AD_WRITER_AD_WRITER_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "engine/applier.h"
#include "engine/ldap/ldap_connection.h"
#include "engine/secrets.h"
#include "replay/rules.h"

namespace dirledger {

struct AdWriterOptions {
  std::string connector;
  LdapConnectOptions ldap;
  // The password to give a user created by `intent`, if one is known.
  std::function<std::optional<Secret>(const Intent& intent)> password_for;
  // The connector's attribute map: the mapped attributes an object moved
  // back by a rollback loses when the rollback's image has none.
  AttributeMap map;
};

// The options of connector `connector`: URIs, bind (password read now), TLS,
// timeout. InvalidArgument when there is no such connector, it is not
// "activedirectory", or its direction writes nothing to LDAP.
Result<AdWriterOptions> AdWriterOptionsFor(const RuleSet& rules,
                                           std::string_view connector);

class AdWriter : public Applier {
 public:
  explicit AdWriter(AdWriterOptions options);
  ~AdWriter() override;

  Side side() const override { return Side::kLdap; }
  ApplyResult Apply(const Intent& intent) override;

 private:
  struct Current;
  ApplyResult ApplyOnce(const Intent& intent);
  Status Connect();
  bool Encrypted() const;
  // The object the intent targets: by objectGUID, else by DN.
  Result<std::optional<Current>> Read(const Intent& intent,
                                      const std::vector<std::string>& attrs);
  Result<std::optional<Current>> ReadAt(const std::string& base,
                                        const std::vector<std::string>& attrs,
                                        bool show_deleted = false);
  ApplyResult Create(const Intent& intent);
  // Reanimates the tombstone of intent.target_id at intent.dn; nullopt
  // (with `why` set) when there is none or the DC refuses.
  std::optional<ApplyResult> Reanimate(const Intent& intent, std::string* why);
  // Writes the attributes of a create's `set` that `cur` lacks or holds
  // otherwise (after a reanimation).
  ApplyResult Complete(const Intent& intent, const Current& cur,
                       std::string done);
  ApplyResult Modify(const Intent& intent);
  ApplyResult Delete(const Intent& intent);
  ApplyResult Rename(const Intent& intent);
  // Renames `from` to `to`, under a new superior when the parent differs
  // (the old RDN value removed); the LDAP result code.
  int RenameTo(const std::string& from, const std::string& to);
  // The first expected attribute whose current value differs, as a Conflict.
  std::optional<Status> CheckExpect(const Intent& intent, const Current& cur,
                                    bool skip_converged) const;
  ApplyResult Fail(Status s);

  AdWriterOptions options_;
  std::unique_ptr<LdapConnection> conn_;
};

}  // namespace dirledger

#endif  // DIRLEDGER_ENGINE_AD_WRITER_AD_WRITER_H_

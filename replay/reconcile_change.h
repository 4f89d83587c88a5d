// ChangeDecider: the reconciler's rules for one observed change
// (docs/rules.md), in named steps. Internal to the reconciler: DecideChange
// (reconcile_internal.h) makes one per change and asks it to Decide().
//
// Its steps, one file each:
//   reconcile_change.cc           scope, the object's new state, dispatch
//   reconcile_change_echo.cc      the echo of dirledger's own writes
//   reconcile_change_linked.cc    a linked object changed or deleted
//   reconcile_change_catch_up.cc  sides left apart, members merged, aliases
//   reconcile_change_writes.cc    the intents a decision makes
//   reconcile_change_unlinked.cc  an object not linked yet: create or meet
//
// Thread safety: one decision at a time; a ChangeDecider lives for one.
#ifndef DIRLEDGER_REPLAY_RECONCILE_CHANGE_H_
#define DIRLEDGER_REPLAY_RECONCILE_CHANGE_H_

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "replay/field_image.h"
#include "replay/intent_writes.h"
#include "replay/ldap_entry.h"
#include "replay/reconcile_internal.h"

namespace dirledger {
namespace change_rules {

inline std::string_view FlowRule(Side from) {
  return from == Side::kLdap ? "ldap-to-mail" : "mail-to-ldap";
}

inline std::string_view SideTitle(Side s) {
  return s == Side::kLdap ? "LDAP" : "mail";
}

inline std::vector<std::string> Minus(const std::vector<std::string>& a,
                                      const std::vector<std::string>& b) {
  std::vector<std::string> out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(),
                      std::back_inserter(out));
  return out;
}

inline bool IsMembers(std::string_view f) {
  return EqualsIgnoreCase(f, field::kMembers);
}

// Writes one decision makes to one side, in field names.
struct SideWrites {
  AttrList fields;                       // replacements (empty values: remove)
  std::vector<std::string> add_members;  // addresses
  std::vector<std::string> del_members;
  bool empty() const {
    return fields.empty() && add_members.empty() && del_members.empty();
  }
  void Set(std::string_view f, const std::vector<std::string>& values) {
    fields.push_back(Attribute{std::string(f), values});
  }
  std::vector<std::string> Names() const {
    std::vector<std::string> out;
    for (const Attribute& a : fields) out.push_back(a.name);
    if (!add_members.empty() || !del_members.empty())
      out.emplace_back(field::kMembers);
    return out;
  }
};

// The state of an object with the intents still pending on it applied.
// (The attributes are borrowed until an intent changes them.)
struct Foreseen {
  bool exists = false;
  std::string dn;
  const AttrList& attrs() const { return borrowed ? *borrowed : own; }
  void Borrow(const AttrList& a) { borrowed = &a; }
  AttrList& Own() {
    if (borrowed) {
      own = *borrowed;
      borrowed = nullptr;
    }
    return own;
  }
  void Clear() {
    borrowed = nullptr;
    own.clear();
  }

 private:
  const AttrList* borrowed = nullptr;
  AttrList own;
};

class ChangeDecider {
 public:
  ChangeDecider(DecisionBuilder& b, const ObservedChange& c)
      : builder_(b),
        change_(c),
        side_(c.side),
        other_(OtherSide(c.side)),
        kind_(c.kind),
        domain_name_(AsciiLower(c.domain)) {}

  Verdict Decide();

 private:
  // --- Inputs and the object's new state (reconcile_change.cc) ---------------

  std::string Subject() const;
  std::string Partner(const std::string& id, const std::string& dn) const {
    return Describe(other_, kind_, id, dn);
  }

  Verdict DomainOff();
  Verdict Present();
  std::string LdapAddress(const AttrList& attrs) const;
  void BuildNext();
  Verdict Skip(std::string rule, Outcome outcome, const std::string& why);

  // The groups a deleted LDAP entry was dropped from (rules version 7), for
  // the reason.
  std::string LeftGroups() const;

  // Rules version 11: this delete is of an entry that left the scope and
  // names where it is (ObservedChange::remains_at).
  bool FollowsRemains() const;

  // Writes the object's new state and drops the pending intents settled by
  // this observation.
  void PutSelf();

  // --- Echo of our own writes (reconcile_change_echo.cc) ---------------------

  // Sorts the intents pending on this object into those this observation
  // shows done (consumed: the echo), those it makes impossible (their
  // `expect` no longer holds: the applier would refuse them), and those
  // still to come.
  void WalkPendings();

  // The observation reports the write of `origin`, one step of what
  // dirledger wrote to this object. Writes are made in intent id order, so
  // the Modify intents pending on it that were applied after `origin` (the
  // later steps) are not in this image yet: they are done all the same, and
  // each will be reported by its own echo. They are taken into the object's
  // new state (and into the state before, so that they compare equal): an
  // intermediate echo is never someone else's change, and its intents stay
  // pending until their own echoes. Rules before version 2 took no such
  // steps (docs/rules.md, "Rules versions").
  void TakeAhead(const PendingIntent& origin,
                 const std::vector<const PendingIntent*>& pending);
  bool IsAhead(const PendingIntent* p) const {
    return std::find(ahead_.begin(), ahead_.end(), p) != ahead_.end();
  }

  // What an Add or a mail Rename starts from: nothing, or the attributes of
  // the object being renamed, with the writes still pending at the old
  // address before the rename. Since rules version 10 these include the
  // Add that is making the object (a rename decided before the object's
  // Add was made); before, the object at the new address was foreseen
  // without the Add's values, and a write decided against it expected
  // them absent and was refused.
  AttrList RenamedFrom(const Intent& i);
  void ComputeImages();
  bool Unchanged() const { return changed_.empty() && !existence_changed_; }

  Verdict EchoOrNoChange() const;

  // Nothing synced changed: an echo, a move to another DN, or no change.
  Verdict Quiet() const;

  // What the mail directory reports of a rename dirledger made, besides
  // the object at its new address (rules version 3): the old address gone,
  // and each group that lists the object with its member renamed, each
  // naming the Rename as its origin. Both are echoes, also when the
  // rename's outcome was decided first (it moved the object already).
  std::optional<Verdict> RenameEcho() const;

  // Rules version 11: a mail group whose member a Rename renamed (the echo
  // RenameEcho recognized) and its LDAP group, where refint renamed the
  // entry's DN, agree on the new address as they agreed on the old. Before,
  // the agreed members kept the old one, and the new address counted as
  // the mail side's addition: both ways LDAP's removal of the member was
  // undone (model seed 2400099), one way the mail group kept it.
  void AgreeOnRenamedMember();
  std::string IntentRef() const;

  // --- Dispatch (reconcile_change.cc) ----------------------------------------

  Verdict DecideInScope();

  // The linked object on the other side, as observed and as it will be once
  // the intents pending on it are applied.
  void LoadPartner(const std::string& id);
  std::string LdapAddressOf() const {
    return partner_ ? partner_->address : std::string();
  }

  // --- Linked objects (reconcile_change_linked.cc) ---------------------------

  Verdict Linked();

  // One way, the object being created on this side for its linked partner
  // is reported there already, made by someone else (the Add, which needs
  // the address free, is dropped): since rules version 5 the two meet, and
  // the authoritative side's values are written over it. Before, the change
  // was discarded and the partner's values never came.
  bool FoundInPlace() const;
  LinkSides Sides() const;
  void Settle(bool link_changed, const std::vector<std::string>& opened,
              bool create_drift);
  Verdict Discard(bool linked, bool drift);
  Verdict LinkedDelete();
  // The partner is gone and this object follows it (delete/catch-up): its
  // delete, expecting its observed values. REQUIRES: next_.
  Verdict DeleteSelf(std::string reason);

  // Emits the delete of the linked object (foreseen_ exists).
  void DeletePartner();

  // The values a delete of an object asserts: its synced attributes.
  AttrList ExpectOf(Side side, const AttrList& attrs, const AttrList& image);

  // A delete on `deleter` against modifications on the other side, both
  // since the sides last agreed (both_ways).
  Verdict DeleteVsModify(Side deleter, std::vector<std::string> modified);

  // The writes of the partner's values to this object that this change
  // made impossible before they were made, as "27.1, 28.0" ("" if none).
  std::string DroppedWritesOfPartner() const;

  // The partner is gone, or going, for a delete of this object that
  // dirledger carried over (a Delete intent on the partner made from this
  // side's delete, pending or applied and not echoed yet).
  bool DeletedForThisSide() const;

  // Creates the object on `side` again from `source` (the linked object on
  // the other side) and its image.
  void Recreate(Side side, const ObjectState& source, const AttrList& image);
  Verdict LinkedUpdate();

  // --- Catching up (reconcile_change_catch_up.cc) ----------------------------

  // The fields a write to this side sets or changes values of, in field
  // names (LDAP attributes through the map; unmapped ones are left out).
  void WrittenFields(const Intent& i, std::vector<std::string>* out) const;

  // One way, this (non-authoritative) side's change made a write of the
  // authoritative side's values impossible: its `expect` no longer holds,
  // so it was dropped (WalkPendings), the applier would refuse it. Since
  // rules version 7 it is planned again against this object's new image:
  // each field it wrote that still differs takes the authoritative side's
  // value (as foreseen), expecting this object's. The write was decided
  // before this change was seen, but both were made since the last run, in
  // an order not known: one way, the authoritative side's change of a
  // field wins, as it does over drift. The fields it did not write keep
  // this change (drift). Before, the write was dropped whole, and the
  // authoritative values came only with that side's next change. Returns
  // nothing when nothing is written again.
  std::optional<Verdict> Replan();

  // Fields this change did not touch can still differ: a write that was
  // refused (a concurrent edit) or failed leaves the sides apart. The side
  // that still holds the value both last agreed on has not changed it: it
  // takes the other side's value. Where both moved, it is a conflict.
  // (Values are taken as they will be once the intents pending on each
  // side are applied, so a write in flight is not made twice.)
  void CatchUp(SideWrites* to_other, SideWrites* to_self,
               std::vector<std::string>* conflicts);

  // Members: one way, the other side's become this side's when they
  // changed here (or when the other side still has the agreed ones); both
  // ways, a value-level merge of each side's additions and removals since
  // the members both last agreed on, never a conflict.
  void MergeMembers(SideWrites* to_other, SideWrites* to_self);

  // The members both sides will agree on once the writes pending on the
  // partner are applied. Such a write carries a merge already decided
  // (this side's earlier additions and removals, or the partner's own
  // taken back): once applied, both sides hold it. Merged against the
  // agreed members alone, a side's change made in the same run window as
  // an earlier one was undone: a member removed, put back and another
  // removed, or added and removed again, before the run (rules version 8;
  // before, the write in flight counted as the partner's change). Writes
  // pending on this object are in `now` already, and may be members the
  // partner's image cannot resolve yet (an LDAP DN whose entry is being
  // created): they are left out.
  std::vector<std::string> PendingAgreedMembers(
      const std::vector<std::string>& agreed) const;

  // --- Address ownership, rules version 6 (reconcile_change_catch_up.cc) ---

  // The entry's aliases its image leaves out (replay/address_ownership.h)
  // are its `refused_address` failure record, opened or replaced when they
  // change, dropped when there are none (or the entry is gone).
  void SettleRefusedAliases(Verdict* v);

  // --- Writes (reconcile_change_writes.cc) -----------------------------------

  Intent NewIntent(Side target, IntentOp op, std::string target_id,
                   std::string dn);

  // The LDAP DNs of member addresses. An address without one is left out;
  // when `mail_group` is given, that group waits for it (it is added once
  // its LDAP entry is known: ReleaseMemberWaits).
  std::vector<std::string> MemberDns(const std::vector<std::string>& addresses,
                                     const std::string& mail_group);

  // Fills the attribute writes of `i` on `target` (its current values
  // `current`) from field writes.
  void FillWrites(Side target, const Foreseen& current, const SideWrites& w,
                  std::string_view own_address, Intent* i);

  // Removes `own_address` from the aliases `set` writes to a mail object,
  // and the aliases write itself when what is left is what the object
  // holds.
  static void DropOwnAlias(const Foreseen& current,
                           std::string_view own_address, AttrList* set);

  // Returns whether there was anything to write.
  bool WriteTo(Side target, const std::string& target_id,
               const Foreseen& current, const SideWrites& w);

  // The LDAP entry's address changed: the linked mail object is renamed to
  // follow it, and the link moves with it.
  // Since rules version 3 the field writes travel in the Rename itself, so
  // the object takes them at its new address in the same write (its aliases
  // are the entry's, which are relative to the new address). Before, they
  // went first in a Modify of the old address, where the old address, still
  // listed by the entry, became an alias of the object it names.
  void WriteRename(const SideWrites& w);

  // A mail object whose Rename is still pending (not made) is reported
  // deleted, and no origin names the Rename: its administrator deleted it
  // before the rename could be made (the Rename, once made, is reported
  // with its origin, and its outcome is logged before the poll that sees
  // it). Since rules version 10 the delete is decided against the linked
  // entry, which keeps its link to the new address, as a delete of an
  // object the entry's rename (a change) was being written to: both ways a
  // delete against a modification, one way the object is created again at
  // the new address; the Rename, which would find neither address, is
  // dropped. Before, the delete was taken for the Rename's echo: the
  // Rename failed, its undoing linked the entry to the old address again,
  // and an entry that took that address next lost its account to a
  // second Rename of it.
  // The link a pending mail Rename `r` moved to its new address, when it
  // is still the renamed entry's; nullptr otherwise.
  const LinkState* RenamedLink(const Intent& r);
  std::optional<Verdict> DeletedBeforeRename();

  // The mail object being renamed changed a field the pending Rename writes
  // (its administrator, since the Rename was decided): the Rename expects
  // the old value and would be refused. Since rules version 10 it is
  // planned again against the object's new values, each such field decided
  // as a change on both sides: the entry's value stays in the Rename where
  // LDAP wins (one way, ldap_wins); both ways, axigen_wins, the Rename
  // leaves it and the entry takes the mail value; no_change leaves both and
  // opens a conflict. The fields the Rename does not write travel with the
  // object, as before. Before, the Rename failed and the entry stayed apart
  // from its account until it changed again.
  std::optional<Verdict> ReplanRename();

  // --- Unlinked objects (reconcile_change_unlinked.cc) -----------------------

  // A mail object whose Rename to another address is still pending: that
  // intent's id, else 0.
  std::uint64_t Leaving(const ObjectState* o);
  Verdict Unlinked();

  // Rules version 11: the object is exactly what the writes this
  // observation consumes made of it, DN included: nobody else changed it.
  // Its images may differ all the same (a rollback renaming back an entry
  // whose mail object it deleted: the address moves with the name), which
  // an unlinked object took for a change to create its counterpart from,
  // although at the point it had none.
  bool AsWritten() const;
  Verdict CreateOnMail();
  Verdict CreateOnLdap();

  // The LDAP entry for this mail object is still being created: later
  // changes are written to it by DN, after the add.
  // `again`: the object was deleted, and is added again, while the entry
  // is being created (rules version 7).
  Verdict WhileCreating(const PendingIntent& add, bool again = false);

  // REQUIRES: LoadPartner(partner_id).
  Verdict FirstMeet(const std::string& partner_id);

  // --- State ---------------------------------------------------------------

  DecisionBuilder& builder_;
  const ObservedChange& change_;
  // Storage of the field images below (declared first: built first).
  ImagePool::Lease prev_image_{&builder_.images}, next_image_{&builder_.images},
      self_foreseen_image_{&builder_.images}, partner_image_{&builder_.images},
      foreseen_image_{&builder_.images};
  const Side side_, other_;
  const ObjectKind kind_;
  const std::string domain_name_;
  const DomainConfig* domain_ = nullptr;
  std::string connector_name_;
  const ConnectorRules* connector_ = nullptr;
  const ObjectMap* map_ = nullptr;
  const ImagePlan* plan_ = nullptr;
  Direction direction_ = Direction::kLdapToAxigen;
  const ObjectState* prev_ = nullptr;
  std::optional<ObjectState> next_;  // nullopt: deleted
  std::vector<const PendingIntent*> consumed_, dropped_;
  // Applied after the write this observation reports (TakeAhead).
  std::vector<const PendingIntent*> ahead_;
  bool prev_exists_ = false;
  std::optional<AttrList> self_foreseen_;  // set when intents are pending
  Foreseen eff_prev_;  // prev_ with the consumed writes in it
  const AttrList& prev_fields_ = prev_image_.list();
  const AttrList& next_fields_ = next_image_.list();
  std::vector<std::string> changed_;
  bool existence_changed_ = false;
  std::vector<std::string> unresolved_;
  std::vector<std::string> left_groups_;  // DNs of the groups it left
  std::vector<std::string> renamed_in_;   // DNs of the groups it was renamed in
  std::string recreated_dn_;  // a deleted LDAP entry's new entry's DN
  RefusedAliases refused_;    // of the entry's new image
  // Rules version 7: why the entry's own address is not made yet (another
  // mail object holds it as an alias); "" when it is not held.
  std::string address_held_;
  std::vector<std::string> caught_up_;
  // This object with the intents pending on it.
  const AttrList& self_foreseen_fields_ = self_foreseen_image_.list();
  // This object's fields as they will be: as observed, or with the intents
  // still pending on it (self_foreseen_fields_).
  const AttrList* self_after_ = &next_fields_;

  // The link: the projection's record, copied when this decision changes it.
  const LinkState& link() const { return link_own_ ? *link_own_ : *link_src_; }
  LinkState& MutLink() {
    if (!link_own_) link_own_ = link_src_ ? *link_src_ : LinkState{};
    return *link_own_;
  }
  const LinkState* link_src_ = nullptr;
  // The pending Rename of this (deleted) object that is dropped (rules
  // version 10: DeletedBeforeRename).
  const PendingIntent* rename_dropped_ = nullptr;
  std::optional<LinkState> link_own_;
  bool linked_after_ = false;  // the object is linked after this decision
  std::string partner_id_;
  const ObjectState* partner_ = nullptr;
  const AttrList& partner_fields_ = partner_image_.list();
  Foreseen foreseen_;
  // When intents are pending on the partner.
  const AttrList& foreseen_fields_ = foreseen_image_.list();
  // The partner's fields as they will be (foreseen_fields_), or as they
  // are when it is not moving (partner_fields_).
  const AttrList* partner_after_ = &foreseen_fields_;
};

}  // namespace change_rules
}  // namespace dirledger

#endif  // DIRLEDGER_REPLAY_RECONCILE_CHANGE_H_

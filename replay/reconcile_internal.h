// Internal to the reconciler (replay/reconcile_*.cc): the decision being
// built for one event, and the steps shared by the event handlers. Not part
// of the replay module's interface.
//
// Thread safety: one decision at a time.
#ifndef DIRLEDGER_REPLAY_RECONCILE_INTERNAL_H_
#define DIRLEDGER_REPLAY_RECONCILE_INTERNAL_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "codecs/event.h"
#include "codecs/projection.h"
#include "replay/field_image.h"
#include "replay/image_pool.h"
#include "replay/rules.h"
#include "replay/state_reader.h"

namespace dirledger {

// What was concluded about one object.
struct Verdict {
  std::string rule;
  Outcome outcome = Outcome::kNoChange;
  std::string reason;
};

// The decision and projection delta under construction.
class DecisionBuilder {
 public:
  DecisionBuilder(const ProjectionView& view, const RuleSet& rules,
                  std::uint64_t seq, Decision* decision, StateDelta* delta,
                  ImagePool* images)
      : rules(rules),
        state(view),
        images(*images),
        seq(seq),
        d(decision),
        delta_(delta) {}

  // Appends `intent` with the next intent id; returns the id.
  std::uint64_t AddIntent(Intent intent);
  void Put(StateMutation m) { delta_->mutations.push_back(std::move(m)); }
  // The object as it stands with this decision's own puts and erases (a
  // decision that decides several changes, e.g. a hold's deletes, sees
  // them); nullptr when absent. Valid until the next Put.
  const ObjectState* ObjectNow(Side side, ObjectKind kind,
                               std::string_view id) {
    for (auto it = delta_->mutations.rbegin(); it != delta_->mutations.rend();
         ++it) {
      if (const auto* p = std::get_if<PutObject>(&*it)) {
        if (p->object.side == side && p->object.kind == kind &&
            p->object.id == id)
          return &p->object;
      } else if (const auto* e = std::get_if<EraseObject>(&*it)) {
        if (e->side == side && e->kind == kind && e->id == id) return nullptr;
      }
    }
    return state.Object(side, kind, id);
  }
  // Indexes `id` for explain (empty ids are ignored).
  void Id(std::string_view id) {
    if (!id.empty()) d->object_ids.emplace_back(id);
  }
  void Apply(const Verdict& v);
  // Records a PendingIntent per intent and puts the id lists in canonical
  // order. Called once, last.
  void Finish();

  const RuleSet& rules;
  StateReader state;
  ImagePool& images;  // working images (ImagePool::Lease)
  const std::uint64_t seq;
  Decision* const d;

 private:
  StateDelta* delta_;
  std::uint32_t next_intent_ = 0;
};

// "LDAP account uid=jdoe,ou=people,dc=example,dc=com", "mail group
// staff@example.com".
std::string Describe(Side side, ObjectKind kind, std::string_view id,
                     std::string_view dn);
// "a, b and c".
std::string JoinNames(const std::vector<std::string>& names);

const ObjectMap& MapFor(const ConnectorRules& c, ObjectKind kind);
// The address an LDAP entry with `attrs` maps to under `map` ("" without a
// name value, map or domain).
std::string LdapAddress(const AttrList& attrs, const ObjectMap* map,
                        std::string_view domain);
const ImagePlan& PlanFor(const ConnectorRules& c, ObjectKind kind);
// Whether a change seen on `from` is written to the other side.
bool Propagates(Direction d, Side from);
// The side a conflict resolution lets win (both_ways), or false for
// no_change.
bool Winner(ConflictResolution r, Side* winner);

// The field image of an object as it stands (replay/field_image.h), into
// `*out`.
void ImageOf(const ObjectState& o, const ImagePlan& plan, StateReader* state,
             ImageBuffer* out, std::vector<std::string>* unresolved = nullptr,
             RefusedAliases* refused = nullptr);
void ImageOfAttrs(Side side, const AttrList& attrs, std::string_view dn,
                  std::string_view address, const ImagePlan& plan,
                  StateReader* state, ImageBuffer* out,
                  std::vector<std::string>* unresolved = nullptr,
                  RefusedAliases* refused = nullptr,
                  std::string_view own_id = {});

// Visits the union of field names of three canonical lists, in order, with
// each list's values (empty when absent).
template <typename Fn>
inline void Walk3(const AttrList& a, const AttrList& b, const AttrList& c,
                  Fn&& fn) {
  static const std::vector<std::string> kNone;
  size_t i = 0, j = 0, k = 0;
  while (i < a.size() || j < b.size() || k < c.size()) {
    const std::string* name = i < a.size() ? &a[i].name : nullptr;
    if (j < b.size() && (!name || CompareIgnoreCase(b[j].name, *name) < 0))
      name = &b[j].name;
    if (k < c.size() && (!name || CompareIgnoreCase(c[k].name, *name) < 0))
      name = &c[k].name;
    auto holds = [name](const AttrList& list, size_t at) {
      return at < list.size() &&
             (&list[at].name == name || EqualsIgnoreCase(list[at].name, *name));
    };
    const bool in_a = holds(a, i);
    const bool in_b = holds(b, j);
    const bool in_c = holds(c, k);
    fn(*name, in_a ? a[i].values : kNone, in_b ? b[j].values : kNone,
       in_c ? c[k].values : kNone);
    i += in_a;
    j += in_b;
    k += in_c;
  }
}

// The two sides of a link as they stand after a decision.
struct LinkSides {
  const AttrList* ldap = nullptr;  // field image; nullptr when absent
  const AttrList* mail = nullptr;
  std::string ldap_address;  // the LDAP entry's mail address
};

// Keeps a link's bookkeeping true to the sides after a decision:
//   - agreed: every field on which both sides now agree;
//   - conflict: the open conflict keeps (and `opened` adds) only fields on
//     which the sides still differ ("exists": one side is missing), erased
//     when none is left;
//   - drift (one-way connectors): kept, or created when `create_drift`, with
//     the fields that differ, erased when none does;
//   - the link itself: written when `changed` or agreed moved; erased, with
//     its conflict and drift, when both sides are gone.
void SettleLink(DecisionBuilder& b, const ConnectorRules* connector,
                const LinkState& link, bool changed, const LinkSides& sides,
                const std::vector<std::string>& opened, bool create_drift);

// The LDAP entry `ldap_dn` and the mail object `address` are now known to
// be counterparts (linked, or one being created for the other): groups that
// wait for either as a member get it added on the other side.
void ReleaseMemberWaits(DecisionBuilder& b, std::string_view ldap_dn,
                        std::string_view address);

// LDAP group membership, indexed by member DN (rules version 7). OpenLDAP's
// referential integrity (memberof-refint, refint) drops a deleted entry's
// DN from its groups (and rewrites a moved one's) without reporting the
// groups: their entryCSN stays, so no refresh or persist phase carries
// them. The reconciler does the same to its image of the groups, so that
// an entry added later at that DN is not taken for a member LDAP lost.
// Whether the rules in force keep the index and drop such members.
bool DropsLeftMembers(const DecisionBuilder& b);
// The LDAP group `group_id`'s member DNs went from `before` to `after`
// (either null: the group was not known, or is gone); the index follows.
void IndexLdapMembers(DecisionBuilder& b, const std::string& group_id,
                      const AttrList* before, const AttrList* after,
                      const std::string& member_attribute);
// The LDAP entry `id` at `dn` left the directory (or the scope): each LDAP
// group listing it drops it from its image, as the directory did, and
// remembers it (an entry moved out is renamed in its groups, and renamed
// back when it returns). Returns the groups' ids; their DNs in `group_dns`.
// A group reported since the refresh of `source` that reports the delete
// began is left as reported (it was read after the delete); so is a group
// that must have a member and lists only this one (rules version 9).
std::vector<std::string> DropLeftMember(DecisionBuilder& b, std::string_view id,
                                        std::string_view dn,
                                        std::string_view source,
                                        std::vector<std::string>* group_dns);
// Rules version 11: the LDAP entry `id` at `dn` left the scope, not the
// directory: it is at `remains_at` now (moved out of the base DNs, or out of
// the filter). Each LDAP group listing it lists `remains_at` instead in its
// image, as the directory's referential integrity renamed it (a group that
// must have a member keeps it so too), a member without a counterpart; the
// groups and `remains_at` are remembered for its return. Returns the
// groups' ids; their DNs in `group_dns`. A group reported since the refresh
// of `source` began is left as reported.
std::vector<std::string> FollowLeftMember(DecisionBuilder& b,
                                          std::string_view id,
                                          std::string_view dn,
                                          std::string_view remains_at,
                                          std::string_view source,
                                          std::vector<std::string>* group_dns);
// Where the LDAP entry `id` that left the scope remains (FollowLeftMember),
// as long as it has not returned; empty when it is not known to remain.
std::string RemainsAt(DecisionBuilder& b, std::string_view id);
// Rules version 11: the LDAP entry `id` was renamed from `from` to `to`
// (in the scope): each LDAP group listing it by `from` lists it by `to` in
// its image, as the directory's referential integrity renamed it without
// reporting the group (a group reported since the refresh of `source`
// began is left as reported). Returns the groups' DNs.
std::vector<std::string> FollowRenamedMember(DecisionBuilder& b,
                                             std::string_view id,
                                             std::string_view from,
                                             std::string_view to,
                                             std::string_view source);
// Rules version 9: the LDAP entry `id` (of `kind`) left `dn`: its DN and
// its mail object's address (its link's, else `fallback_address`) are
// paired as a gone member (GoneDnKey, replay/field_image.h), replacing
// earlier pairs of either.
void RememberGoneMember(DecisionBuilder& b, ObjectKind kind,
                        const std::string& id, const std::string& dn,
                        const std::string& fallback_address = "");
// An entry is at `dn` now: the gone member there is forgotten.
void ForgetGoneMember(DecisionBuilder& b, const std::string& dn);
// Rules version 7: where a refresh of a source began (until it ends), for
// DropLeftMember.
void MarkRefresh(DecisionBuilder& b, const RefreshPhase& p);
// LDAP group `gid` no longer lists the member whose mail counterpart is
// `address` (of `kind`): when that object goes too, its mail group loses
// the address (a mail directory keeps a deleted account's address among a
// group's members).
void MailGroupLoses(DecisionBuilder& b, const std::string& gid, ObjectKind kind,
                    const std::string& address);
// LDAP group `gid` gets the member `dn` back: the entry was created again
// for its mail counterpart `address`, which stayed in the mail group.
void LdapGroupGets(DecisionBuilder& b, const std::string& gid,
                   const std::string& dn, const std::string& address);
// The LDAP entry `id` that left is back (the same id: moved into the base
// again) at `dn`: the groups it was dropped from list it again, as the
// directory's referential integrity renamed it back. From rules version 11
// (FollowLeftMember), the groups that list it where it remained, and only
// those, list it at `dn` instead. Returns their ids.
std::vector<std::string> RestoreReturningMember(DecisionBuilder& b,
                                                std::string_view id,
                                                std::string_view dn);
// LDAP group `gid` lists `dn` again: its mail group gets `address`, the
// entry's mail counterpart; without one yet, the group waits for it.
void GiveBackMember(DecisionBuilder& b, const std::string& gid,
                    const std::string& dn, const std::string& address);
// The wait key under which mail `address`, deleted while the LDAP entry
// for it was being created, keeps that entry's Add (the waiter: the intent
// id), so that the address added again meets the entry being created
// instead of creating a second one (rules version 7).
std::string CreatingWaitKey(ObjectKind kind, std::string_view address);
// The pending LDAP Add of the entry being created for mail `address`, that
// a delete of the mail object left waiting (CreatingWaitKey); null when
// none. Its wait is erased (as is any other left for the address).
const PendingIntent* TakeCreatingWait(DecisionBuilder& b, ObjectKind kind,
                                      std::string_view address);
// LDAP Add `add` is decided (done or failed): the wait its mail object's
// delete left for it, if any, is erased.
void ReleaseCreatingWait(DecisionBuilder& b, const Intent& add);

// The wait key of an LDAP entry waiting for mail `address` to be free.
std::string AddressWaitKey(ObjectKind kind, std::string_view address);
// Mail `address` is let go by its LDAP entry (deleted, renamed away): the
// first entry waiting for it takes it: it is linked to the address and the
// mail object is created for it (after this decision's own intents), or,
// when `mail_after` stays there, takes its values. One way from mail (rules
// version 5), the entry takes the address only when `mail_after` stays,
// and is written its values instead. `old_link` (may be null) is the
// holder's link, dropped when the address is taken. Returns the DN of the
// entry that took the address ("" when none did).
// `key` (when not empty) names the waits instead of AddressWaitKey.
std::string ReleaseAddressWaits(DecisionBuilder& b, ObjectKind kind,
                                std::string_view address,
                                const LinkState* old_link,
                                const ObjectState* mail_after,
                                std::string_view key = {});

// The wait key of an LDAP entry waiting for its mail `address`, which
// another mail object holds as an alias, to be let go (rules version 7).
std::string AliasWaitKey(ObjectKind kind, std::string_view address);
// From rules version 7: the mail objects `delta` changes or deletes that
// let go of an alias an LDAP entry waits for (AliasWaitKey), no other mail
// object holding it: the first entry waiting is created on the mail side
// (ReleaseAddressWaits), and its `refused_address` record no longer says
// it waits. Called once per decision, before its intents are recorded.
void ReleaseAliasWaits(DecisionBuilder& b, const StateDelta& delta);

// Failure records (replay/reconcile_failures.cc), kept from rules version 3
// on: each does nothing under earlier versions.
bool KeepsFailures(const DecisionBuilder& b);
// The object a failed write of `i` is recorded against on i.target.
std::string FailureObject(const Intent& i);
void OpenFailedWrite(DecisionBuilder& b, const Intent& i,
                     const std::string& message);
// A write of `i` succeeded: a failed write of the same object is resolved.
void ClearFailedWrite(DecisionBuilder& b, const Intent& i);
void OpenObjectError(DecisionBuilder& b, const ObjectError& e);
// `c`, decided `v`, resolves the failures it shows resolved.
void ResolveByObservation(DecisionBuilder& b, const ObservedChange& c,
                          const Verdict& v);
Verdict DecideDismiss(DecisionBuilder& b, const OperatorAction& a);

// Decides one observed change (also used for deletes released from a hold).
Verdict DecideChange(DecisionBuilder& b, const ObservedChange& change);
// Deletes that wait (rules 3, replay/reconcile_delay.cc).
// Whether `change` is a delete that waits: taken with delete_delay_s, of a
// known object, under rules 3.
bool DelaysDelete(DecisionBuilder& b, const ObservedChange& change);
// Puts the delete in its source's window (or the hold the window became),
// and holds the window whole when it exceeds delete_threshold.
Verdict DecideDelayedDelete(DecisionBuilder& b, const ObservedChange& change,
                            std::int64_t time_us);
// A change of an object whose delete waits in its source's window (or is
// held in the hold the window became): the delete is taken out. Returns
// what was cancelled ("" when nothing).
std::string CancelWaitingDelete(DecisionBuilder& b,
                                const ObservedChange& change);
// Decides the deletes of window `action.hold_id` that are due at `time_us`.
Verdict DecideRelease(DecisionBuilder& b, const OperatorAction& action,
                      std::int64_t time_us);
// Decides a write outcome.
Verdict DecideOutcome(DecisionBuilder& b, const WriteOutcome& outcome);

}  // namespace dirledger

#endif  // DIRLEDGER_REPLAY_RECONCILE_INTERNAL_H_

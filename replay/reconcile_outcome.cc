// The reconciler's rules for a write outcome (docs/rules.md, "Outcomes"):
// the projection learns what was written, links what was created, and a
// failure undoes the bookkeeping its intent was decided with.
#include <optional>

#include "replay/field_image.h"
#include "replay/intent_writes.h"
#include "replay/ldap_entry.h"
#include "replay/reconcile_internal.h"

namespace dirledger {
namespace {

// The mail address an LDAP write was made for: its source when that is a
// mail object (whose id is its address; LDAP ids, entryUUIDs and
// objectGUIDs, hold no "@"), else "".
std::string MailSourceAddress(const Intent& i) {
  return i.source_id.find('@') == std::string::npos ? std::string()
                                                    : i.source_id;
}

std::string What(const Intent& i) {
  std::string out(IntentOpName(i.op));
  out += " of ";
  out += Describe(i.target, i.kind,
                  i.target_id.empty() || IsMailRename(i) ? i.dn : i.target_id,
                  i.dn);
  if (i.op == IntentOp::kRename) out += " to " + i.new_dn;
  return out;
}

// A decision-time step of a failed intent is taken back.
void Undo(DecisionBuilder& b, const Intent& i) {
  if (i.op == IntentOp::kAdd && i.target == Side::kMail) {
    const LinkState* link = b.state.LinkByMail(i.kind, i.target_id);
    if (link && link->mail_id == i.target_id &&
        !b.state.Object(Side::kMail, i.kind, i.target_id)) {
      b.Put(EraseLink{i.kind, link->ldap_id, link->mail_id});
      if (b.state.Conflict(i.kind, link->ldap_id))
        b.Put(EraseConflict{i.kind, link->ldap_id});
      if (b.state.Drift(i.kind, link->ldap_id))
        b.Put(EraseDrift{i.kind, link->ldap_id});
    }
  } else if (i.op == IntentOp::kAdd && i.target == Side::kLdap) {
    const ObjectState* src = b.state.Object(Side::kMail, i.kind, i.source_id);
    if (src && src->creating_intent == i.id) {
      ObjectState o = *src;
      o.creating_intent = 0;
      b.Put(PutObject{std::move(o)});
    }
  } else if (IsMailRename(i)) {
    const ObjectState* old = b.state.Object(Side::kMail, i.kind, i.dn);
    if (old && old->leaving_intent == i.id) {
      ObjectState o = *old;
      o.leaving_intent = 0;
      b.Put(PutObject{std::move(o)});
    }
    const LinkState* link = b.state.LinkByMail(i.kind, i.target_id);
    if (link && link->mail_id == i.target_id) {
      LinkState back = *link;
      back.mail_id = i.dn;
      back.version = b.seq;
      b.Put(PutLink{std::move(back)});
    }
  }
}

// The mail object an LDAP entry was created for changed, or went, while the
// entry was being created: the entry follows it now. Returns what was done
// ("" when nothing).
std::string FollowCreated(DecisionBuilder& b, const ConnectorRules& cr,
                          const ObjectState& entry, const ObjectState* mail,
                          const std::string& source_id) {
  const ObjectMap& map = MapFor(cr, entry.kind);
  Intent i;
  i.target = Side::kLdap;
  i.kind = entry.kind;
  i.target_id = entry.id;
  i.dn = entry.dn;
  i.domain = entry.domain;
  i.connector = entry.connector;
  i.source_id = source_id;
  i.expected_version = b.seq;
  if (!mail) {
    if (!Propagates(cr.config.direction, Side::kMail)) return "";
    i.op = IntentOp::kDelete;
    b.AddIntent(std::move(i));
    return "; " + source_id + " was deleted meanwhile, so the entry is deleted";
  }
  const ImagePlan& plan = PlanFor(cr, entry.kind);
  ImagePool::Lease want_buffer(&b.images), have_buffer(&b.images);
  ImageOf(*mail, plan, &b.state, want_buffer.get());
  ImageOf(entry, plan, &b.state, have_buffer.get());
  const AttrList& want = want_buffer.list();
  const AttrList& have = have_buffer.list();
  AttrList fields;
  std::vector<std::string> adds, dels;
  for (const std::string& f : DiffFields(want, have)) {
    if (EqualsIgnoreCase(f, field::kMembers)) {
      for (const std::string& m : AttrValues(want, f))
        if (!HasValueIgnoreCase(AttrValues(have, f), m)) {
          std::string dn = MemberDnOfAddress(
              m, &b.state, b.rules.config().reconciler_rules >= 10);
          if (!dn.empty()) adds.push_back(std::move(dn));
        }
      for (const std::string& m : AttrValues(have, f))
        if (!HasValueIgnoreCase(AttrValues(want, f), m)) {
          std::string dn = MemberDnOfAddress(
              m, &b.state, b.rules.config().reconciler_rules >= 10);
          if (!dn.empty()) dels.push_back(std::move(dn));
        }
      continue;
    }
    fields.push_back(Attribute{f, AttrValues(want, f)});
  }
  LdapWrites(fields, map, entry.attrs, entry.address, &i.set, &i.expect,
             RefusedAddresses(entry.attrs, entry.dn, entry.address, plan,
                              &b.state, entry.id));
  if (!adds.empty())
    i.add_values.push_back(Attribute{map.members_attribute, adds});
  if (!dels.empty())
    i.delete_values.push_back(Attribute{map.members_attribute, dels});
  if (i.set.empty() && adds.empty() && dels.empty()) return "";
  i.op = IntentOp::kModify;
  std::vector<std::string> names = DiffFields(want, have);
  b.AddIntent(std::move(i));
  return "; " + source_id + " changed " + JoinNames(names) +
         " meanwhile: written to the new entry";
}

}  // namespace

std::string LdapAddress(const AttrList& attrs, const ObjectMap* map,
                        std::string_view domain) {
  if (!map) return "";
  std::string_view name = FirstValue(attrs, map->name_attribute);
  if (name.empty() || domain.empty()) return "";
  return AsciiLower(name) + "@" + AsciiLower(domain);
}

Verdict DecideOutcome(DecisionBuilder& b, const WriteOutcome& o) {
  b.Id(o.target_id);
  b.Id(o.assigned_id);
  const std::string ref = "intent " + IntentName(o.intent_id);
  const PendingIntent* pending = b.state.Pending(o.intent_id);
  if (!pending) {
    const std::string target =
        std::string(SideName(o.side)) + " object " + o.target_id;
    if (o.ok)
      return Verdict{"outcome/no-pending", Outcome::kApplied,
                     ref + " on " + target +
                         " is done; it was no longer pending (its echo came "
                         "first, or it was superseded): nothing to update"};
    return Verdict{"outcome/failed", Outcome::kFailed,
                   ref + " on " + target + " failed: " + o.message};
  }
  const Intent& i = pending->intent;  // stable for the decision
  b.Id(i.target_id);
  b.Id(i.dn);
  b.Id(i.new_dn);
  b.Id(i.source_id);
  if (o.side != i.target || (!o.target_id.empty() && !i.target_id.empty() &&
                             o.target_id != i.target_id))
    return Verdict{"outcome/mismatch", Outcome::kError,
                   "the outcome of " + ref + " names " +
                       std::string(SideName(o.side)) + " object " +
                       o.target_id + ", but the intent is the " + What(i) +
                       "; ignored"};
  if (!o.ok) {
    b.Put(ErasePending{i.id});
    Undo(b, i);
    if (b.rules.config().reconciler_rules >= 7) ReleaseCreatingWait(b, i);
    OpenFailedWrite(b, i, o.message);
    return Verdict{"outcome/failed", Outcome::kFailed,
                   What(i) + " (" + ref + ") failed: " + o.message +
                       "; the sides stay as they are"};
  }

  const ConnectorRules* cr = b.rules.connector(i.connector);
  const ObjectMap* map = cr ? &MapFor(*cr, i.kind) : nullptr;
  const Side other = OtherSide(i.target);
  std::string target_id = i.target_id;
  if (i.target == Side::kLdap && i.op == IntentOp::kAdd) {
    // The id the server gave the entry: a rollback's Add (rules version 3)
    // names the old id, which the server may not have taken.
    if (!o.assigned_id.empty()) target_id = o.assigned_id;
  } else if (target_id.empty() && i.target == Side::kLdap) {
    if (const std::string_view* id = b.state.IdByDn(Side::kLdap, i.dn))
      target_id = *id;
  }
  const ObjectState* target =
      target_id.empty() ? nullptr : b.state.Object(i.target, i.kind, target_id);
  std::optional<ObjectState> changed;  // the target's new state, if any
  const ObjectState* after = target;   // the target after this outcome
  std::optional<LinkState> new_link;
  std::string follow;  // what the new entry's creation was followed by
  bool keep_pending = !o.already_applied && !i.target_id.empty();
  bool retarget = false;

  switch (i.op) {
    case IntentOp::kAdd: {
      // Its mail object, deleted meanwhile, no longer meets it when added
      // again: the entry is there (rules version 7).
      if (b.rules.config().reconciler_rules >= 7) ReleaseCreatingWait(b, i);
      if (!target && !target_id.empty()) {
        ObjectState n;
        n.side = i.target;
        n.kind = i.kind;
        n.id = target_id;
        n.dn = i.target == Side::kMail ? target_id : i.dn;
        n.domain = i.domain;
        n.connector = i.connector;
        n.attrs = i.set;
        CanonicalizeAttrs(&n.attrs);
        DropEmptyAttrs(&n.attrs);
        n.address = i.target == Side::kMail
                        ? target_id
                        : LdapAddress(n.attrs, map, i.domain);
        n.version = b.seq;
        changed = n;
        after = &*changed;
        b.Put(PutObject{std::move(n)});
      }
      if (target_id.empty()) break;
      // Link the new object to its counterpart: the object the intent
      // mirrors, else the unlinked one with its address.
      const ObjectState* partner = nullptr;
      if (!i.source_id.empty()) {
        partner = b.state.Object(other, i.kind, i.source_id);
      } else if (after && !after->address.empty()) {
        if (i.target == Side::kLdap) {
          partner = b.state.Object(Side::kMail, i.kind, after->address);
        } else if (const std::string_view* pid = b.state.IdByAddress(
                       Side::kLdap, i.kind, after->address)) {
          partner = b.state.Object(Side::kLdap, i.kind, *pid);
        }
      }
      if (partner) {
        const std::string ldap_id =
            i.target == Side::kLdap ? target_id : partner->id;
        const std::string mail_id =
            i.target == Side::kMail ? target_id : partner->id;
        const LinkState* by_ldap = b.state.LinkByLdap(i.kind, ldap_id);
        const LinkState* by_mail = b.state.LinkByMail(i.kind, mail_id);
        if (!by_ldap && !(by_mail && by_mail->mail_id == mail_id)) {
          LinkState l;
          l.kind = i.kind;
          l.ldap_id = ldap_id;
          l.mail_id = mail_id;
          l.domain = i.domain;
          l.connector = i.connector;
          l.version = b.seq;
          new_link = std::move(l);
          b.d->link_ldap_id = ldap_id;
          b.d->link_mail_id = mail_id;
          const ObjectState* ldap_obj =
              i.target == Side::kLdap ? after : partner;
          if (ldap_obj) ReleaseMemberWaits(b, ldap_obj->dn, mail_id);
        }
        if (partner->side == Side::kMail && partner->creating_intent == i.id) {
          ObjectState p = *partner;
          p.creating_intent = 0;
          b.Put(PutObject{std::move(p)});
          // Changes the mail object had while its entry was created.
          if (cr && after && new_link)
            follow = FollowCreated(b, *cr, *after, partner, partner->id);
        }
      } else if (i.target == Side::kLdap && !i.source_id.empty() && cr &&
                 after) {
        // The mail object it was created for is gone.
        follow = FollowCreated(b, *cr, *after, nullptr, i.source_id);
      }
      // A new LDAP entry's id is known now: its echo can be recognised.
      retarget = (i.target_id.empty() || target_id != i.target_id) &&
                 !o.already_applied;
      break;
    }
    case IntentOp::kModify: {
      if (target) {
        ObjectState n = *target;
        ApplyWritesWhereExpected(i, &n.attrs);
        if (n.attrs != target->attrs) {
          n.version = b.seq;
          changed = n;
          after = &*changed;
          b.Put(PutObject{std::move(n)});
        }
      }
      break;
    }
    case IntentOp::kDelete: {
      // The groups keep listing the DN of an entry dirledger deletes (its
      // assertion control keeps refint out): a gone member (rules version
      // 9), paired with the address of the mail object it was made for.
      if (target && i.target == Side::kLdap &&
          b.rules.config().reconciler_rules >= 9)
        RememberGoneMember(b, i.kind, target_id, target->dn,
                           MailSourceAddress(i));
      if (target) b.Put(EraseObject{i.target, i.kind, target_id});
      after = nullptr;
      break;
    }
    case IntentOp::kRename: {
      if (i.target == Side::kMail) {
        // Seen from the new address (target_id): the object at `dn` moves.
        if (target) break;  // its echo came first
        const ObjectState* old = b.state.Object(Side::kMail, i.kind, i.dn);
        if (!old) break;
        ObjectState n = *old;
        b.Put(EraseObject{Side::kMail, i.kind, i.dn});
        n.id = target_id;
        n.dn = target_id;
        n.address = target_id;
        n.source.clear();
        n.leaving_intent = 0;
        ApplyWritesWhereExpected(i, &n.attrs);
        n.version = b.seq;
        changed = n;
        after = &*changed;
        b.Put(PutObject{std::move(n)});
        break;
      }
      if (!target) break;
      ObjectState n = *target;
      n.dn = i.new_dn;
      ApplyWritesWhereExpected(i, &n.attrs);
      n.version = b.seq;
      changed = n;
      after = &*changed;
      b.Put(PutObject{std::move(n)});
      break;
    }
  }
  // What dirledger wrote to an LDAP group is in its member index (rules
  // version 7), as what the group reports is.
  if (i.target == Side::kLdap && i.kind == ObjectKind::kGroup && map &&
      !target_id.empty() && DropsLeftMembers(b))
    IndexLdapMembers(b, target_id, target ? &target->attrs : nullptr,
                     after ? &after->attrs : nullptr, map->members_attribute);
  ClearFailedWrite(b, i);
  if (keep_pending || retarget) {
    PendingIntent p = *pending;
    if (retarget) p.intent.target_id = target_id;
    p.applied = true;
    b.Put(PutPending{std::move(p)});
  } else {
    b.Put(ErasePending{i.id});
  }

  // The link of the target learns what the sides now agree on.
  if (map && !target_id.empty()) {
    std::optional<LinkState> link = new_link;
    if (!link) {
      const LinkState* l = i.target == Side::kLdap
                               ? b.state.LinkByLdap(i.kind, target_id)
                               : b.state.LinkByMail(i.kind, target_id);
      if (l && (i.target == Side::kLdap || l->mail_id == target_id)) link = *l;
    }
    if (link) {
      const std::string& other_id =
          i.target == Side::kLdap ? link->mail_id : link->ldap_id;
      const ObjectState* o2 = b.state.Object(other, i.kind, other_id);
      ImagePool::Lease ti_buffer(&b.images), oi_buffer(&b.images);
      const ImagePlan& plan = PlanFor(*cr, i.kind);
      if (after) ImageOf(*after, plan, &b.state, ti_buffer.get());
      if (o2) ImageOf(*o2, plan, &b.state, oi_buffer.get());
      const AttrList& ti = ti_buffer.list();
      const AttrList& oi = oi_buffer.list();
      LinkSides sides;
      const AttrList* tp = after ? &ti : nullptr;
      const AttrList* op = o2 ? &oi : nullptr;
      sides.ldap = i.target == Side::kLdap ? tp : op;
      sides.mail = i.target == Side::kMail ? tp : op;
      if (i.target == Side::kLdap && after) sides.ldap_address = after->address;
      if (other == Side::kLdap && o2) sides.ldap_address = o2->address;
      SettleLink(b, cr, *link, new_link.has_value(), sides, {}, false);
    }
  }
  return Verdict{"outcome/applied", Outcome::kApplied,
                 What(i) + " (" + ref + ") is done" +
                     (o.already_applied ? " (it was in place already)" : "") +
                     follow};
}

}  // namespace dirledger

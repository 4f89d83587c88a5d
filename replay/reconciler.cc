#include "replay/reconciler.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <tuple>

#include "replay/field_image.h"
#include "replay/intent_writes.h"
#include "replay/reconcile_internal.h"

namespace dirledger {

// ---------------------------------------------------------------------------
// DecisionBuilder and shared helpers.

std::uint64_t DecisionBuilder::AddIntent(Intent intent) {
  intent.id = MakeIntentId(seq, next_intent_++);
  const std::uint64_t id = intent.id;
  d->intents.push_back(std::move(intent));
  return id;
}

void DecisionBuilder::Apply(const Verdict& v) {
  d->rule = v.rule;
  d->outcome = v.outcome;
  d->reason = v.reason;
}

void DecisionBuilder::Finish() {
  ReleaseAliasWaits(*this, *delta_);
  for (const Intent& i : d->intents) {
    PendingIntent p;
    p.intent = i;
    p.decided_seq = seq;
    Put(PutPending{std::move(p)});
  }
  auto canonical = [](std::vector<std::string>* v) {
    std::sort(v->begin(), v->end());
    v->erase(std::unique(v->begin(), v->end()), v->end());
  };
  canonical(&d->object_ids);
  canonical(&d->conflict_fields);
}

std::string Describe(Side side, ObjectKind kind, std::string_view id,
                     std::string_view dn) {
  std::string out = side == Side::kLdap ? "LDAP " : "mail ";
  out += KindName(kind);
  out += ' ';
  out += side == Side::kLdap && !dn.empty() ? dn : id;
  return out;
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " and " : ", ";
    out += names[i];
  }
  return out;
}

const ObjectMap& MapFor(const ConnectorRules& c, ObjectKind kind) {
  return kind == ObjectKind::kAccount ? c.map.account : c.map.group;
}

bool Propagates(Direction d, Side from) {
  switch (d) {
    case Direction::kBothWays:
      return true;
    case Direction::kLdapToAxigen:
      return from == Side::kLdap;
    case Direction::kAxigenToLdap:
      return from == Side::kMail;
  }
  return false;
}

bool Winner(ConflictResolution r, Side* winner) {
  switch (r) {
    case ConflictResolution::kLdapWins:
      *winner = Side::kLdap;
      return true;
    case ConflictResolution::kAxigenWins:
      *winner = Side::kMail;
      return true;
    case ConflictResolution::kNoChange:
      return false;
  }
  return false;
}

const ImagePlan& PlanFor(const ConnectorRules& c, ObjectKind kind) {
  return kind == ObjectKind::kAccount ? c.account_plan : c.group_plan;
}

void ImageOfAttrs(Side side, const AttrList& attrs, std::string_view dn,
                  std::string_view address, const ImagePlan& plan,
                  StateReader* state, ImageBuffer* out,
                  std::vector<std::string>* unresolved, RefusedAliases* refused,
                  std::string_view own_id) {
  if (side == Side::kMail) {
    MailImage(attrs, plan, address, out);
  } else {
    LdapImage(attrs, dn, address, plan, state, unresolved, out, refused,
              own_id);
  }
}

void ImageOf(const ObjectState& o, const ImagePlan& plan, StateReader* state,
             ImageBuffer* out, std::vector<std::string>* unresolved,
             RefusedAliases* refused) {
  ImageOfAttrs(o.side, o.attrs, o.dn, o.address, plan, state, out, unresolved,
               refused, o.id);
}

namespace {

AttrList Restrict(const AttrList* image,
                  const std::vector<std::string>& names) {
  AttrList out;
  if (!image) return out;
  for (const std::string& n : names)
    if (const Attribute* a = FindAttr(*image, n)) out.push_back(*a);
  return out;
}

}  // namespace

void SettleLink(DecisionBuilder& b, const ConnectorRules* connector,
                const LinkState& link, bool changed, const LinkSides& sides,
                const std::vector<std::string>& opened, bool create_drift) {
  const ConflictState* conflict = b.state.Conflict(link.kind, link.ldap_id);
  const DriftState* drift = b.state.Drift(link.kind, link.ldap_id);
  if (!sides.ldap && !sides.mail) {
    b.Put(EraseLink{link.kind, link.ldap_id, link.mail_id});
    if (conflict) b.Put(EraseConflict{link.kind, link.ldap_id});
    if (drift) b.Put(EraseDrift{link.kind, link.ldap_id});
    ReleaseAddressWaits(b, link.kind, link.mail_id, nullptr, nullptr);
    return;
  }
  static const AttrList kEmpty;
  const AttrList& l = sides.ldap ? *sides.ldap : kEmpty;
  const AttrList& m = sides.mail ? *sides.mail : kEmpty;

  // Agreed: every field both sides hold the same values of (absent on both
  // counts as agreeing on "no value"); the others keep their last agreed
  // values. Since rules version 10 a group's members agree value by value,
  // as they are merged (a member both sides list, or neither, is agreed;
  // one they differ on keeps its last agreed standing): before, one member
  // the sides could not agree on (one whose counterpart is gone) kept every
  // other member from being agreed, and a member one side then removed was
  // taken for the other side's addition and put back.
  const bool by_value = b.rules.config().reconciler_rules >= 10;
  auto agreed_of = [&](const std::string& name,
                       const std::vector<std::string>& lv,
                       const std::vector<std::string>& mv,
                       const std::vector<std::string>& av) {
    if (lv == mv || !by_value || !EqualsIgnoreCase(name, field::kMembers))
      return lv == mv ? lv : av;
    std::vector<std::string> out;
    for (const std::string& v : lv)
      if (HasValueIgnoreCase(mv, v)) out.push_back(v);
    for (const std::string& v : av)
      if (HasValueIgnoreCase(lv, v) != HasValueIgnoreCase(mv, v))
        out.push_back(v);
    CanonicalizeValues(&out);
    return out;
  };
  bool agreed_moves = false;
  if (sides.ldap && sides.mail)
    Walk3(l, m, link.agreed,
          [&](const std::string& name, const auto& lv, const auto& mv,
              const auto& av) {
            if (lv == mv
                    ? lv != av
                    : by_value && EqualsIgnoreCase(name, field::kMembers) &&
                          agreed_of(name, lv, mv, av) != av)
              agreed_moves = true;
          });
  if (changed || agreed_moves) {
    LinkState out = link;
    if (agreed_moves) {
      out.agreed.clear();
      Walk3(l, m, link.agreed,
            [&](const std::string& name, const auto& lv, const auto& mv,
                const auto& av) {
              std::vector<std::string> v = agreed_of(name, lv, mv, av);
              if (!v.empty())
                out.agreed.push_back(Attribute{name, std::move(v)});
            });
    }
    out.version = b.seq;
    b.Put(PutLink{std::move(out)});
  }

  auto differs = [&](const std::string& f) {
    if (f == "exists") return !sides.ldap != !sides.mail;
    return AttrValues(l, f) != AttrValues(m, f);
  };

  // Conflict.
  std::vector<std::string> fields = opened;
  if (conflict)
    fields.insert(fields.end(), conflict->fields.begin(),
                  conflict->fields.end());
  std::sort(fields.begin(), fields.end());
  fields.erase(std::unique(fields.begin(), fields.end()), fields.end());
  std::vector<std::string> keep;
  for (const std::string& f : fields)
    if (differs(f)) keep.push_back(f);
  if (keep.empty()) {
    if (conflict) b.Put(EraseConflict{link.kind, link.ldap_id});
  } else {
    ConflictState c;
    c.kind = link.kind;
    c.ldap_id = link.ldap_id;
    c.mail_id = link.mail_id;
    c.domain = link.domain;
    c.connector = link.connector;
    c.fields = keep;
    c.ldap_values = Restrict(sides.ldap, keep);
    c.mail_values = Restrict(sides.mail, keep);
    c.opened_seq = conflict ? conflict->opened_seq : b.seq;
    if (!conflict || !(c == *conflict)) b.Put(PutConflict{std::move(c)});
  }

  // Drift (one-way connectors).
  const bool one_way =
      connector && connector->config.direction != Direction::kBothWays;
  if (one_way && (drift || create_drift)) {
    std::vector<std::string> dfields;
    if (!sides.ldap || !sides.mail) {
      dfields.push_back("exists");
    } else {
      dfields = DiffFields(l, m);
      if (!sides.ldap_address.empty() && sides.ldap_address != link.mail_id)
        dfields.push_back("address");
    }
    if (dfields.empty()) {
      if (drift) b.Put(EraseDrift{link.kind, link.ldap_id});
    } else {
      DriftState ds;
      ds.kind = link.kind;
      ds.ldap_id = link.ldap_id;
      ds.mail_id = link.mail_id;
      ds.domain = link.domain;
      ds.connector = link.connector;
      ds.fields = std::move(dfields);
      ds.since_seq = drift ? drift->since_seq : b.seq;
      if (!drift || !(ds == *drift)) b.Put(PutDrift{std::move(ds)});
    }
  } else if (!one_way && drift) {
    b.Put(EraseDrift{link.kind, link.ldap_id});
  }
}

// ---------------------------------------------------------------------------
// Events without sync meaning, holds, operator actions.

namespace {

std::string Hex(std::string_view bytes, size_t max) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < bytes.size() && i < max; ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

std::string_view ModeName(RefreshMode m) {
  switch (m) {
    case RefreshMode::kIncremental:
      return "incremental";
    case RefreshMode::kFull:
      return "full";
    case RefreshMode::kPresent:
      return "present";
    case RefreshMode::kDelete:
      return "delete";
  }
  return "unknown";
}

Verdict Record(std::string rule, std::string reason) {
  return Verdict{std::move(rule), Outcome::kRecorded, std::move(reason)};
}

Verdict DecideHold(DecisionBuilder& b, const DeleteHold& h) {
  b.Id(h.hold_id);
  for (const ObjectRef& r : h.deletes) {
    b.Id(r.id);
    b.Id(r.dn);
  }
  if (b.state.Hold(h.hold_id))
    return Verdict{
        "hold/duplicate", Outcome::kError,
        "hold " + h.hold_id + " exists already; this one is ignored"};
  HoldState s;
  s.hold = h;
  s.status = HoldStatus::kOpen;
  s.seq = b.seq;
  b.Put(PutHold{std::move(s)});
  return Verdict{"hold/open", Outcome::kHeld,
                 "hold " + h.hold_id + ": " + std::to_string(h.deletes.size()) +
                     " deletes from " + h.source +
                     " are held until approved (" + h.reason + ")"};
}

Verdict DecideApproval(DecisionBuilder& b, const OperatorAction& a) {
  b.Id(a.hold_id);
  const HoldState* found = b.state.Hold(a.hold_id);
  if (!found)
    return Verdict{"operator/unknown-hold", Outcome::kError,
                   "there is no hold " + a.hold_id + " to " +
                       std::string(ActionKindName(a.kind))};
  if (found->status != HoldStatus::kOpen)
    return Verdict{"operator/hold-closed", Outcome::kError,
                   "hold " + a.hold_id + " was " +
                       std::string(HoldStatusName(found->status)) +
                       " already, at seq " +
                       std::to_string(found->decided_seq)};
  HoldState hold = *found;
  hold.decided_seq = b.seq;
  const std::string by = a.actor.empty() ? "" : " by " + a.actor;
  if (a.kind == ActionKind::kReject) {
    hold.status = HoldStatus::kRejected;
    for (const ObjectRef& r : hold.hold.deletes) {
      b.Id(r.id);
      b.Id(r.dn);
    }
    const size_t n = hold.hold.deletes.size();
    b.Put(PutHold{std::move(hold)});
    return Verdict{"operator/reject", Outcome::kRejected,
                   "hold " + a.hold_id + " rejected" + by + ": its " +
                       std::to_string(n) + " deletes are not made"};
  }
  hold.status = HoldStatus::kApproved;
  // Each held object is decided as the delete it was, in the hold's order.
  std::set<std::tuple<Side, ObjectKind, std::string>> seen;
  std::map<std::string, int> counts;  // outcome name -> count (ordered)
  size_t decided = 0;
  for (const ObjectRef& r : hold.hold.deletes) {
    if (!seen.emplace(r.side, r.kind, r.id).second) continue;
    ObservedChange c;
    c.side = r.side;
    c.source = hold.hold.source;
    c.connector = hold.hold.connector;
    c.domain = r.domain;
    c.kind = r.kind;
    c.id = r.id;
    c.dn = r.dn;
    c.remains_at = r.remains_at;
    c.op = ChangeOp::kDelete;
    Verdict v = DecideChange(b, c);
    ++counts[std::string(OutcomeName(v.outcome))];
    ++decided;
  }
  std::string summary;
  for (const auto& [name, n] : counts) {
    if (!summary.empty()) summary += ", ";
    summary += std::to_string(n) + " " + name;
  }
  b.Put(PutHold{std::move(hold)});
  return Verdict{"operator/approve", Outcome::kReleased,
                 "hold " + a.hold_id + " approved" + by + ": " +
                     std::to_string(decided) + " deletes decided (" + summary +
                     ")"};
}

// The attribute of a group's members a rollback writes value by value
// (rules version 8), or "" where it replaces them whole. A group's image
// need not be all its members: LDAP's referential integrity renames the
// DN of a member moved out of the base, which the reconciler drops from
// its image (section 8 of docs/rules.md), so a replacement expecting the
// image was refused as a concurrent change; value additions and deletions
// leave such members as they are, as every other write of members does.
std::string RollbackMembersAttribute(const DecisionBuilder& b,
                                     const ObjectTarget& t) {
  if (t.kind != ObjectKind::kGroup || b.rules.config().reconciler_rules < 8)
    return "";
  if (t.side == Side::kMail) return std::string(field::kMembers);
  const ConnectorRules* c = b.rules.connector(t.connector);
  return c ? MapFor(*c, t.kind).members_attribute : "";
}

// The writes that bring `have` to `want` (both canonical): replacements
// expecting the values there, and the members of a group value by value
// when `members` names their attribute.
void RollbackWrites(const AttrList& have, const AttrList& want,
                    const std::string& members, Intent* i) {
  for (const std::string& n : DiffFields(have, want)) {
    const auto& w = AttrValues(want, n);
    const auto& h = AttrValues(have, n);
    if (!members.empty() && EqualsIgnoreCase(n, members)) {
      if (auto v = ValuesNotIn(w, h); !v.empty())
        i->add_values.push_back(Attribute{n, std::move(v)});
      if (auto v = ValuesNotIn(h, w); !v.empty())
        i->delete_values.push_back(Attribute{n, std::move(v)});
      continue;
    }
    i->set.push_back(Attribute{n, w});
    i->expect.push_back(Attribute{n, h});
  }
  CanonicalizeAttrs(&i->set);
  CanonicalizeAttrs(&i->expect);
}

// The mail object a rollback target is renamed back from (rules version
// 10), when it is there and the target's address is free; nullptr
// otherwise (the target is added as any other, and the object is left).
const ObjectState* RenamedBackFrom(DecisionBuilder& b, const ObjectTarget& t,
                                   const ObjectState* cur) {
  if (t.renamed_from.empty() || t.side != Side::kMail || !t.exists || cur ||
      b.rules.config().reconciler_rules < 10)
    return nullptr;
  return b.state.Object(Side::kMail, t.kind, t.renamed_from);
}

// The mail objects a rollback renames back: address now (lower case) ->
// address at the point.
std::map<std::string, std::string> RenamesBack(DecisionBuilder& b,
                                               const OperatorAction& a) {
  std::map<std::string, std::string> back;
  for (const ObjectTarget& t : a.targets)
    if (RenamedBackFrom(b, t, b.state.Object(t.side, t.kind, t.id)))
      back[AsciiLower(t.renamed_from)] = t.id;
  return back;
}

// Rules version 11: the LDAP entries a rollback moves back to their DN at
// the point: DN now (normalized) -> DN at the point. From rules version 12
// also those it adds again that left the scope, not the directory: the
// writer finds the entry where it remains and moves it back (its groups
// following, by referential integrity), so the groups' writes must name it
// at the DN it comes back to; before, they named the DN outside, which the
// move had already taken out of them, and the entry stayed in a group it
// had joined after the point.
std::map<std::string, std::string> LdapRenamesBack(DecisionBuilder& b,
                                                   const OperatorAction& a) {
  std::map<std::string, std::string> back;
  if (b.rules.config().reconciler_rules < 11) return back;
  for (const ObjectTarget& t : a.targets) {
    if (t.side != Side::kLdap || !t.exists || t.dn.empty()) continue;
    const ObjectState* cur = b.state.Object(t.side, t.kind, t.id);
    if (cur && !SameDn(cur->dn, t.dn)) back[NormalizeDn(cur->dn)] = t.dn;
    if (!cur && b.rules.config().reconciler_rules >= 12)
      if (const std::string at = RemainsAt(b, t.id); !at.empty())
        back[NormalizeDn(at)] = t.dn;
  }
  return back;
}

// A group's image as it will be once the renames back are made: the mail
// directory renames a member with its object (`back` keyed by lower-case
// address), LDAP's referential integrity a renamed entry's DN in the groups
// (`back` keyed by normalized DN; `dns`).
AttrList AfterRenamesBack(const std::map<std::string, std::string>& back,
                          const AttrList& attrs, std::string_view attribute,
                          bool dns) {
  AttrList out = attrs;
  Attribute* members = FindAttr(&out, attribute);
  if (!members) return out;
  for (std::string& m : members->values)
    if (auto it = back.find(dns ? NormalizeDn(m) : AsciiLower(m));
        it != back.end())
      m = it->second;
  CanonicalizeAttrs(&out);
  return out;
}

// Renames the mail object `from` back to the target's address, with the
// values the target had; its link moves with it, as an LDAP rename's does.
// `i` names the target side, kind, domain and connector.
void RenameBack(DecisionBuilder& b, const ObjectTarget& t,
                const ObjectState& from, Intent i) {
  AttrList target = t.attrs;
  CanonicalizeAttrs(&target);
  DropEmptyAttrs(&target);
  b.Id(from.id);
  const LinkState* link = b.state.LinkByMail(t.kind, from.id);
  if (link && link->mail_id != from.id) link = nullptr;
  i.op = IntentOp::kRename;
  i.target_id = t.id;
  i.dn = from.id;
  i.new_dn = t.id;
  if (link) i.source_id = link->ldap_id;
  i.expected_version = from.version;
  RollbackWrites(from.attrs, target, RollbackMembersAttribute(b, t), &i);
  const std::uint64_t id = b.AddIntent(std::move(i));
  ObjectState leaving = from;
  leaving.leaving_intent = id;
  b.Put(PutObject{std::move(leaving)});
  if (link) {
    LinkState moved = *link;
    moved.mail_id = t.id;
    moved.version = b.seq;
    b.Put(PutLink{std::move(moved)});
  }
}

// Rules version 11: the mail object at target `t`'s address now (`cur`) is
// renamed back away from it by this rollback (`back`, RenamesBack): the
// object `t` had at SEQ is added again there, after the rename.
bool AddedAfterRenameBack(DecisionBuilder& b, const ObjectTarget& t,
                          const ObjectState* cur,
                          const std::map<std::string, std::string>& back) {
  return t.side == Side::kMail && t.exists && cur &&
         b.rules.config().reconciler_rules >= 11 &&
         back.count(AsciiLower(t.id));
}

// Rules version 11: where a rollback target's writes go among the others.
// Each kind of write frees what a later one takes: deletes free addresses,
// aliases and DNs; renames back free the names they leave (an LDAP entry
// renamed onto a deleted entry's DN, a mail account at an address whose
// old one it holds as an alias); modifies drop aliases; then the adds take
// them. Groups go last, written as their members will be after the renames
// (LDAP's referential integrity renames a member's DN), and listing the
// entries made again. Before, in plan order, an add of an address or DN
// another object still held was refused.
int RollbackRank(DecisionBuilder& b, const ObjectTarget& t,
                 const std::map<std::string, std::string>& back) {
  const ObjectState* cur = b.state.Object(t.side, t.kind, t.id);
  if (!t.exists) return cur ? 0 : 2;  // a delete; nothing to do
  if (t.kind == ObjectKind::kGroup) return 4;
  if (RenamedBackFrom(b, t, cur)) return 1;
  if (!cur || AddedAfterRenameBack(b, t, cur, back)) return 3;  // an add
  if (t.side == Side::kLdap && !t.dn.empty() && !SameDn(t.dn, cur->dn))
    return 1;
  return 2;
}

// Brings each target object from its current image to the target image.
Verdict DecideRollback(DecisionBuilder& b, const OperatorAction& a) {
  size_t adds = 0, changes = 0, deletes = 0, renames = 0;
  const std::map<std::string, std::string> back = RenamesBack(b, a);
  const std::map<std::string, std::string> ldap_back = LdapRenamesBack(b, a);
  std::vector<const ObjectTarget*> order;
  for (const ObjectTarget& t : a.targets) order.push_back(&t);
  if (b.rules.config().reconciler_rules >= 11)
    std::stable_sort(order.begin(), order.end(),
                     [&](const ObjectTarget* x, const ObjectTarget* y) {
                       return RollbackRank(b, *x, back) <
                              RollbackRank(b, *y, back);
                     });
  for (const ObjectTarget* target : order) {
    const ObjectTarget& t = *target;
    b.Id(t.id);
    b.Id(t.dn);
    const ObjectState* cur = b.state.Object(t.side, t.kind, t.id);
    Intent i;
    i.target = t.side;
    i.kind = t.kind;
    i.domain = t.domain;
    i.connector = t.connector;
    if (const ObjectState* from = RenamedBackFrom(b, t, cur)) {
      RenameBack(b, t, *from, std::move(i));
      ++renames;
      continue;
    }
    if (t.exists && (!cur || AddedAfterRenameBack(b, t, cur, back))) {
      i.op = IntentOp::kAdd;
      // From rules version 3 an LDAP entry's Add names its old id: the
      // writer brings the entry back with it where the server allows
      // (OpenLDAP: entryUUID under the Relax Rules control; AD: the
      // tombstone reanimated), else the entry gets a new one, which the
      // outcome reports.
      i.target_id =
          t.side == Side::kMail || b.rules.config().reconciler_rules >= 3 ? t.id
                                                                          : "";
      i.dn = t.side == Side::kMail ? t.id : t.dn;
      i.set = t.attrs;
      CanonicalizeAttrs(&i.set);
      DropEmptyAttrs(&i.set);
      b.AddIntent(std::move(i));
      ++adds;
    } else if (t.exists && cur) {
      if (t.side == Side::kLdap && !t.dn.empty() && !SameDn(t.dn, cur->dn)) {
        Intent r = i;
        r.op = IntentOp::kRename;
        r.target_id = t.id;
        r.dn = cur->dn;
        r.new_dn = t.dn;
        r.expected_version = cur->version;
        b.AddIntent(std::move(r));
        ++renames;
      }
      AttrList target = t.attrs;
      CanonicalizeAttrs(&target);
      DropEmptyAttrs(&target);
      // A member renamed back before this write is at its old address (or
      // DN: rules version 11, the groups written after the entries).
      const std::string members = RollbackMembersAttribute(b, t);
      const AttrList* have = &cur->attrs;
      AttrList renamed;
      if (!back.empty() && t.side == Side::kMail &&
          t.kind == ObjectKind::kGroup) {
        renamed = AfterRenamesBack(back, cur->attrs, field::kMembers, false);
        have = &renamed;
      } else if (!ldap_back.empty() && t.side == Side::kLdap &&
                 !members.empty()) {
        renamed = AfterRenamesBack(ldap_back, cur->attrs, members, true);
        have = &renamed;
      }
      RollbackWrites(*have, target, members, &i);
      if (!i.set.empty() || !i.add_values.empty() || !i.delete_values.empty()) {
        i.op = IntentOp::kModify;
        i.target_id = t.id;
        i.dn = t.side == Side::kMail ? t.id : t.dn;
        i.expected_version = cur->version;
        b.AddIntent(std::move(i));
        ++changes;
      }
    } else if (!t.exists && cur) {
      i.op = IntentOp::kDelete;
      i.target_id = t.id;
      i.dn = cur->dn;
      i.expected_version = cur->version;
      b.AddIntent(std::move(i));
      ++deletes;
      // From rules version 4 the object's link goes with it: at the point
      // the object did not exist, so neither did its link. Kept, the link
      // named a partner that was gone, and the next change of the object
      // on the other side was taken as a delete still to catch up
      // (`delete/catch-up`): a rollback to before the first sync deleted
      // the LDAP groups that existed before it. Without the link, the next
      // change of that object is synced as a new one.
      if (b.rules.config().reconciler_rules >= 4) {
        const LinkState* link = t.side == Side::kMail
                                    ? b.state.LinkByMail(t.kind, t.id)
                                    : b.state.LinkByLdap(t.kind, t.id);
        if (link) {
          const LinkState gone = *link;
          b.Put(EraseLink{gone.kind, gone.ldap_id, gone.mail_id});
          if (b.state.Conflict(gone.kind, gone.ldap_id))
            b.Put(EraseConflict{gone.kind, gone.ldap_id});
          if (b.state.Drift(gone.kind, gone.ldap_id))
            b.Put(EraseDrift{gone.kind, gone.ldap_id});
        }
      }
    }
  }
  std::string by = a.actor.empty() ? "" : " by " + a.actor;
  std::string scope;
  if (!a.side_filter.empty()) scope += " (side " + a.side_filter;
  if (!a.domain_filter.empty())
    scope +=
        std::string(scope.empty() ? " (" : ", ") + "domain " + a.domain_filter;
  if (!scope.empty()) scope += ")";
  return Verdict{"operator/rollback", Outcome::kRolledBack,
                 "rollback to seq " + std::to_string(a.to_seq) + by + scope +
                     ": " + std::to_string(adds) + " adds, " +
                     std::to_string(changes) + " changes, " +
                     std::to_string(renames) + " renames, " +
                     std::to_string(deletes) + " deletes"};
}

struct Dispatch {
  DecisionBuilder& b;
  std::int64_t time_us;  // the event's

  Verdict operator()(const ObservedChange& c) {
    if (DelaysDelete(b, c)) return DecideDelayedDelete(b, c, time_us);
    std::string cancelled = CancelWaitingDelete(b, c);
    Verdict v = DecideChange(b, c);
    if (!cancelled.empty()) v.reason = cancelled + "; " + v.reason;
    ResolveByObservation(b, c, v);
    return v;
  }
  Verdict operator()(const CursorAdvance& c) {
    return Record("record/cursor", c.source + " resumes from a new cursor (" +
                                       std::to_string(c.cookie.size()) +
                                       " bytes)");
  }
  Verdict operator()(const RefreshPhase& p) {
    if (DropsLeftMembers(b)) MarkRefresh(b, p);
    std::string what = p.source + " " + std::string(ModeName(p.mode)) +
                       " refresh " +
                       (p.kind == PhaseKind::kBegin ? "began" : "ended");
    if (p.kind == PhaseKind::kEnd)
      what += ": " + std::to_string(p.entries) + " entries, " +
              std::to_string(p.present) + " present, " +
              std::to_string(p.missing) + " missing";
    return Record("record/phase", what);
  }
  Verdict operator()(const ConfigChange& c) {
    return Record("record/config",
                  "config " +
                      (c.path.empty() ? std::string("(in memory)") : c.path) +
                      " (sha256 " + Hex(c.sha256, 6) + ") in force from here");
  }
  Verdict operator()(const OperatorAction& a) {
    switch (a.kind) {
      case ActionKind::kApprove:
      case ActionKind::kReject:
        return DecideApproval(b, a);
      case ActionKind::kRollback:
        return DecideRollback(b, a);
      case ActionKind::kDismiss:
        return DecideDismiss(b, a);
      case ActionKind::kRelease:
        if (b.rules.config().reconciler_rules >= 3)
          return DecideRelease(b, a, time_us);
        break;
      case ActionKind::kRestore:
      case ActionKind::kNote:
      case ActionKind::kMailAdmin:
        break;
    }
    std::string who = a.actor.empty() ? "an operator" : a.actor;
    return Record("record/operator",
                  std::string(ActionKindName(a.kind)) + " by " + who +
                      (a.command.empty() ? "" : ": " + a.command));
  }
  Verdict operator()(const WriteOutcome& o) { return DecideOutcome(b, o); }
  Verdict operator()(const DeleteHold& h) { return DecideHold(b, h); }
  Verdict operator()(const ObjectError& e) {
    b.Id(e.id);
    b.Id(e.dn);
    OpenObjectError(b, e);
    return Verdict{"error/object", Outcome::kError,
                   std::string(SideName(e.side)) + " object " +
                       (e.dn.empty() ? e.id : e.dn) + " from " + e.source +
                       " was not taken: " + e.message};
  }
};

}  // namespace

void Reconcile(const ProjectionView& state, const Event& event,
               const RuleSet& rules, Decision* decision, StateDelta* delta) {
  ReconcileScratch scratch;
  Reconcile(state, event, rules, decision, delta, &scratch);
}

void Reconcile(const ProjectionView& state, const Event& event,
               const RuleSet& rules, Decision* decision, StateDelta* delta,
               ReconcileScratch* scratch) {
  decision->seq = event.seq;
  decision->rule.clear();
  decision->outcome = Outcome::kRecorded;
  decision->reason.clear();
  decision->intents.clear();
  decision->link_ldap_id.clear();
  decision->link_mail_id.clear();
  decision->conflict_fields.clear();
  decision->winner = Side::kLdap;
  decision->object_ids.clear();
  delta->clear();
  DecisionBuilder b(state, rules, event.seq, decision, delta, &scratch->images);
  b.Apply(std::visit(Dispatch{b, event.time_us}, event.body));
  b.Finish();
}

}  // namespace dirledger

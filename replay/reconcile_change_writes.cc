// ChangeDecider: the intents a decision makes (writes, renames, member
// DNs), and renames planned again when what they moved changed.
#include "replay/reconcile_change.h"

namespace dirledger {
namespace change_rules {

Intent ChangeDecider::NewIntent(Side target, IntentOp op, std::string target_id,
                                std::string dn) {
  Intent i;
  i.target = target;
  i.kind = kind_;
  i.op = op;
  i.target_id = std::move(target_id);
  i.dn = std::move(dn);
  i.domain = domain_name_;
  i.connector = connector_name_;
  i.source_id = target == side_ ? partner_id_ : change_.id;
  return i;
}

std::vector<std::string> ChangeDecider::MemberDns(
    const std::vector<std::string>& addresses, const std::string& mail_group) {
  std::vector<std::string> dns;
  for (const std::string& a : addresses) {
    std::string dn = MemberDnOfAddress(
        a, &builder_.state, builder_.rules.config().reconciler_rules >= 10);
    if (!dn.empty()) {
      dns.push_back(std::move(dn));
      continue;
    }
    unresolved_.push_back(a);
    if (!mail_group.empty() && kind_ == ObjectKind::kGroup)
      builder_.Put(PutWait{Side::kMail, AsciiLower(a), mail_group});
  }
  CanonicalizeValues(&dns);
  return dns;
}

void ChangeDecider::FillWrites(Side target, const Foreseen& current,
                               const SideWrites& w,
                               std::string_view own_address, Intent* i) {
  if (target == Side::kMail) {
    i->set = w.fields;
    CanonicalizeAttrs(&i->set);
    // An object's own address is never among its aliases: the entry's
    // aliases are relative to the entry's address, which differs from
    // the mail object's while a rename is not made (rules version 3).
    if (builder_.rules.config().reconciler_rules >= 3)
      DropOwnAlias(current, own_address, &i->set);
    for (const Attribute& a : i->set)
      i->expect.push_back(
          Attribute{a.name, AttrValues(current.attrs(), a.name)});
    CanonicalizeAttrs(&i->expect);
    if (!w.add_members.empty())
      i->add_values.push_back(
          Attribute{std::string(field::kMembers), w.add_members});
    if (!w.del_members.empty())
      i->delete_values.push_back(
          Attribute{std::string(field::kMembers), w.del_members});
    return;
  }
  LdapWrites(w.fields, *map_, current.attrs(), own_address, &i->set, &i->expect,
             RefusedAddresses(current.attrs(), current.dn, own_address, *plan_,
                              &builder_.state, i->target_id));
  if (map_->members_attribute.empty()) return;
  const std::string& mail_group =
      side_ == Side::kMail ? change_.id : link().mail_id;
  std::vector<std::string> adds = MemberDns(w.add_members, mail_group);
  std::vector<std::string> dels = MemberDns(w.del_members, "");
  // groupOfNames needs a member: the group itself stands in for none.
  AttrList after = current.attrs();
  Intent probe;
  probe.add_values.push_back(Attribute{map_->members_attribute, adds});
  probe.delete_values.push_back(Attribute{map_->members_attribute, dels});
  ApplyWrites(probe, &after);
  if (AttrValues(after, map_->members_attribute).empty() && !dels.empty() &&
      HasValueIgnoreCase(AttrValues(current.attrs(), "objectClass"),
                         "groupOfNames"))
    adds.push_back(current.dn);
  if (!adds.empty())
    i->add_values.push_back(Attribute{map_->members_attribute, adds});
  if (!dels.empty())
    i->delete_values.push_back(Attribute{map_->members_attribute, dels});
}

void ChangeDecider::DropOwnAlias(const Foreseen& current,
                                 std::string_view own_address, AttrList* set) {
  Attribute* a = FindAttr(set, field::kAliases);
  if (!a || own_address.empty()) return;
  std::erase_if(a->values, [&](const std::string& v) {
    return EqualsIgnoreCase(v, own_address);
  });
  if (a->values == AttrValues(current.attrs(), field::kAliases))
    set->erase(set->begin() + (a - set->data()));
}

bool ChangeDecider::WriteTo(Side target, const std::string& target_id,
                            const Foreseen& current, const SideWrites& w) {
  std::string own_address = target == Side::kMail ? target_id
                            : target == side_     ? next_->address
                            : partner_            ? partner_->address
                                                  : std::string();
  Intent i = NewIntent(target, IntentOp::kModify, target_id,
                       target == Side::kMail ? target_id : current.dn);
  FillWrites(target, current, w, own_address, &i);
  const ObjectState* obj = target == side_ ? nullptr : partner_;
  i.expected_version = target == side_ ? builder_.seq : obj ? obj->version : 0;
  if (i.set.empty() && i.add_values.empty() && i.delete_values.empty())
    return false;
  builder_.AddIntent(std::move(i));
  return true;
}

void ChangeDecider::WriteRename(const SideWrites& w) {
  const bool carried = builder_.rules.config().reconciler_rules >= 3;
  if (!carried && !w.empty())
    WriteTo(Side::kMail, link().mail_id, foreseen_, w);
  Intent i =
      NewIntent(Side::kMail, IntentOp::kRename, next_->address, link().mail_id);
  i.new_dn = next_->address;
  if (carried) FillWrites(Side::kMail, foreseen_, w, next_->address, &i);
  i.expected_version = partner_ ? partner_->version : 0;
  builder_.Id(i.dn);
  const std::uint64_t id = builder_.AddIntent(std::move(i));
  if (partner_) {
    ObjectState leaving = *partner_;
    leaving.leaving_intent = id;
    builder_.Put(PutObject{std::move(leaving)});
  }
  MutLink().mail_id = next_->address;
  builder_.d->link_ldap_id = link().ldap_id;
  builder_.d->link_mail_id = link().mail_id;
}

const LinkState* ChangeDecider::RenamedLink(const Intent& r) {
  const LinkState* l = builder_.state.LinkByMail(kind_, r.target_id);
  if (!l || l->mail_id != r.target_id || l->ldap_id != r.source_id)
    return nullptr;
  return l;
}

std::optional<Verdict> ChangeDecider::DeletedBeforeRename() {
  const std::uint64_t leaving = Leaving(prev_);
  if (!leaving) return std::nullopt;
  const PendingIntent* p = builder_.state.Pending(leaving);
  if (!p || !IsMailRename(p->intent)) return std::nullopt;
  const LinkState* l = RenamedLink(p->intent);
  if (!l) return std::nullopt;
  rename_dropped_ = p;
  dropped_.push_back(p);
  link_src_ = l;
  return Linked();
}

std::optional<Verdict> ChangeDecider::ReplanRename() {
  const PendingIntent* p = builder_.state.Pending(Leaving(prev_));
  if (!p || !IsMailRename(p->intent) || !next_) return std::nullopt;
  const Intent& r = p->intent;
  std::vector<std::string> changed;
  for (const Attribute& a : r.expect)
    if (AttrValues(next_->attrs, a.name) != a.values) changed.push_back(a.name);
  if (changed.empty()) return std::nullopt;
  const LinkState* l = RenamedLink(r);
  if (!l || !builder_.state.Object(Side::kLdap, kind_, l->ldap_id))
    return std::nullopt;
  link_src_ = l;
  LoadPartner(l->ldap_id);
  if (!partner_) return std::nullopt;
  builder_.Id(r.target_id);
  builder_.Id(partner_->dn);
  const ConflictResolution res = connector_->config.conflict_resolution;
  Side winner = Side::kLdap;
  const bool both = direction_ == Direction::kBothWays;
  const bool resolves = !both || Winner(res, &winner);
  Intent again = r;
  again.set.clear();
  again.expect.clear();
  SideWrites to_ldap;
  std::vector<std::string> conflicts;
  for (const Attribute& a : r.set) {
    const auto& now = AttrValues(next_->attrs, a.name);
    const bool theirs = AttrValues(r.expect, a.name) != now;
    if (theirs && both && (!resolves || winner == Side::kMail)) {
      if (!resolves) {
        conflicts.push_back(a.name);
      } else if (now != AttrValues(partner_fields_, a.name)) {
        to_ldap.Set(a.name, now);
      }
      continue;
    }
    again.set.push_back(a);
    again.expect.push_back(Attribute{a.name, now});
  }
  CanonicalizeAttrs(&again.expect);
  again.expected_version = builder_.seq;
  const std::uint64_t id = builder_.AddIntent(std::move(again));
  dropped_.push_back(p);
  next_->leaving_intent = id;
  if (!to_ldap.empty()) WriteTo(other_, partner_id_, foreseen_, to_ldap);
  Settle(false, conflicts, false);
  const std::string head = Subject() + " changed " + JoinNames(changed) +
                           " while intent " + IntentName(r.id) +
                           " renamed it to " + r.target_id +
                           "; the rename is planned again, expecting its "
                           "new values";
  if (!conflicts.empty()) {
    builder_.d->conflict_fields = conflicts;
    return Verdict{"conflict/no_change", Outcome::kConflictOpen,
                   head + "; " + JoinNames(conflicts) +
                       " changed on both sides since they last agreed; "
                       "no_change: both kept, the conflict stays open"};
  }
  if (!to_ldap.empty())
    return Verdict{"conflict/" + std::string(ConflictResolutionName(res)),
                   Outcome::kConflictResolved,
                   head + "; " + JoinNames(to_ldap.Names()) +
                       " changed on both sides since they last agreed; " +
                       std::string(ConflictResolutionName(res)) +
                       ": the mail value is written to " +
                       Partner(partner_id_, foreseen_.dn)};
  return Verdict{"rename/replanned", Outcome::kPropagated, head};
}

}  // namespace change_rules
}  // namespace dirledger

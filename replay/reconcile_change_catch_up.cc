// ChangeDecider: what a change did not touch but still differs (writes
// planned again, sides caught up, members merged), and the aliases an
// entry may not take (address ownership, rules version 6).
#include "replay/reconcile_change.h"

namespace dirledger {
namespace change_rules {

void ChangeDecider::WrittenFields(const Intent& i,
                                  std::vector<std::string>* out) const {
  auto field_of = [&](std::string_view name) -> std::string_view {
    if (i.target == Side::kMail) return name;
    if (EqualsIgnoreCase(name, map_->aliases_attribute)) return field::kAliases;
    if (EqualsIgnoreCase(name, map_->members_attribute)) return field::kMembers;
    return map_->FieldFor(name);
  };
  for (const AttrList* list : {&i.set, &i.add_values, &i.delete_values})
    for (const Attribute& a : *list) {
      const std::string_view f = field_of(a.name);
      if (!f.empty()) out->emplace_back(f);
    }
}

std::optional<Verdict> ChangeDecider::Replan() {
  if (!next_ || !partner_) return std::nullopt;
  std::vector<std::string> fields;
  std::vector<const PendingIntent*> replanned;
  for (const PendingIntent* p : dropped_) {
    const Intent& i = p->intent;
    if (p->applied || i.target != side_ || i.op != IntentOp::kModify) continue;
    replanned.push_back(p);
    WrittenFields(i, &fields);
  }
  std::sort(fields.begin(), fields.end(),
            [](const std::string& a, const std::string& c) {
              return CompareIgnoreCase(a, c) < 0;
            });
  fields.erase(std::unique(fields.begin(), fields.end(),
                           [](const std::string& a, const std::string& c) {
                             return EqualsIgnoreCase(a, c);
                           }),
               fields.end());
  SideWrites to_self;
  for (const std::string& f : fields) {
    const auto& now = AttrValues(*self_after_, f);
    const auto& there = AttrValues(*partner_after_, f);
    if (now == there) continue;
    if (IsMembers(f)) {
      to_self.add_members = Minus(there, now);
      to_self.del_members = Minus(now, there);
    } else {
      to_self.Set(f, there);
    }
  }
  if (to_self.empty()) return std::nullopt;
  Foreseen self;
  self.exists = true;
  self.Borrow(self_foreseen_ ? *self_foreseen_ : next_->attrs);
  self.dn = next_->dn;
  if (!WriteTo(side_, change_.id, self, to_self)) return std::nullopt;
  Settle(false, {}, true);
  std::string refs;
  for (const PendingIntent* p : replanned) {
    if (!refs.empty()) refs += ", ";
    refs += IntentName(p->intent.id);
  }
  const std::string what = changed_.empty()
                               ? std::string(ChangeOpName(change_.op))
                               : "change of " + JoinNames(changed_);
  return Verdict{"propagate/catch-up", Outcome::kPropagated,
                 Subject() + " " + what + " recorded, not synced: direction " +
                     std::string(DirectionName(direction_)) + " takes no " +
                     std::string(SideTitle(side_)) + " changes; intent " +
                     refs + ", which it made impossible, is planned again: " +
                     JoinNames(to_self.Names()) + " of " +
                     Partner(partner_id_, foreseen_.dn) + " written again"};
}

void ChangeDecider::CatchUp(SideWrites* to_other, SideWrites* to_self,
                            std::vector<std::string>* conflicts) {
  const AttrList& agreed = link().agreed;
  const bool both = direction_ == Direction::kBothWays;
  auto listed = [](const std::vector<std::string>& v, const std::string& f) {
    for (const std::string& x : v)
      if (EqualsIgnoreCase(x, f)) return true;
    return false;
  };
  auto written = [&](const SideWrites& w, const std::string& f) {
    for (const Attribute& a : w.fields)
      if (EqualsIgnoreCase(a.name, f)) return true;
    return false;
  };
  Walk3(*self_after_, *partner_after_, agreed,
        [&](const std::string& f, const std::vector<std::string>& sv,
            const std::vector<std::string>& ov,
            const std::vector<std::string>& av) {
          if (sv == ov || IsMembers(f) || listed(changed_, f) ||
              listed(*conflicts, f) || written(*to_other, f) ||
              written(*to_self, f))
            return;
          if (ov == av) {
            to_other->Set(f, sv);  // this side's earlier change never came
            caught_up_.push_back(f);
          } else if (!both) {
            return;  // the other side drifted: direction keeps it
          } else if (sv == av) {
            to_self->Set(f, ov);  // the other side's change never came here
            caught_up_.push_back(f);
          } else {
            conflicts->push_back(f);
          }
        });
}

void ChangeDecider::MergeMembers(SideWrites* to_other, SideWrites* to_self) {
  const std::string f(field::kMembers);
  const auto& now = AttrValues(*self_after_, f);
  const auto& there = AttrValues(*partner_after_, f);
  const auto& agreed = AttrValues(link().agreed, f);
  if (now == there) return;
  if (direction_ != Direction::kBothWays) {
    bool changed = false;
    for (const std::string& c : changed_)
      if (IsMembers(c)) changed = true;
    if (!changed && there != agreed) return;  // drift on the other side
    to_other->add_members = Minus(now, there);
    to_other->del_members = Minus(there, now);
    return;
  }
  const std::vector<std::string> base =
      builder_.rules.config().reconciler_rules >= 8
          ? PendingAgreedMembers(agreed)
          : agreed;
  std::vector<std::string> merged = base;
  for (const auto* side : {&now, &there})
    for (const std::string& m : Minus(*side, base)) merged.push_back(m);
  CanonicalizeValues(&merged);
  merged = Minus(merged, Minus(base, now));
  merged = Minus(merged, Minus(base, there));
  to_other->add_members = Minus(merged, there);
  to_other->del_members = Minus(there, merged);
  to_self->add_members = Minus(merged, now);
  to_self->del_members = Minus(now, merged);
}

std::vector<std::string> ChangeDecider::PendingAgreedMembers(
    const std::vector<std::string>& agreed) const {
  if (partner_after_ == &partner_fields_) return agreed;
  const std::string f(field::kMembers);
  const auto& was = AttrValues(partner_fields_, f);
  const auto& will = AttrValues(*partner_after_, f);
  std::vector<std::string> out = agreed;
  for (const std::string& m : Minus(will, was)) out.push_back(m);
  CanonicalizeValues(&out);
  return Minus(out, Minus(was, will));
}

void ChangeDecider::SettleRefusedAliases(Verdict* v) {
  if (side_ != Side::kLdap || !plan_ || !plan_->ownership().enforced) return;
  const FailureState* open = builder_.state.Failure(
      FailureKind::kRefusedAddress, Side::kLdap, change_.id);
  if (!next_ || (refused_.empty() && address_held_.empty())) {
    if (open)
      builder_.Put(
          EraseFailure{FailureKind::kRefusedAddress, Side::kLdap, change_.id});
    return;
  }
  std::string message;
  if (!address_held_.empty())
    message = AddressWaitMessage(next_->address, address_held_);
  if (!refused_.empty())
    message += (message.empty() ? "" : "; ") +
               RefusalMessage(next_->address, refused_);
  v->reason += "; " + message;
  if (open && open->message == message) return;
  // A shorter list is the same failure, partly resolved: it keeps its id
  // (and is not a failure opened by this run); a new claim opens a new one.
  const bool shorter =
      open &&
      (address_held_.empty() || open->message.find(AddressWaitMessage(
                                    next_->address, address_held_)) == 0) &&
      std::all_of(refused_.begin(), refused_.end(), [&](auto& r) {
        return open->message.find(r.first + " (") != std::string::npos;
      });
  FailureState f;
  f.kind = FailureKind::kRefusedAddress;
  f.side = Side::kLdap;
  f.object_kind = kind_;
  f.object = change_.id;
  f.dn = next_->dn;
  f.domain = domain_name_;
  f.connector = connector_name_;
  f.source = change_.source;
  f.message = std::move(message);
  f.since_seq = shorter ? open->since_seq : builder_.seq;
  builder_.Put(PutFailure{std::move(f)});
}

}  // namespace change_rules
}  // namespace dirledger

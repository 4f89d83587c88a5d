// ChangeDecider: the echo of dirledger's own writes. The intents pending on
// the object are sorted into those this observation shows done, those it
// makes impossible and those still to come, and the images compared.
#include "replay/reconcile_change.h"

namespace dirledger {
namespace change_rules {

void ChangeDecider::WalkPendings() {
  std::vector<const PendingIntent*> pending;
  builder_.state.PendingFor(side_, kind_, change_.id, &pending);
  const PendingIntent* origin = nullptr;
  if (change_.origin_intent != 0) {
    origin = builder_.state.Pending(change_.origin_intent);
    if (origin &&
        (origin->intent.target != side_ || origin->intent.kind != kind_ ||
         (!origin->intent.target_id.empty() &&
          origin->intent.target_id != change_.id)))
      origin = nullptr;
    if (origin) consumed_.push_back(origin);
  }
  if (origin) TakeAhead(*origin, pending);
  if (!pending.empty() || origin) {
    const AttrList* seen = next_ ? &next_->attrs : nullptr;
    std::optional<AttrList> running;
    if (next_) running = next_->attrs;
    // Intents after a pending rename away are for the object that takes
    // this address next, not for the one observed.
    const std::uint64_t leaving = Leaving(prev_);
    bool kept = false;
    for (const PendingIntent* p : pending) {
      if (p == origin || (origin && p->intent.id == origin->intent.id))
        continue;
      if (leaving && p->intent.id > leaving) continue;
      if (IsAhead(p)) continue;
      const Intent& i = p->intent;
      const bool visible = WritesVisible(i, seen);
      if (p->applied) {
        (visible ? consumed_ : dropped_).push_back(p);
        continue;
      }
      const bool holds = ExpectHolds(i, running ? &*running : nullptr);
      if (visible && !holds) {
        consumed_.push_back(p);
      } else if (holds) {
        kept = true;
        if (i.op == IntentOp::kDelete) {
          running.reset();
        } else {
          if (!running) running = RenamedFrom(i);
          ApplyWrites(i, &*running);
        }
      } else {
        dropped_.push_back(p);
      }
    }
    // This object as it will be once the intents still pending on it are
    // applied.
    if (kept && running) self_foreseen_ = std::move(running);
  }
  // The state before this observation, with the consumed writes in it:
  // what is left to compare is what someone else changed.
  prev_exists_ = prev_ != nullptr;
  if (prev_) eff_prev_.Borrow(prev_->attrs);
  std::sort(consumed_.begin(), consumed_.end(),
            [](const PendingIntent* a, const PendingIntent* c) {
              return a->intent.id < c->intent.id;
            });
  for (const PendingIntent* p : consumed_) {
    const Intent& i = p->intent;
    if (i.op == IntentOp::kDelete) {
      prev_exists_ = false;
      eff_prev_.Clear();
    } else {
      if (!prev_exists_) eff_prev_.Own() = RenamedFrom(i);
      prev_exists_ = true;
      ApplyWrites(i, &eff_prev_.Own());
    }
  }
  if (prev_exists_)
    for (const PendingIntent* p : ahead_)
      ApplyWrites(p->intent, &eff_prev_.Own());
}

void ChangeDecider::TakeAhead(
    const PendingIntent& origin,
    const std::vector<const PendingIntent*>& pending) {
  if (!next_ || builder_.rules.config().reconciler_rules < 2) return;
  const std::uint64_t leaving = Leaving(prev_);
  for (const PendingIntent* p : pending) {
    const Intent& i = p->intent;
    if (i.id <= origin.intent.id) continue;
    if (leaving && i.id > leaving) break;
    if (!p->applied || i.op != IntentOp::kModify) break;
    ahead_.push_back(p);
    ApplyWrites(i, &next_->attrs);
  }
}

AttrList ChangeDecider::RenamedFrom(const Intent& i) {
  if (!IsMailRename(i)) return {};
  const ObjectState* old = builder_.state.Object(Side::kMail, i.kind, i.dn);
  AttrList out = old ? old->attrs : AttrList{};
  const bool adds = builder_.rules.config().reconciler_rules >= 10 && !old;
  std::vector<const PendingIntent*> pending;
  builder_.state.PendingFor(Side::kMail, i.kind, i.dn, &pending);
  for (const PendingIntent* p : pending)
    if (!p->applied && p->intent.id < i.id &&
        (p->intent.op == IntentOp::kModify ||
         (adds && p->intent.op == IntentOp::kAdd)))
      ApplyWrites(p->intent, &out);
  return out;
}

void ChangeDecider::ComputeImages() {
  if (!map_) return;
  if (prev_exists_)
    ImageOfAttrs(side_, eff_prev_.attrs(), prev_ ? prev_->dn : change_.dn,
                 prev_ ? prev_->address : std::string(), *plan_,
                 &builder_.state, prev_image_.get(), nullptr, nullptr,
                 change_.id);
  if (next_) {
    ImageOf(*next_, *plan_, &builder_.state, next_image_.get(), &unresolved_,
            side_ == Side::kLdap ? &refused_ : nullptr);
    if (self_foreseen_) {
      ImageOfAttrs(side_, *self_foreseen_, next_->dn, next_->address, *plan_,
                   &builder_.state, self_foreseen_image_.get(), nullptr,
                   nullptr, change_.id);
      self_after_ = &self_foreseen_fields_;
    }
    // An LDAP group's members without a mail counterpart yet wait for it.
    if (side_ == Side::kLdap && kind_ == ObjectKind::kGroup)
      for (const std::string& dn : unresolved_)
        builder_.Put(PutWait{Side::kLdap, AsciiLower(dn), change_.id});
  }
  changed_ = DiffFields(prev_fields_, next_fields_);
  existence_changed_ = prev_exists_ != next_.has_value();
}

Verdict ChangeDecider::EchoOrNoChange() const {
  if (!consumed_.empty()) {
    const bool by_origin =
        change_.origin_intent != 0 && consumed_.size() == 1 &&
        consumed_.front()->intent.id == change_.origin_intent;
    return Verdict{by_origin ? "echo/origin" : "echo/values", Outcome::kEcho,
                   Subject() + " " + std::string(ChangeOpName(change_.op)) +
                       " is the result of intent " + IntentRef() +
                       "; nothing else changed"};
  }
  return Verdict{"change/none", Outcome::kNoChange,
                 Subject() + " " + std::string(ChangeOpName(change_.op)) +
                     " changed no synced field"};
}

Verdict ChangeDecider::Quiet() const {
  if (consumed_.empty() && prev_ && next_ && side_ == Side::kLdap &&
      !SameDn(prev_->dn, next_->dn))
    return Verdict{"rename/dn", Outcome::kNoChange,
                   Subject() + " moved from " + prev_->dn +
                       "; its mail address and link stay"};
  return EchoOrNoChange();
}

std::optional<Verdict> ChangeDecider::RenameEcho() const {
  if (side_ != Side::kMail || change_.origin_intent == 0 ||
      builder_.rules.config().reconciler_rules < 3)
    return std::nullopt;
  const PendingIntent* p = builder_.state.Pending(change_.origin_intent);
  if (!p || !IsMailRename(p->intent) || p->intent.target_id == change_.id)
    return std::nullopt;
  const Intent& r = p->intent;
  const std::string ref = IntentName(r.id);
  if (!next_ && r.dn == change_.id && r.kind == kind_)
    return Verdict{"echo/rename", Outcome::kEcho,
                   Subject() + " is gone: intent " + ref + " renamed it to " +
                       r.target_id};
  if (next_ && prev_ && kind_ == ObjectKind::kGroup) {
    std::vector<std::string> was = AttrValues(prev_->attrs, field::kMembers);
    std::erase(was, r.dn);
    was.push_back(r.target_id);
    CanonicalizeValues(&was);
    AttrList expected = prev_->attrs;
    SetAttr(&expected, field::kMembers, std::move(was));
    if (expected == next_->attrs)
      return Verdict{"echo/rename", Outcome::kEcho,
                     Subject() + " lists " + r.target_id + " instead of " +
                         r.dn + ": intent " + ref + " renamed that member"};
  }
  return std::nullopt;
}

void ChangeDecider::AgreeOnRenamedMember() {
  if (kind_ != ObjectKind::kGroup || !next_ ||
      builder_.rules.config().reconciler_rules < 11)
    return;
  const PendingIntent* p = builder_.state.Pending(change_.origin_intent);
  const LinkState* link = builder_.state.LinkByMail(kind_, change_.id);
  if (!p || !link || link->mail_id != change_.id) return;
  std::vector<std::string> agreed = AttrValues(link->agreed, field::kMembers);
  if (!HasValueIgnoreCase(agreed, p->intent.dn)) return;
  std::erase_if(agreed, [&](const std::string& m) {
    return EqualsIgnoreCase(m, p->intent.dn);
  });
  agreed.push_back(p->intent.target_id);
  CanonicalizeValues(&agreed);
  LinkState out = *link;
  SetAttr(&out.agreed, field::kMembers, std::move(agreed));
  out.version = builder_.seq;
  builder_.Put(PutLink{std::move(out)});
}

std::string ChangeDecider::IntentRef() const {
  std::string out;
  for (const PendingIntent* p : consumed_) {
    if (!out.empty()) out += ", ";
    out += IntentName(p->intent.id);
  }
  return out;
}

}  // namespace change_rules
}  // namespace dirledger

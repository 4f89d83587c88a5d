#include "replay/appearances.h"

#include <variant>

#include "codecs/attributes.h"
#include "replay/intent_writes.h"

namespace dirledger {

void Appearances::First(Side side, std::string_view id, How how) {
  if (id.empty()) return;
  first_.try_emplace({side, AsciiLower(id)}, how);
}

void Appearances::Visit(const Event& event, const Decision* decision) {
  const bool after = event.seq > after_seq_;
  if (decision && after)
    for (const Intent& i : decision->intents) {
      if (i.op == IntentOp::kAdd) adds_.insert(i.id);
      if (IsMailRename(i))
        renames_[i.id] = {AsciiLower(i.dn), AsciiLower(i.target_id)};
    }
  if (const auto* p = std::get_if<RefreshPhase>(&event.body)) {
    // A refresh from nothing (kFull) or a full DirSync pass (kPresent at its
    // start) names every object in scope, old or new alike.
    const bool full =
        p->mode == RefreshMode::kFull ||
        (p->kind == PhaseKind::kBegin && p->mode == RefreshMode::kPresent);
    if (p->kind == PhaseKind::kBegin && full)
      in_full_refresh_.insert(p->source);
    else if (p->kind == PhaseKind::kEnd)
      in_full_refresh_.erase(p->source);
    if (!after) sources_at_point_.insert(p->source);
    return;
  }
  if (const auto* c = std::get_if<ObservedChange>(&event.body)) {
    if (!after) {
      sources_at_point_.insert(c->source);
      return;
    }
    How how = How::kObserved;
    if (c->origin_intent != 0) {
      // dirledger's own write, seen coming back: an add, or the object a
      // Rename made at its new address (renamed back by a rollback while
      // the rename holds, RenamedFrom; else deleted, as made after SEQ).
      if (adds_.contains(c->origin_intent) ||
          (c->op == ChangeOp::kAdd && renames_.contains(c->origin_intent)))
        how = How::kCreated;
    } else if (c->op == ChangeOp::kAdd) {
      // An add from a source already in sync is a creation; an add in a
      // refresh that names every object, or from a mail source that had
      // not been polled by the point (its first poll), is an observation.
      const bool full = in_full_refresh_.contains(c->source);
      const bool first_poll =
          c->side == Side::kMail && !sources_at_point_.contains(c->source);
      if (!full && !first_poll) how = How::kCreated;
    }
    First(c->side, c->id, how);
    // An object deleted at an address is not the one renamed there (a
    // Rename's own echo deletes the old address, which it left already).
    if (c->side == Side::kMail && c->op == ChangeOp::kDelete)
      renamed_from_.erase(AsciiLower(c->id));
    return;
  }
  if (const auto* o = std::get_if<WriteOutcome>(&event.body)) {
    if (auto r = renames_.find(o->intent_id);
        after && o->ok && r != renames_.end()) {
      const auto& [from, to] = r->second;
      auto earlier = renamed_from_.find(from);
      std::string origin =
          earlier == renamed_from_.end() ? from : earlier->second;
      if (earlier != renamed_from_.end()) renamed_from_.erase(earlier);
      if (origin == to) {
        renamed_from_.erase(to);
      } else {
        renamed_from_[to] = std::move(origin);
      }
      return;
    }
    // An add dirledger made; one that found the object in place did not
    // create it.
    if (!after || !o->ok || !adds_.contains(o->intent_id)) return;
    const How how = o->already_applied ? How::kObserved : How::kCreated;
    First(o->side, o->assigned_id, how);
    First(o->side, o->target_id, how);
  }
}

std::string Appearances::RenamedFrom(Side side, std::string_view id) const {
  if (side != Side::kMail) return "";
  auto it = renamed_from_.find(AsciiLower(id));
  return it == renamed_from_.end() ? "" : it->second;
}

bool Appearances::Created(Side side, std::string_view id) const {
  auto it = first_.find({side, AsciiLower(id)});
  return it != first_.end() && it->second == How::kCreated;
}

}  // namespace dirledger

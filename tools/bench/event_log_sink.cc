#include "tools/bench/event_log_sink.h"

#include <algorithm>
#include <chrono>
#include <unordered_set>

namespace dirledger {

EventLogSink::EventLogSink(EventLog* log, std::string source,
                           std::uint64_t delete_threshold)
    : log_(log),
      source_(std::move(source)),
      delete_threshold_(delete_threshold) {}

void EventLogSink::Apply(const EventBody& body) {
  const auto* c = std::get_if<ObservedChange>(&body);
  if (!c || c->source != source_) return;
  if (c->op == ChangeOp::kDelete) {
    known_.erase(c->id);
    return;
  }
  ObjectState& o = known_[c->id];
  o.side = c->side;
  o.kind = c->kind;
  o.id = c->id;
  o.dn = c->dn;
  o.domain = c->domain;
  o.connector = c->connector;
  o.source = c->source;
}

Status EventLogSink::Load() {
  known_.clear();
  return log_->Scan(1, log_->last_seq(), [&](const Event& e, const Decision*) {
    Apply(e.body);
    return true;
  });
}

Status EventLogSink::Append(std::vector<EventBody> events,
                            const std::optional<std::string>& cookie) {
  auto txn = log_->Begin();
  if (!txn.ok()) return txn.status();
  std::vector<ObservedChange> changes;
  for (EventBody& body : events) {
    Apply(body);
    if (observer_)
      if (const auto* c = std::get_if<ObservedChange>(&body))
        changes.push_back(*c);
    Event e;
    e.seq = (*txn)->NextSeq();
    e.body = std::move(body);
    DIRLEDGER_RETURN_IF_ERROR((*txn)->Add(&e, nullptr));
  }
  if (cookie) DIRLEDGER_RETURN_IF_ERROR((*txn)->PutCursor(source_, *cookie));
  DIRLEDGER_RETURN_IF_ERROR((*txn)->Commit());
  events_ += events.size();
  ++commits_;
  if (cookie) ++cursor_commits_;
  for (const ObservedChange& c : changes) observer_(c);
  return Status::Ok();
}

Status EventLogSink::Deliver(std::vector<EventBody> events,
                             const std::optional<std::string>& cookie) {
  const auto t = std::chrono::steady_clock::now();
  Status st = Append(std::move(events), cookie);
  append_s_ +=
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t)
          .count();
  return st;
}

Status EventLogSink::EndPresentPhase(std::vector<std::string> present_ids,
                                     RefreshPhase end,
                                     const std::optional<std::string>& cookie) {
  const auto t = std::chrono::steady_clock::now();
  std::unordered_set<std::string> present(present_ids.begin(),
                                          present_ids.end());
  std::vector<const ObjectState*> missing;
  for (const auto& [id, o] : known_)
    if (!present.count(id)) missing.push_back(&o);
  std::sort(
      missing.begin(), missing.end(),
      [](const ObjectState* a, const ObjectState* b) { return a->id < b->id; });
  end.missing = missing.size();
  std::vector<EventBody> events;
  if (missing.size() > delete_threshold_) {
    DeleteHold hold;
    hold.hold_id = source_ + "@" + std::to_string(log_->last_seq() + 1);
    hold.source = source_;
    hold.connector = end.connector;
    hold.reason = std::to_string(missing.size()) +
                  " objects missing from a present phase, more than " +
                  std::to_string(delete_threshold_);
    hold.known = known_.size();
    for (const ObjectState* o : missing)
      hold.deletes.push_back({o->side, o->kind, o->id, o->dn, o->domain, ""});
    events.push_back(std::move(hold));
  } else {
    for (const ObjectState* o : missing) {
      ObservedChange d;
      d.side = o->side;
      d.source = source_;
      d.connector = o->connector;
      d.domain = o->domain;
      d.kind = o->kind;
      d.id = o->id;
      d.dn = o->dn;
      d.op = ChangeOp::kDelete;
      events.push_back(std::move(d));
    }
  }
  events.push_back(std::move(end));
  Status st = Append(std::move(events), cookie);
  append_s_ +=
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t)
          .count();
  return st;
}

Status EventLogSink::ForEachKnown(
    const std::function<bool(ObjectKind, std::string_view id,
                             const AttrList& attrs)>& fn) {
  for (const auto& [id, o] : known_)
    if (!fn(o.kind, id, o.attrs)) break;
  return Status::Ok();
}

std::optional<ObjectState> EventLogSink::LookupKnown(std::string_view id) {
  auto it = known_.find(std::string(id));
  if (it == known_.end()) return std::nullopt;
  return it->second;
}

}  // namespace dirledger

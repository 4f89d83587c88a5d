#include "tests/support/recording_sink.h"

#include <algorithm>
#include <chrono>
#include <thread>

namespace dirledger::test {

void RecordingSink::ApplyLocked(const EventBody& event) {
  const auto* c = std::get_if<ObservedChange>(&event);
  if (!c) return;
  if (c->op == ChangeOp::kDelete) {
    known_.erase(c->id);
    return;
  }
  if (c->op == ChangeOp::kPresent) return;
  ObjectState& o = known_[c->id];
  o.side = c->side;
  o.kind = c->kind;
  o.id = c->id;
  o.dn = c->dn;
  o.domain = c->domain;
  o.connector = c->connector;
  o.source = c->source;
  if (c->full_image) o.attrs = c->attrs;
}

Status RecordingSink::Deliver(std::vector<EventBody> events,
                              const std::optional<std::string>& cookie) {
  std::lock_guard<std::mutex> lock(mu_);
  if (fail_next_) {
    Status s = *fail_next_;
    fail_next_.reset();
    return s;
  }
  for (const EventBody& e : events) ApplyLocked(e);
  if (cookie) cookie_ = cookie;
  Call call;
  call.events = std::move(events);
  call.cookie = cookie;
  calls_.push_back(std::move(call));
  return Status::Ok();
}

Status RecordingSink::EndPresentPhase(
    std::vector<std::string> present_ids, RefreshPhase end,
    const std::optional<std::string>& cookie) {
  std::lock_guard<std::mutex> lock(mu_);
  std::sort(present_ids.begin(), present_ids.end());
  Call call;
  call.present_phase = true;
  for (const auto& [id, o] : known_) {
    if (o.source != end.source) continue;
    if (!std::binary_search(present_ids.begin(), present_ids.end(), id))
      call.missing.push_back(id);
  }
  call.held = call.missing.size() > delete_threshold_;
  if (!call.held)
    for (const std::string& id : call.missing) known_.erase(id);
  end.missing = call.missing.size();
  call.events.push_back(end);
  call.cookie = cookie;
  call.present_ids = std::move(present_ids);
  if (cookie) cookie_ = cookie;
  calls_.push_back(std::move(call));
  return Status::Ok();
}

Status RecordingSink::ForEachKnown(
    const std::function<bool(ObjectKind, std::string_view id,
                             const AttrList& attrs)>& fn) {
  std::map<std::string, ObjectState> copy;
  {
    std::lock_guard<std::mutex> lock(mu_);
    copy = known_;
  }
  for (const auto& [id, o] : copy)
    if (!fn(o.kind, id, o.attrs)) break;
  return Status::Ok();
}

std::optional<ObjectState> RecordingSink::LookupKnown(std::string_view id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = known_.find(std::string(id));
  if (it == known_.end()) return std::nullopt;
  return it->second;
}

void RecordingSink::FailNextDeliver(Status status) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_next_ = std::move(status);
}

std::size_t RecordingSink::call_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return calls_.size();
}

std::vector<RecordingSink::Call> RecordingSink::calls(std::size_t from) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (from >= calls_.size()) return {};
  return std::vector<Call>(calls_.begin() + static_cast<long>(from),
                           calls_.end());
}

std::vector<EventBody> RecordingSink::events(std::size_t from_call) const {
  std::vector<EventBody> out;
  for (const Call& c : calls(from_call))
    out.insert(out.end(), c.events.begin(), c.events.end());
  return out;
}

std::vector<ObservedChange> RecordingSink::changes(
    std::size_t from_call) const {
  std::vector<ObservedChange> out;
  for (const EventBody& e : events(from_call))
    if (const auto* c = std::get_if<ObservedChange>(&e)) out.push_back(*c);
  return out;
}

std::vector<ObjectError> RecordingSink::errors(std::size_t from_call) const {
  std::vector<ObjectError> out;
  for (const EventBody& e : events(from_call))
    if (const auto* c = std::get_if<ObjectError>(&e)) out.push_back(*c);
  return out;
}

std::vector<RefreshPhase> RecordingSink::phases(std::size_t from_call) const {
  std::vector<RefreshPhase> out;
  for (const EventBody& e : events(from_call))
    if (const auto* c = std::get_if<RefreshPhase>(&e)) out.push_back(*c);
  return out;
}

std::optional<std::string> RecordingSink::cookie() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cookie_;
}

std::size_t RecordingSink::known_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return known_.size();
}

std::optional<ObjectState> RecordingSink::known(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = known_.find(id);
  if (it == known_.end()) return std::nullopt;
  return it->second;
}

bool RecordingSink::WaitUntil(const std::function<bool()>& pred,
                              double timeout_s) {
  const auto deadline =
      std::chrono::steady_clock::now() +
      std::chrono::milliseconds(static_cast<long>(timeout_s * 1000));
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

}  // namespace dirledger::test

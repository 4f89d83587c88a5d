#include "engine/dirsync/recording_sink.h"

#include <algorithm>

#include "replay/rules.h"

namespace dirledger {

Status RecordingSink::Deliver(std::vector<EventBody> events,
                              const std::optional<std::string>& cookie) {
  Delivery d;
  if (fail_next_) {
    d.status = *fail_next_;
    fail_next_.reset();
    deliveries_.push_back(std::move(d));
    return deliveries_.back().status;
  }
  for (const EventBody& e : events)
    if (const auto* c = std::get_if<ObservedChange>(&e)) Apply(*c);
  if (cookie) cookie_ = cookie;
  d.events = std::move(events);
  d.cookie = cookie;
  deliveries_.push_back(std::move(d));
  return Status::Ok();
}

Status RecordingSink::EndPresentPhase(
    std::vector<std::string> present_ids, RefreshPhase end,
    const std::optional<std::string>& cookie) {
  Delivery d;
  d.present_end = true;
  d.cookie = cookie;
  std::vector<std::string> sorted = present_ids;
  std::sort(sorted.begin(), sorted.end());
  std::vector<ObservedChange> deletes;
  for (const auto& [id, o] : known_) {
    if (std::binary_search(sorted.begin(), sorted.end(), id)) continue;
    ObservedChange c;
    c.side = o.side;
    c.source = end.source;
    c.connector = o.connector;
    c.domain = o.domain;
    c.kind = o.kind;
    c.id = id;
    c.dn = o.dn;
    c.op = ChangeOp::kDelete;
    deletes.push_back(std::move(c));
  }
  end.missing = deletes.size();
  d.present_ids = std::move(present_ids);
  if (deletes.size() > delete_threshold_) {
    held_ += deletes.size();
    d.status = Status::Held(std::to_string(deletes.size()) +
                            " deletes held for approval");
  } else {
    for (ObservedChange& c : deletes) {
      Apply(c);
      d.events.emplace_back(std::move(c));
    }
  }
  d.events.emplace_back(std::move(end));
  if (cookie) cookie_ = cookie;
  deliveries_.push_back(std::move(d));
  return deliveries_.back().status;
}

Status RecordingSink::ForEachKnown(
    const std::function<bool(ObjectKind, std::string_view, const AttrList&)>&
        fn) {
  for (const auto& [id, o] : known_)
    if (!fn(o.kind, id, o.attrs)) break;
  return Status::Ok();
}

std::optional<ObjectState> RecordingSink::LookupKnown(std::string_view id) {
  ++lookups_;
  auto it = known_.find(std::string(id));
  if (it == known_.end()) return std::nullopt;
  return it->second;
}

bool RecordingSink::StopRequested() const { return stop_ && stop_(*this); }

void RecordingSink::Apply(const ObservedChange& c) {
  if (c.op == ChangeOp::kDelete) {
    known_.erase(c.id);
    return;
  }
  ObjectState& o = known_[c.id];
  o.side = c.side;
  o.kind = c.kind;
  o.id = c.id;
  o.dn = c.dn;
  o.domain = c.domain;
  o.connector = c.connector;
  o.source = c.source;
  if (c.full_image) o.attrs.clear();
  for (const Attribute& a : c.attrs) SetAttr(&o.attrs, a.name, a.values);
  for (const Attribute& a : c.value_deletes) {
    std::vector<std::string> v = AttrValues(o.attrs, a.name);
    std::erase_if(v, [&](const std::string& x) {
      return std::find(a.values.begin(), a.values.end(), x) != a.values.end();
    });
    SetAttr(&o.attrs, a.name, std::move(v));
  }
  for (const Attribute& a : c.value_adds) {
    std::vector<std::string> v = AttrValues(o.attrs, a.name);
    v.insert(v.end(), a.values.begin(), a.values.end());
    CanonicalizeValues(&v);
    SetAttr(&o.attrs, a.name, std::move(v));
  }
}

std::vector<EventBody> RecordingSink::Events() const {
  std::vector<EventBody> out;
  for (const Delivery& d : deliveries_)
    out.insert(out.end(), d.events.begin(), d.events.end());
  return out;
}

std::vector<ObservedChange> RecordingSink::Changes() const {
  std::vector<ObservedChange> out;
  for (const Delivery& d : deliveries_)
    for (const EventBody& e : d.events)
      if (const auto* c = std::get_if<ObservedChange>(&e)) out.push_back(*c);
  return out;
}

std::vector<ObjectError> RecordingSink::Errors() const {
  std::vector<ObjectError> out;
  for (const Delivery& d : deliveries_)
    for (const EventBody& e : d.events)
      if (const auto* c = std::get_if<ObjectError>(&e)) out.push_back(*c);
  return out;
}

std::vector<RefreshPhase> RecordingSink::Phases() const {
  std::vector<RefreshPhase> out;
  for (const Delivery& d : deliveries_)
    for (const EventBody& e : d.events)
      if (const auto* c = std::get_if<RefreshPhase>(&e)) out.push_back(*c);
  return out;
}

std::optional<ObjectState> RecordingSink::KnownByDn(std::string_view dn) const {
  const std::string n = NormalizeDn(dn);
  for (const auto& [id, o] : known_)
    if (NormalizeDn(o.dn) == n) return o;
  return std::nullopt;
}

}  // namespace dirledger

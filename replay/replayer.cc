#include "replay/replayer.h"

#include "codecs/config.h"
#include "replay/decision_text.h"
#include "replay/reconciler.h"

namespace dirledger {

std::string ReplayDifference::ToString() const {
  std::string out = "first difference at seq " + std::to_string(seq) + "\n";
  out += "event:\n    " + event + "\n";
  out += "recorded:\n" + recorded;
  out += "replayed:\n" + replayed;
  return out;
}

Replayer::Replayer(ReplayOptions options) : options_(std::move(options)) {
  // Before the first ConfigChange nothing is in scope.
  auto empty = RuleSet::Compile(Config{});
  rules_ = std::move(empty).value();
}

Replayer::~Replayer() = default;

Status Replayer::TakeConfig(const Event& event) {
  const auto* change = std::get_if<ConfigChange>(&event.body);
  if (!change) return Status::Ok();
  const std::string where = "config of log record " + std::to_string(event.seq);
  auto config = ConfigFromEvent(*change);
  if (!config.ok()) return config.status().WithContext(where);
  for (const auto& [key, value] : options_.overrides)
    DIRLEDGER_RETURN_IF_ERROR(
        ApplyConfigOverride(&config.value(), key, value).WithContext(where));
  auto rules = RuleSet::Compile(std::move(config).value());
  if (!rules.ok()) return rules.status().WithContext(where);
  rules_ = std::move(rules).value();
  return Status::Ok();
}

Status Replayer::Resume(InMemoryProjection projection, std::uint64_t seq,
                        const Event* config) {
  if (config) DIRLEDGER_RETURN_IF_ERROR(TakeConfig(*config));
  projection_ = std::move(projection);
  last_seq_ = seq;
  return Status::Ok();
}

Status Replayer::Decide(const Event& event) {
  if (event.seq <= last_seq_)
    return Status::InvalidArgument("log record " + std::to_string(event.seq) +
                                   " fed after " + std::to_string(last_seq_));
  DIRLEDGER_RETURN_IF_ERROR(TakeConfig(event));
  Reconcile(projection_, event, *rules_, &decision_, &delta_, &scratch_);
  projection_.Apply(std::move(delta_));
  last_seq_ = event.seq;
  ++events_;
  return Status::Ok();
}

void Replayer::NoteDifference(const Event& event, const Decision* recorded,
                              std::string_view recorded_bytes) {
  ++differences_;
  if (first_difference_) return;
  ReplayDifference d;
  d.seq = event.seq;
  d.event = EventText(event);
  if (recorded) {
    d.recorded = DecisionText(*recorded);
  } else if (!recorded_bytes.empty()) {
    Status s = DecodeDecision(recorded_bytes, event.seq, &recorded_decoded_);
    d.recorded = s.ok() ? DecisionText(recorded_decoded_)
                        : "(unreadable: " + s.ToString() + ")\n";
  } else {
    d.recorded = "(no decision recorded)\n";
  }
  d.replayed = DecisionText(decision_);
  first_difference_ = std::move(d);
}

Status Replayer::Feed(const Event& event, const Decision* recorded) {
  if (options_.until != 0 && event.seq > options_.until) return Status::Ok();
  DIRLEDGER_RETURN_IF_ERROR(Decide(event));
  if (!options_.compare) return Status::Ok();
  std::string_view mine = encoder_.Encode(decision_);
  std::string_view theirs =
      recorded ? recorded_encoder_.Encode(*recorded) : std::string_view();
  if (!recorded || mine != theirs) NoteDifference(event, recorded, {});
  return Status::Ok();
}

Status Replayer::FeedStored(const Event& event,
                            const std::string_view* recorded) {
  if (options_.until != 0 && event.seq > options_.until) return Status::Ok();
  DIRLEDGER_RETURN_IF_ERROR(Decide(event));
  if (!options_.compare) return Status::Ok();
  const std::string_view mine = encoder_.Encode(decision_);
  if (!recorded) {
    NoteDifference(event, nullptr, {});
    return Status::Ok();
  }
  if (mine == *recorded) return Status::Ok();
  DIRLEDGER_RETURN_IF_ERROR(
      DecodeDecision(*recorded, event.seq, &recorded_decoded_));
  if (recorded_encoder_.Encode(recorded_decoded_) != mine)
    NoteDifference(event, &recorded_decoded_, {});
  return Status::Ok();
}

Status Replayer::FeedEncoded(std::uint64_t seq, std::string_view event_bytes,
                             std::string_view decision_bytes) {
  if (options_.until != 0 && seq > options_.until) return Status::Ok();
  DIRLEDGER_RETURN_IF_ERROR(DecodeEvent(event_bytes, seq, &event_));
  DIRLEDGER_RETURN_IF_ERROR(Decide(event_));
  if (!options_.compare) return Status::Ok();
  if (encoder_.Encode(decision_) != decision_bytes)
    NoteDifference(event_, nullptr, decision_bytes);
  return Status::Ok();
}

}  // namespace dirledger

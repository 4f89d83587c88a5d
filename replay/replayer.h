// Replayer: re-derives decisions from the log. Fed the events in order (with
// the decisions recorded beside them), it keeps the config in force (each
// ConfigChange event is re-parsed from its own stored text, with optional
// --set overrides, and compiled), keeps the projection in memory, decides
// every event with the reconciler and compares the result with the recorded
// decision byte for byte (their stored FlatBuffers form). This is `verify`'s
// and `replay`'s engine; stopped at --until SEQ it exposes the projection as
// of SEQ (for `export --at`, rollback planning).
//
// The replayer reads nothing itself (replay/ depends on codecs only): the
// caller scans the log and feeds it, e.g. from EventLog::Scan.
//
// Thread safety: not thread-safe.
#ifndef DIRLEDGER_REPLAY_REPLAYER_H_
#define DIRLEDGER_REPLAY_REPLAYER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "codecs/event.h"
#include "codecs/event_codec.h"
#include "codecs/projection.h"
#include "codecs/status.h"
#include "replay/in_memory_projection.h"
#include "replay/reconciler.h"
#include "replay/rules.h"

namespace dirledger {

struct ReplayOptions {
  std::uint64_t until = 0;  // decide events up to this seq (0: all)
  // KEY=VALUE overrides (ApplyConfigOverride) applied to every config in
  // force, in order.
  std::vector<std::pair<std::string, std::string>> overrides;
  bool compare = true;  // compare with the recorded decisions
};

// The first event whose re-derived decision differs from the recorded one.
struct ReplayDifference {
  std::uint64_t seq = 0;
  std::string event;     // EventText
  std::string recorded;  // DecisionText, or "(no decision recorded)\n"
  std::string replayed;  // DecisionText

  // The three texts, labelled, for a terminal.
  std::string ToString() const;
};

class Replayer {
 public:
  explicit Replayer(ReplayOptions options = {});
  ~Replayer();

  // Decides the next event and applies its delta. `recorded` (may be null)
  // is compared when options.compare. Events after `until` are ignored.
  // Errors: a sequence out of order, a stored config that no longer parses
  // or compiles, an override that does not apply to it (messages name the
  // sequence). A difference is not an error: see first_difference().
  Status Feed(const Event& event, const Decision* recorded);

  // The same from stored bytes: the event is decoded (verified) into reused
  // storage, and the recorded decision bytes are compared with the encoded
  // re-derived decision without decoding them.
  Status FeedEncoded(std::uint64_t seq, std::string_view event_bytes,
                     std::string_view decision_bytes);

  // The same with the recorded decision as stored (nullptr: none stored),
  // for a reader that does not decode it: equal bytes match without
  // decoding; different bytes are decoded (Corruption when they do not
  // decode) and compared as Feed compares, so that a decision stored by an
  // earlier program whose encoder wrote other bytes for it still matches.
  Status FeedStored(const Event& event, const std::string_view* recorded);

  // Goes on from a projection checkpoint (replay/projection_checkpoint.h):
  // `projection` as of record `seq`, under the config that the ConfigChange
  // event `config` stores (nullptr: none yet). The next event fed must follow
  // `seq`. REQUIRES: nothing fed yet. Errors: `config` does not parse or
  // compile (as Feed's).
  Status Resume(InMemoryProjection projection, std::uint64_t seq,
                const Event* config);

  // True once the event `until` was fed.
  bool done() const {
    return options_.until != 0 && last_seq_ >= options_.until;
  }

  const InMemoryProjection& projection() const { return projection_; }
  InMemoryProjection& mutable_projection() { return projection_; }
  // The decision of the last event fed.
  const Decision& last_decision() const { return decision_; }
  std::uint64_t last_seq() const { return last_seq_; }
  std::uint64_t events() const { return events_; }
  std::uint64_t differences() const { return differences_; }
  const std::optional<ReplayDifference>& first_difference() const {
    return first_difference_;
  }
  // The rules in force after the last event.
  const std::shared_ptr<const RuleSet>& rules() const { return rules_; }

 private:
  Status Decide(const Event& event);
  Status TakeConfig(const Event& event);
  void NoteDifference(const Event& event, const Decision* recorded,
                      std::string_view recorded_bytes);

  ReplayOptions options_;
  std::shared_ptr<const RuleSet> rules_;
  InMemoryProjection projection_;
  Event event_;  // reused by FeedEncoded
  Decision decision_;
  Decision recorded_decoded_;
  StateDelta delta_;
  ReconcileScratch scratch_;
  DecisionEncoder encoder_;
  DecisionEncoder recorded_encoder_;
  std::uint64_t last_seq_ = 0;
  std::uint64_t events_ = 0;
  std::uint64_t differences_ = 0;
  std::optional<ReplayDifference> first_difference_;
};

}  // namespace dirledger

#endif  // DIRLEDGER_REPLAY_REPLAYER_H_

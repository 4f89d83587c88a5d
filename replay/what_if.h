// What-if: the same history replayed under other rules (`replay --set
// KEY=VALUE`), next to a replay under the rules that were in force. It
// reports which decisions would differ and how each object would end up,
// writing nothing.
//
// The history is what really happened: writes dirledger really made come
// back as observed changes, and a recorded outcome applies to the what-if
// intent with the same id only when it names the same side and object.
// Final values are each side's objects with the intents still pending
// applied, as if every what-if write had succeeded.
//
// Events about dirledger's own writes (the outcome of one of its intents, or
// a change a side reports that is the echo of one: tagged with the intent,
// or decided an echo as recorded) are decided differently whenever the rules
// change the writes, without any object ending up differently for it; they
// are counted apart from the decisions that answer the operator's question.
//
// Thread safety: not thread-safe.
#ifndef DIRLEDGER_REPLAY_WHAT_IF_H_
#define DIRLEDGER_REPLAY_WHAT_IF_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "codecs/event.h"
#include "codecs/status.h"
#include "replay/in_memory_projection.h"
#include "replay/replayer.h"

namespace dirledger {

struct WhatIfOptions {
  std::vector<std::pair<std::string, std::string>> overrides;
  std::uint64_t until = 0;  // 0: the whole history
  // Differing decisions kept, of each kind (own writes, others); all are
  // counted.
  std::size_t keep_decisions = 1000;
};

// One event decided differently.
struct DecisionDiff {
  std::uint64_t seq = 0;
  std::string event;       // EventText
  Decision as_recorded;    // under the rules in force
  Decision what_if;        // under the overrides
  bool own_write = false;  // the event is about one of dirledger's writes
};

// One object that would end up differently.
struct ValueDiff {
  Side side = Side::kLdap;
  ObjectKind kind = ObjectKind::kAccount;
  std::string id;
  std::string dn;
  bool exists_as_recorded = false;
  bool exists_what_if = false;
  std::vector<std::string> attributes;  // that differ, when both exist
  AttrList as_recorded;                 // their values
  AttrList what_if;
};

struct WhatIfReport {
  std::uint64_t events = 0;
  // Events decided differently that are not about dirledger's own writes.
  std::uint64_t decisions_differing = 0;
  // Outcomes and echoes of dirledger's own writes decided differently.
  std::uint64_t own_writes_differing = 0;
  std::vector<DecisionDiff> decisions;  // the first keep_decisions of each
  std::vector<ValueDiff> values;        // by side, kind, id

  // Readable: one block per differing decision (those on dirledger's own
  // writes only counted), then one line per object.
  std::string ToText() const;
};

class WhatIf {
 public:
  explicit WhatIf(WhatIfOptions options);
  ~WhatIf();

  // Feeds the next event of the history (its recorded decision is not
  // needed: both runs decide it).
  Status Feed(const Event& event);
  bool done() const;

  // Compares the final values. Call once, after the last Feed.
  WhatIfReport Finish();

 private:
  WhatIfOptions options_;
  Replayer as_recorded_;
  Replayer what_if_;
  DecisionEncoder a_, b_;
  WhatIfReport report_;
};

// Whether `event` is about one of dirledger's own writes: the outcome of an
// intent, or a reported change that echoes one (tagged with its intent, or
// decided an echo in `recorded`).
bool IsOwnWrite(const Event& event, const Decision& recorded);

// Each object of `projection` on `side`, as it will be once the intents
// pending on it are applied (absent ones are not listed), in id order.
std::vector<ObjectState> Foreseen(const InMemoryProjection& projection,
                                  Side side);

}  // namespace dirledger

#endif  // DIRLEDGER_REPLAY_WHAT_IF_H_

// The reconciler: dirledger's decision function. For one event, the
// projection as it stands before it, and the rules in force at that event, it
// returns the decision (what was concluded and why, the write intents) and
// the projection changes. It is pure: no clock, no randomness, no I/O, no
// iteration over unordered containers, so replaying the log reproduces every
// recorded decision byte for byte. docs/rules.md states every rule.
//
// Thread safety: a pure function; safe to call from any thread with
// distinct outputs.
#ifndef DIRLEDGER_REPLAY_RECONCILER_H_
#define DIRLEDGER_REPLAY_RECONCILER_H_

#include "codecs/event.h"
#include "codecs/projection.h"
#include "replay/image_pool.h"
#include "replay/rules.h"

namespace dirledger {

// Working storage the reconciler reuses from one decision to the next.
// Passing the same scratch to successive calls saves allocations; it never
// changes a decision (nothing in it outlives the decision that used it).
struct ReconcileScratch {
  ImagePool images;
};

// Decides `event` (whose seq is set). `*decision` and `*delta` are
// overwritten. REQUIRES: `state` reflects every earlier event's delta.
void Reconcile(const ProjectionView& state, const Event& event,
               const RuleSet& rules, Decision* decision, StateDelta* delta);
// The same with reused working storage.
void Reconcile(const ProjectionView& state, const Event& event,
               const RuleSet& rules, Decision* decision, StateDelta* delta,
               ReconcileScratch* scratch);

}  // namespace dirledger

#endif  // DIRLEDGER_REPLAY_RECONCILER_H_

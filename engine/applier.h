// Applier: makes the writes the reconciler asks for (intents) on one side,
// idempotently, and reports the outcome, which the engine appends to the log
// as a WriteOutcome event.
//
// Idempotence: an intent may be applied again after a crash between the
// write and its outcome event. An applier that finds the target already in
// the intended state reports ok with already_applied = true and changes
// nothing. An intent whose `expect` values do not match the target's current
// values fails with a Conflict naming the attribute (a concurrent edit is
// detected, never overwritten).
//
// Thread safety: one thread at a time per applier.
#ifndef DIRLEDGER_ENGINE_APPLIER_H_
#define DIRLEDGER_ENGINE_APPLIER_H_

#include <string>

#include "codecs/event.h"
#include "codecs/status.h"

namespace dirledger {

struct ApplyResult {
  Status status;            // OK, or why the write failed
  std::string assigned_id;  // id the side gave a new object (entryUUID)
  bool already_applied = false;
  std::string message;  // the server's own words, for the outcome
};

class Applier {
 public:
  virtual ~Applier() = default;
  virtual Side side() const = 0;
  virtual ApplyResult Apply(const Intent& intent) = 0;
  // Makes every write applied so far durable. The run loop calls it before
  // it logs their outcomes, so an applier may defer its own fsync to here
  // (one per batch of intents instead of one per intent).
  virtual Status Sync() { return Status::Ok(); }
};

}  // namespace dirledger

#endif  // DIRLEDGER_ENGINE_APPLIER_H_

// Intake: the single writer of the log. It takes events (from sources, the
// appliers' outcomes, operator commands), decides each one with the
// reconciler against the projection as it stands inside the same
// transaction, and commits event, decision, projection change and cursor in
// ONE log write. After a crash nothing is half-written: a source resumes from
// the cursor stored with the last events it delivered. A cursor that moved is
// also appended as a CursorAdvance event after those events, so the hash
// chain holds it and `verify` can tell an edited cursor.
//
// The config in force is recorded as a ConfigChange event whenever its
// fingerprint differs from the last one recorded, so replay decides every
// event under the rules that were in force at the time.
//
// Dry run: every append is decided inside one transaction that is never
// committed; later appends see earlier ones, nothing is written.
//
// Thread safety: thread-safe; appends are serialized.
#ifndef DIRLEDGER_ENGINE_INTAKE_H_
#define DIRLEDGER_ENGINE_INTAKE_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "codecs/event.h"
#include "codecs/mutex.h"
#include "codecs/projection.h"
#include "replay/rules.h"
#include "storage/event_log.h"

namespace dirledger {

// The decision function; Reconcile() in production, simpler ones in tests.
using Decider = std::function<void(const ProjectionView&, const Event&,
                                   const RuleSet&, Decision*, StateDelta*)>;

// The production decider: Reconcile() with its working storage reused from
// one decision to the next (an Intake decides one event at a time).
Decider ReconcileDecider();

// What one append produced.
struct AppendResult {
  std::uint64_t first_seq = 0;  // 0 when nothing was appended
  std::uint64_t last_seq = 0;
  std::vector<Intent> intents;      // new intents, in decision order
  std::vector<Decision> decisions;  // kept only when Intake keeps them
  // The log time of each new intent's event: intent_times_us[i] is that of
  // intents[i] (the service's change-to-write latency).
  std::vector<std::int64_t> intent_times_us;
  // How many events of each kind (EventKindName) and decisions of each rule
  // id the append took, in order of first appearance (the service's
  // metrics; a few entries per append).
  std::vector<std::pair<std::string_view, std::uint32_t>> events_by_kind;
  std::vector<std::pair<std::string, std::uint32_t>> decisions_by_rule;
};

// A hold, failure or conflict that an appended event opened (alerts:
// RunObserver::OnOpened). A hold opens when its deletes are held (not while
// its window waits); a failure each time one is recorded (as the service
// logs it); a conflict when the first event puts its fields in conflict.
struct OpenedRecord {
  std::uint64_t seq = 0;  // the event that opened it
  std::int64_t time_us = 0;
  std::variant<HoldState, FailureState, ConflictState> record;
};

struct IntakeOptions {
  bool dry_run = false;
  bool keep_decisions = false;  // fill AppendResult::decisions (dry-run output)
  // Append hands each transaction to the log's committer (EventLog::Submit)
  // and returns while it is written: the next batch is decided meanwhile.
  // Appended events are durable once Sync returns OK (or a later Append
  // has returned); readers through this intake wait for them.
  bool async_commit = false;
};

class Intake {
 public:
  Intake(EventLog* log, std::shared_ptr<const RuleSet> rules, Decider decider,
         IntakeOptions options = {});
  ~Intake();

  // Appends a ConfigChange unless the last recorded config has the same
  // fingerprint. Returns whether it appended.
  Result<bool> RecordConfig(const ConfigChange& change);

  // Decides and appends `events` and, when given, stores `cursor`
  // (source id, cookie) with them, in one log write (written in the
  // background with IntakeOptions::async_commit).
  Status Append(
      std::vector<EventBody> events,
      const std::optional<std::pair<std::string, std::string>>& cursor,
      AppendResult* result = nullptr);

  // Waits until everything appended is durable (async_commit); OK, or why
  // it is not.
  Status Sync();

  // The projection as this intake sees it (in a dry run, including what the
  // dry run decided). REQUIRES: the caller holds no reference across
  // appends from other threads.
  const ProjectionStore& projection();

  // Runs `fn` with the intake's lock held and the projection it sees, so a
  // caller can read several records consistently. With async_commit, the
  // writes of the batch in flight are read from memory (EventLog::ReadTail):
  // a source looking up what it delivered a moment ago does not wait for
  // the write, and so the next batch is received while it is written.
  void WithProjection(const std::function<void(const ProjectionStore&)>& fn);

  // Called for each hold, failure or conflict an Append opens, once its
  // write is submitted (never in a dry run), with the intake's lock held:
  // `fn` must not call into the intake, and must not block. Empty: none.
  void set_opened_listener(std::function<void(const OpenedRecord&)> fn);

  const RuleSet& rules() const { return *rules_; }
  EventLog* log() { return log_; }
  bool dry_run() const { return options_.dry_run; }

  // The cursor of `source` as this intake sees it ("" when none stored).
  // A cursor that cannot be read is an error, never "": an empty cursor
  // makes the source take everything in again from the start.
  Result<std::string> Cursor(const std::string& source);

 private:
  EventLog* log_;
  std::shared_ptr<const RuleSet> rules_;
  Decider decider_;
  IntakeOptions options_;
  Mutex mu_;
  std::unique_ptr<LogTransaction> dry_txn_ GUARDED_BY(mu_);  // dry run only
  // Cursor(), with mu_ held.
  Result<std::string> CursorLocked(const std::string& source) REQUIRES(mu_);
  // The cursor an append compares a new one with: the one this intake
  // stored last for `source`, else Cursor().
  Result<std::string> LastCursorLocked(const std::string& source) REQUIRES(mu_);

  std::map<std::string, std::string> dry_cursors_ GUARDED_BY(mu_);
  // The cursor each source stored through this intake (what the log has
  // once the batch in flight is written).
  std::map<std::string, std::string> stored_cursors_ GUARDED_BY(mu_);
  std::string dry_config_sha_ GUARDED_BY(mu_);
  std::function<void(const OpenedRecord&)> opened_listener_ GUARDED_BY(mu_);
};

}  // namespace dirledger

#endif  // DIRLEDGER_ENGINE_INTAKE_H_

// RunLoop: drives the sources and the appliers.
//
//   RunOnce(): every source does one pass (LDAP connectors first, then the
//   mail side), then every pending intent is applied and its outcome
//   appended; the passes repeat (at most three rounds) while writes were
//   made, so the echoes of dirledger's own writes are recorded before it
//   exits: a later round polls the sources of the sides written to in the
//   round before (an LDAP directory that was only read is not searched
//   again for echoes it cannot have). A long pass applies as it goes: every
//   kMidPassIntents intents it decides, the durable ones are applied and
//   the incremental sources of the sides written to polled for their
//   echoes before the pass takes more (set_mid_pass_intents).
//   Run(): every source runs in its own thread (refreshAndPersist, polling)
//   and an applier thread applies intents as they are decided, until `stop`
//   is set (SIGTERM): sources finish their current batch; then what was
//   decided is drained: every pending intent is applied, until none is left
//   or the drain timeout passes (or `hurry` is set: a second signal), and
//   RunStats::left_pending counts what stays pending.
//   Tasks posted while Run() runs (Post: an operator's command arriving on
//   the control socket) run on the thread that applies the writes, between
//   two of its cycles (releasing due deletes, applying what is pending):
//   one that arrives during a cycle waits for its end. Tasks still queued
//   when Run() ends are cancelled.
//   Deletes that wait (a connector's delete_delay_s, rules 3): Run() stamps
//   its sources' deletes with the delay; it wakes when the first waiting
//   delete is due and appends a Release event for its window, which the
//   reconciler decides (docs/rules.md, "Deletes that wait"). RunOnce()
//   stamps nothing (its deletes are decided at once, a refresh's counted
//   per refresh); it releases deletes a stopped service left waiting once
//   they are due.
//
// Intents left pending by a crash (applied or not) are applied again at the
// start; appliers are idempotent. A retryable failure (peer unavailable)
// leaves the intent pending and is retried with backoff; any other failure
// is appended as a failed outcome.
//
// Thread safety: Run/RunOnce are called from one thread; Post from any.
#ifndef DIRLEDGER_ENGINE_RUN_LOOP_H_
#define DIRLEDGER_ENGINE_RUN_LOOP_H_

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "codecs/mutex.h"
#include "engine/applier.h"
#include "engine/intake.h"
#include "engine/source.h"
#include "engine/source_intake.h"

namespace dirledger {

// What the run loop tells its user (progress bar, log lines).
class RunObserver {
 public:
  virtual ~RunObserver() = default;
  virtual void OnPassStart(const std::string& source) {}
  virtual void OnAppend(const std::string& source, const AppendResult& r,
                        const SourceStats& totals) {}
  virtual void OnPassEnd(const std::string& source, const Status& s,
                         const SourceStats& totals) {}
  virtual void OnApplied(const Intent& intent, const ApplyResult& r) {}
  virtual void OnError(const std::string& what, const Status& s) {}
  // Run(): `source` delivered everything its peer held when it started.
  virtual void OnCaughtUp(const std::string& source) {}
  // A hold, failure or conflict was opened by an event appended through
  // the intake (from a source, an outcome, an operator's command), called
  // with the intake's lock held: it must not block or call the intake.
  virtual void OnOpened(const OpenedRecord& record) {}
  // Run(): every source is caught up (once).
  virtual void OnReady() {}
  // Run(): `source` finished a refresh or a poll (every time).
  virtual void OnSourceContact(const std::string& source) {}
  // Run(): `source` cannot reach its peer (`why`) and tries again by itself
  // (a source that gives up returns, and OnError tells that); called on each
  // failed attempt (SourceSink::Unavailable).
  virtual void OnSourceUnavailable(const std::string& source,
                                   const Status& why) {}
  // Run(): the run loop is alive: called at least every 5 seconds while it
  // waits for work, and after each write it applies (from the thread that
  // applies the writes).
  virtual void OnHeartbeat() {}
};

struct RunStats {
  std::uint64_t events = 0;
  std::uint64_t applied = 0;
  std::uint64_t failed = 0;
  std::uint64_t retry_later = 0;  // attempts left pending: peer unavailable
  // RunOnce: writes still pending when the pass ended (their peer stayed
  // unavailable through its last attempt); Run: writes still pending after
  // the drain (that, or the drain's time ran out). The next run makes them.
  std::uint64_t left_pending = 0;
  std::uint64_t held = 0;
  std::vector<Intent> dry_run_intents;
};

class RunLoop {
 public:
  // `appliers` maps (side, connector) to the applier for intents of that
  // connector; the mail side uses connector "" for every connector.
  RunLoop(Intake* intake, std::vector<Source*> sources,
          std::map<std::pair<Side, std::string>, Applier*> appliers,
          std::atomic<bool>* stop, RunObserver* observer);
  ~RunLoop();

  Status RunOnce(RunStats* stats);
  Status Run(RunStats* stats);

  // Run's drain after `stop`: at most `timeout`, and no new batch once
  // `hurry` (may be null) is set. Default 30 s.
  void set_drain(std::chrono::milliseconds timeout,
                 const std::atomic<bool>* hurry) {
    drain_timeout_ = timeout;
    hurry_ = hurry;
  }

  // Applies every pending intent not yet applied, appending outcomes; stops
  // between batches once `stop` is set.
  Status ApplyPending(RunStats* stats);

  // RunOnce: once a pass has decided this many intents since it last
  // applied, it applies the pending intents whose decisions are durable
  // before it takes more, and takes their echoes from the sources whose
  // passes are incremental (Source::PassIsIncremental). A long first sync
  // then writes as it goes, and an intent's records are read back while
  // they are still in the log's memtables. 0: a pass is applied after it
  // ends. Default kMidPassIntents.
  void set_mid_pass_intents(std::uint64_t n) { mid_pass_intents_ = n; }
  static constexpr std::uint64_t kMidPassIntents = 1000;

  // A task for the applier thread of Run(), called with true when it runs
  // there (between two cycles), with false when it is cancelled (Run() is
  // not running, or ended before its turn).
  using Task = std::function<void(bool run)>;
  // Queues `task`; false (and the task is not called) when Run() is not
  // running or is ending.
  bool Post(Task task);

  // Appends a Release event for every window of waiting deletes with a
  // delete due by now (the log's clock). `*next_due_us` (may be null): when
  // the next delete still waiting is due, 0 when none waits.
  Status ReleaseDue(std::int64_t* next_due_us);

 private:
  // One batch of intents applied, results in the same order; `status`: why
  // the writes could not be made durable (nothing of the batch is logged).
  struct AppliedBatch {
    std::vector<Intent> intents;
    std::vector<ApplyResult> results;
    Status status;
  };

  // ApplyPending, starting a new batch only while `go_on()` holds. With
  // `durable_through` (a sequence the log holds durably), only the intents
  // decided at or before it, without waiting for the log.
  Status ApplyPendingWhile(RunStats* stats, const std::function<bool()>& go_on,
                           std::uint64_t durable_through = 0);
  // After `stop`: applies what is pending within the drain timeout; sets
  // stats->left_pending to what is still pending then.
  Status Drain(RunStats* stats);
  // The sources a pass polls in its middle for echoes (MidPass): each has
  // one sink for the whole outer pass, reported as one pass when it ends.
  struct Nested;
  // One pass of `source` (RunOnce). With `nested` (the outer pass's
  // echo polls, null otherwise), applies as it goes (set_mid_pass_intents).
  Status Pass(Source* source, RunStats* stats, Nested* nested);
  // A poll of `source` for the echoes of the writes made in the middle of
  // another source's pass. One that fails is noted in `nested` (reported
  // when the outer pass ends) and not polled again in that pass.
  void NestedPass(Source* source, Nested* nested);
  // The connector a source belongs to ("" for the mail side's).
  std::string ConnectorOf(const Source& source) const;
  // The middle of a pass of `running`: applies the intents decided so far
  // whose decisions are durable, then polls the incremental sources of the
  // sides written to.
  Status MidPass(Source* running, RunStats* stats, Nested* nested);
  Applier* ApplierFor(const Intent& intent);
  // Reads the intents ids[from, to) still to apply (not gone, not applied).
  Status ReadIntents(const std::vector<std::uint64_t>& ids, std::size_t from,
                     std::size_t to, std::vector<Intent>* out);
  // Applies `intents` and makes the writes durable (Applier::Sync). Touches
  // nothing but the appliers: it runs beside the logging of the batch
  // before.
  AppliedBatch ApplyBatch(std::vector<Intent> intents);

  // Runs the tasks queued now (RunLoop's applier thread).
  void RunTasks();
  // Stops taking tasks and cancels those queued.
  void CancelTasks();

  Intake* intake_;
  std::vector<Source*> sources_;
  // Writes attempted on each side (indexed by Side) since the start.
  std::array<std::uint64_t, 2> attempted_{};
  std::uint64_t mid_pass_intents_ = kMidPassIntents;
  std::map<std::pair<Side, std::string>, Applier*> appliers_;
  std::atomic<bool>* stop_;
  std::chrono::milliseconds drain_timeout_{30000};
  const std::atomic<bool>* hurry_ = nullptr;
  RunObserver* observer_;
  RunObserver null_observer_;
  // Wakes Run()'s applier thread: new intents, a task, stop.
  Mutex wake_mu_;
  CondVar wake_cv_{&wake_mu_};
  bool work_ GUARDED_BY(wake_mu_) = false;
  bool taking_tasks_ GUARDED_BY(wake_mu_) = false;
  std::vector<Task> tasks_ GUARDED_BY(wake_mu_);
};

}  // namespace dirledger

#endif  // DIRLEDGER_ENGINE_RUN_LOOP_H_

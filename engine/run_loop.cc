#include "engine/run_loop.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "engine/crash_point.h"

namespace dirledger {

RunLoop::RunLoop(Intake* intake, std::vector<Source*> sources,
                 std::map<std::pair<Side, std::string>, Applier*> appliers,
                 std::atomic<bool>* stop, RunObserver* observer)
    : intake_(intake),
      sources_(std::move(sources)),
      appliers_(std::move(appliers)),
      stop_(stop),
      observer_(observer ? observer : &null_observer_) {
  if (intake_)
    intake_->set_opened_listener(
        [this](const OpenedRecord& r) { observer_->OnOpened(r); });
}

RunLoop::~RunLoop() {
  if (intake_) intake_->set_opened_listener(nullptr);
}

Applier* RunLoop::ApplierFor(const Intent& intent) {
  auto it = appliers_.find({intent.target, intent.connector});
  if (it == appliers_.end()) it = appliers_.find({intent.target, ""});
  return it == appliers_.end() ? nullptr : it->second;
}

struct RunLoop::Nested {
  struct Poll {
    Source* source;
    std::unique_ptr<SourceIntake> sink;
    Status status;  // the first poll that failed; not polled again then
  };
  std::vector<Poll> polls;
  // A write was left for later (its peer unavailable): the pass applies
  // nothing more until it ends, instead of asking that peer again for
  // everything pending at every interval.
  bool applies_stopped = false;
};

std::string RunLoop::ConnectorOf(const Source& source) const {
  for (const auto& c : intake_->rules().connectors())
    if (source.id().rfind(c.config.name + "/", 0) == 0) return c.config.name;
  return "";
}

Status RunLoop::Pass(Source* source, RunStats* stats, Nested* nested) {
  observer_->OnPassStart(source->id());
  const std::string connector = ConnectorOf(*source);
  SourceIntake* sink_ptr = nullptr;
  SourceIntake sink(intake_, source->id(), source->side(), connector, stop_,
                    [&](const AppendResult& r) {
                      observer_->OnAppend(source->id(), r, sink_ptr->stats());
                      if (intake_->dry_run())
                        for (const Intent& i : r.intents)
                          stats->dry_run_intents.push_back(i);
                    });
  sink_ptr = &sink;
  sink.set_remains_finder(source->remains_finder());
  std::uint64_t decided = 0;
  if (nested && mid_pass_intents_ > 0 && !intake_->dry_run())
    sink.set_after_append([&](const AppendResult& r) -> Status {
      decided += r.intents.size();
      if (decided < mid_pass_intents_) return Status::Ok();
      decided = 0;
      return MidPass(source, stats, nested);
    });
  // A cursor that cannot be read fails the pass: the source is not run
  // without one (which would take everything in again).
  Result<std::string> cookie = intake_->Cursor(source->id());
  Status s =
      cookie.ok() ? source->RunOnce(cookie.value(), &sink) : cookie.status();
  // The pass is over when its events are durable (with those its nested
  // polls appended).
  if (Status synced = intake_->Sync(); s.ok() || !synced.ok()) s = synced;
  stats->events += sink.stats().events;
  stats->held += sink.stats().held;
  observer_->OnPassEnd(source->id(), s, sink.stats());
  return s.WithContext(source->id());
}

void RunLoop::NestedPass(Source* source, Nested* nested) {
  auto it =
      std::find_if(nested->polls.begin(), nested->polls.end(),
                   [&](const Nested::Poll& p) { return p.source == source; });
  if (it == nested->polls.end()) {
    const std::string connector = ConnectorOf(*source);
    observer_->OnPassStart(source->id());
    Nested::Poll poll{source, nullptr, Status::Ok()};
    // The hook reads the sink's totals through `nested`, which outlives it.
    poll.sink = std::make_unique<SourceIntake>(
        intake_, source->id(), source->side(), connector, stop_,
        [this, source, nested,
         index = nested->polls.size()](const AppendResult& r) {
          observer_->OnAppend(source->id(), r,
                              nested->polls[index].sink->stats());
        });
    poll.sink->set_remains_finder(source->remains_finder());
    nested->polls.push_back(std::move(poll));
    it = nested->polls.end() - 1;
  }
  if (!it->status.ok()) return;
  Result<std::string> cookie = intake_->Cursor(source->id());
  Status s = cookie.ok() ? source->RunOnce(cookie.value(), it->sink.get())
                         : cookie.status();
  if (!s.ok()) it->status = s;
}

Status RunLoop::MidPass(Source* running, RunStats* stats, Nested* nested) {
  if (nested->applies_stopped) return Status::Ok();
  const std::array<std::uint64_t, 2> before = attempted_;
  const std::uint64_t retry_before = stats->retry_later;
  // The intents of the append just made may not be durable yet: they wait
  // for the next time rather than the pass waiting for them.
  const std::uint64_t durable = intake_->log()->last_seq();
  if (durable == 0) return Status::Ok();
  Status s = ApplyPendingWhile(
      stats, [&] { return !(stop_ && stop_->load()); }, durable);
  if (!s.ok())
    return s.WithContext("applying what " + running->id() + " decided so far");
  if (stats->retry_later != retry_before) nested->applies_stopped = true;
  for (Source* source : sources_) {
    const int side = static_cast<int>(source->side());
    if (source == running || !source->PassIsIncremental() ||
        attempted_[side] == before[side])
      continue;
    if (stop_ && stop_->load()) break;
    NestedPass(source, nested);
  }
  return Status::Ok();
}

Status RunLoop::ReadIntents(const std::vector<std::uint64_t>& ids,
                            std::size_t from, std::size_t to,
                            std::vector<Intent>* out) {
  Status scan;
  intake_->WithProjection([&](const ProjectionStore& p) {
    for (std::size_t k = from; k < to; ++k) {
      // Gone or applied since the ids were read (a source's change
      // dropped it, in daemon mode): nothing to do.
      auto pi = p.GetPending(ids[k]);
      if (pi && !pi->applied) out->push_back(std::move(pi->intent));
    }
    scan = p.status();
  });
  return scan;
}

RunLoop::AppliedBatch RunLoop::ApplyBatch(std::vector<Intent> intents) {
  AppliedBatch done;
  done.intents = std::move(intents);
  done.results.reserve(done.intents.size());
  std::set<Applier*> used;
  for (const Intent& intent : done.intents) {
    Applier* applier = ApplierFor(intent);
    ApplyResult& r = done.results.emplace_back();
    if (!applier) {
      r.status = Status::InvalidArgument(
          "no " + std::string(SideName(intent.target)) +
          " writer for connector \"" + intent.connector + "\"");
      continue;
    }
    r = applier->Apply(intent);
    used.insert(applier);
    // A batch of slow writes is progress too: the watchdog is fed by it.
    observer_->OnHeartbeat();
  }
  for (Applier* a : used)
    if (done.status.ok()) done.status = a->Sync();
  return done;
}

Status RunLoop::ApplyPending(RunStats* stats) {
  return ApplyPendingWhile(stats, [&] { return !(stop_ && stop_->load()); });
}

Status RunLoop::ApplyPendingWhile(RunStats* stats,
                                  const std::function<bool()>& go_on,
                                  std::uint64_t durable_through) {
  if (intake_->dry_run()) return Status::Ok();
  // Only intents whose decisions are durable are applied.
  if (durable_through == 0) DIRLEDGER_RETURN_IF_ERROR(intake_->Sync());
  // The ids first, from the keys alone: after a full sync there may be
  // 100,000 intents pending, each with a full image; holding them all at
  // once took more memory than the rest of the run, and reading each one
  // twice took time. Each batch reads its intents when it comes to them
  // (and skips those applied already).
  std::vector<std::uint64_t> ids;
  Status scan;
  intake_->WithProjection([&](const ProjectionStore& p) {
    scan = p.ForEachPendingId([&](std::uint64_t id) {
      // An intent id is its decision's sequence and its index in it.
      if (durable_through == 0 || (id >> 16) <= durable_through)
        ids.push_back(id);
      return true;
    });
  });
  DIRLEDGER_RETURN_IF_ERROR(scan);
  // Apply in batches: every write of a batch is made durable (Applier::Sync)
  // before their outcomes are logged together. A crash in between leaves
  // them pending, to be applied again; appliers are idempotent. The writes
  // of the next batch are made on a thread of their own while the outcomes
  // of one are decided and logged (one batch at a time per applier, in the
  // order of the ids; the outcomes are logged in that order too).
  constexpr std::size_t kBatch = 256;
  auto stopped = [&] { return !go_on(); };
  std::future<AppliedBatch> applying;
  auto start_batch = [&](std::size_t from) -> Status {
    std::vector<Intent> todo;
    DIRLEDGER_RETURN_IF_ERROR(
        ReadIntents(ids, from, std::min(ids.size(), from + kBatch), &todo));
    applying = std::async(std::launch::async, [this, t = std::move(todo)] {
      return ApplyBatch(std::move(t));
    });
    return Status::Ok();
  };
  if (!ids.empty() && !stopped()) DIRLEDGER_RETURN_IF_ERROR(start_batch(0));
  for (std::size_t start = 0; applying.valid(); start += kBatch) {
    AppliedBatch done = applying.get();
    DIRLEDGER_RETURN_IF_ERROR(done.status);
    CrashPoint("apply.after_writes");  // made and durable, not yet logged
    if (start + kBatch < ids.size() && !stopped())
      DIRLEDGER_RETURN_IF_ERROR(start_batch(start + kBatch));
    std::vector<EventBody> outcomes;
    for (std::size_t k = 0; k < done.intents.size(); ++k) {
      const Intent& intent = done.intents[k];
      ApplyResult& r = done.results[k];
      observer_->OnApplied(intent, r);
      ++attempted_[static_cast<int>(intent.target)];
      if (!r.status.ok() && r.status.retryable()) {
        ++stats->retry_later;
        continue;
      }
      WriteOutcome o;
      o.intent_id = intent.id;
      o.ok = r.status.ok();
      o.message = r.status.ok() ? std::move(r.message) : r.status.message();
      o.side = intent.target;
      o.target_id = intent.target_id;
      o.assigned_id = std::move(r.assigned_id);
      o.retryable = r.status.retryable();
      o.attempts = 1;
      o.already_applied = r.already_applied;
      ++(o.ok ? stats->applied : stats->failed);
      outcomes.emplace_back(std::move(o));
    }
    DIRLEDGER_RETURN_IF_ERROR(
        intake_->Append(std::move(outcomes), std::nullopt));
  }
  return Status::Ok();
}

Status RunLoop::ReleaseDue(std::int64_t* next_due_us) {
  if (next_due_us) *next_due_us = 0;
  if (intake_->dry_run()) return Status::Ok();
  const std::int64_t now = intake_->log()->NowMicros();
  std::vector<std::string> due;
  std::int64_t next = 0;
  Status scan;
  intake_->WithProjection([&](const ProjectionStore& p) {
    scan = p.ForEachHold([&](const HoldState& h) {
      if (h.status != HoldStatus::kWaiting) return true;
      bool any_due = false;
      for (std::int64_t d : h.due_us) {
        if (d <= now) {
          any_due = true;
        } else if (next == 0 || d < next) {
          next = d;
        }
      }
      if (any_due) due.push_back(h.hold.hold_id);
      return true;
    });
  });
  DIRLEDGER_RETURN_IF_ERROR(scan);
  if (next_due_us) *next_due_us = next;
  if (due.empty()) return Status::Ok();
  std::vector<EventBody> events;
  for (std::string& id : due) {
    OperatorAction a;
    a.kind = ActionKind::kRelease;
    a.actor = "dirledger";
    a.hold_id = std::move(id);
    events.emplace_back(std::move(a));
  }
  return intake_->Append(std::move(events), std::nullopt);
}

Status RunLoop::RunOnce(RunStats* stats) {
  Status first_error;
  // Applies what is pending; notes how much of it is left for a later run.
  auto apply_pending = [&]() -> Status {
    const std::uint64_t before = stats->retry_later;
    Status s = ApplyPending(stats);
    stats->left_pending = stats->retry_later - before;
    return s;
  };
  // Intents a crash left pending go first, and deletes a stopped service
  // left waiting that are due now.
  DIRLEDGER_RETURN_IF_ERROR(ReleaseDue(nullptr));
  DIRLEDGER_RETURN_IF_ERROR(apply_pending());
  std::array<std::uint64_t, 2> attempted_before = attempted_;
  for (int round = 0; round < 3; ++round) {
    const std::uint64_t applied_before = stats->applied + stats->failed;
    const std::array<std::uint64_t, 2> written_to = {
        attempted_[0] - attempted_before[0],
        attempted_[1] - attempted_before[1]};
    attempted_before = attempted_;
    for (Source* s : sources_) {
      if (stop_ && stop_->load()) return Status::Aborted("stopped by signal");
      // After the first round, only the sides written to have echoes.
      if (round > 0 && written_to[static_cast<int>(s->side())] == 0) continue;
      Nested nested;
      Status st = Pass(s, stats, &nested);
      if (!st.ok()) {
        observer_->OnError(s->id(), st);
        if (first_error.ok()) first_error = st;
      }
      // The polls made in the middle of the pass, one pass each.
      for (Nested::Poll& p : nested.polls) {
        stats->events += p.sink->stats().events;
        stats->held += p.sink->stats().held;
        observer_->OnPassEnd(p.source->id(), p.status, p.sink->stats());
        if (p.status.ok()) continue;
        Status failed = p.status.WithContext(p.source->id());
        observer_->OnError(p.source->id(), failed);
        if (first_error.ok()) first_error = failed;
      }
    }
    DIRLEDGER_RETURN_IF_ERROR(apply_pending());
    if (intake_->dry_run()) break;
    if (stats->applied + stats->failed == applied_before) break;
  }
  return first_error;
}

bool RunLoop::Post(Task task) {
  MutexLock l(&wake_mu_);
  if (!taking_tasks_) return false;
  tasks_.push_back(std::move(task));
  wake_cv_.SignalAll();
  return true;
}

void RunLoop::RunTasks() {
  std::vector<Task> tasks;
  {
    MutexLock l(&wake_mu_);
    tasks.swap(tasks_);
  }
  for (Task& t : tasks) t(true);
}

void RunLoop::CancelTasks() {
  std::vector<Task> tasks;
  {
    MutexLock l(&wake_mu_);
    taking_tasks_ = false;
    tasks.swap(tasks_);
  }
  for (Task& t : tasks) t(false);
}

Status RunLoop::Run(RunStats* stats) {
  {
    MutexLock l(&wake_mu_);
    taking_tasks_ = true;
    work_ = true;
  }
  // However Run ends, a task still queued is answered.
  struct CancelAtEnd {
    RunLoop* loop;
    ~CancelAtEnd() { loop->CancelTasks(); }
  } cancel_at_end{this};
  DIRLEDGER_RETURN_IF_ERROR(ApplyPending(stats));
  const auto stopping = [this] { return stop_ && stop_->load(); };
  // Waits on wake_cv_ until `until` or `done()`. REQUIRES: wake_mu_ held.
  const auto wait_until = [this](std::chrono::steady_clock::time_point until,
                                 const std::function<bool()>& done) {
    wake_mu_.AssertHeld();
    while (!done()) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= until) break;
      wake_cv_.WaitFor(until - now);
    }
  };
  std::vector<std::thread> threads;
  std::vector<Status> results(sources_.size());
  std::atomic<int> running{static_cast<int>(sources_.size())};
  std::atomic<int> caught_up{0};
  if (sources_.empty()) observer_->OnReady();
  std::atomic<std::uint64_t> events_total{0};
  std::atomic<std::uint64_t> held_total{0};
  for (size_t i = 0; i < sources_.size(); ++i) {
    threads.emplace_back([&, i] {
      Source* source = sources_[i];
      std::string connector;
      std::uint32_t delete_delay_s = 0;
      for (const auto& c : intake_->rules().connectors())
        if (source->id().rfind(c.config.name + "/", 0) == 0) {
          connector = c.config.name;
          delete_delay_s =
              static_cast<std::uint32_t>(std::ceil(c.config.delete_delay_s));
        }
      SourceIntake* sink_ptr = nullptr;
      SourceIntake sink(intake_, source->id(), source->side(), connector, stop_,
                        [&](const AppendResult& r) {
                          observer_->OnAppend(source->id(), r,
                                              sink_ptr->stats());
                          // New intents, or deletes that may wait: the
                          // applier looks (and sees when they are due).
                          if (!r.intents.empty() ||
                              (delete_delay_s > 0 && r.first_seq != 0)) {
                            MutexLock l(&wake_mu_);
                            work_ = true;
                            wake_cv_.SignalAll();
                          }
                        });
      sink_ptr = &sink;
      sink.set_remains_finder(source->remains_finder());
      sink.set_delete_delay(delete_delay_s);
      sink.set_peer_hooks([&] { observer_->OnSourceContact(source->id()); },
                          [&](const Status& why) {
                            observer_->OnSourceUnavailable(source->id(), why);
                          });
      sink.set_caught_up_hook([&] {
        observer_->OnCaughtUp(source->id());
        if (++caught_up == static_cast<int>(sources_.size()))
          observer_->OnReady();
      });
      observer_->OnPassStart(source->id());
      // A source returns on stop or on an error it cannot retry; restart it
      // after a pause unless stopping.
      auto backoff = std::chrono::milliseconds(500);
      while (!stopping()) {
        // A cursor that cannot be read is an error like the source's own
        // (retried after the pause), never a start from nothing.
        Result<std::string> cookie = intake_->Cursor(source->id());
        Status s =
            cookie.ok() ? source->Run(cookie.value(), &sink) : cookie.status();
        if (stopping()) break;
        observer_->OnError(source->id(),
                           s.ok() ? Status::Unavailable("source returned") : s);
        results[i] = s;
        MutexLock l(&wake_mu_);
        wait_until(std::chrono::steady_clock::now() + backoff, stopping);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(30000));
      }
      observer_->OnPassEnd(source->id(), results[i], sink.stats());
      events_total += sink.stats().events;
      held_total += sink.stats().held;
      --running;
      MutexLock l(&wake_mu_);
      wake_cv_.SignalAll();
    });
  }
  // The applier: runs whenever intents were decided, when a waiting delete
  // is due, and every few seconds for retries; between two of its cycles,
  // the tasks posted meanwhile.
  Status applier_status;
  std::int64_t next_due_us = 0;
  while (!stopping()) {
    {
      auto wait = std::chrono::microseconds(5000000);
      if (next_due_us != 0)
        wait = std::clamp(std::chrono::microseconds(
                              next_due_us - intake_->log()->NowMicros()),
                          std::chrono::microseconds(0), wait);
      MutexLock l(&wake_mu_);
      wait_until(std::chrono::steady_clock::now() + wait, [&] {
        wake_mu_.AssertHeld();
        return work_ || !tasks_.empty() || stopping();
      });
      work_ = false;
    }
    observer_->OnHeartbeat();
    if (stopping()) break;
    RunTasks();
    RunStats round;
    Status s = ReleaseDue(&next_due_us);
    if (s.ok()) s = ApplyPending(&round);
    stats->applied += round.applied;
    stats->failed += round.failed;
    stats->retry_later += round.retry_later;
    if (!s.ok()) {
      observer_->OnError("applier", s);
      applier_status = s;
      break;
    }
  }
  CancelTasks();
  if (stop_) stop_->store(true);
  {
    MutexLock l(&wake_mu_);
    wake_cv_.SignalAll();
  }
  for (std::thread& t : threads) t.join();
  stats->events += events_total.load();
  stats->held += held_total.load();
  if (!applier_status.ok()) return applier_status;
  return Drain(stats);
}

Status RunLoop::Drain(RunStats* stats) {
  // The sources have stopped: nothing more is decided. What was decided is
  // applied now (retryable failures stay pending), as long as time allows.
  const auto deadline = std::chrono::steady_clock::now() + drain_timeout_;
  auto go_on = [&] {
    return !(hurry_ && hurry_->load()) &&
           std::chrono::steady_clock::now() < deadline;
  };
  RunStats round;
  Status s = go_on() ? ApplyPendingWhile(&round, go_on) : Status::Ok();
  stats->applied += round.applied;
  stats->failed += round.failed;
  stats->retry_later += round.retry_later;
  if (!s.ok()) observer_->OnError("applier", s);
  std::uint64_t left = 0;
  Status scan;
  intake_->WithProjection([&](const ProjectionStore& p) {
    scan = p.ForEachPending([&](const PendingIntent& pi) {
      if (!pi.applied) ++left;
      return true;
    });
  });
  stats->left_pending = left;
  return s.ok() ? scan : s;
}

}  // namespace dirledger

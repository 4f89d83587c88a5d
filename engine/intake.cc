#include "engine/intake.h"

#include <spdlog/spdlog.h>

#include "codecs/printable.h"
#include "replay/reconciler.h"

namespace dirledger {
namespace {

// Adds one to `key`'s count (a handful of keys: a linear search).
template <typename K>
void CountInto(std::vector<std::pair<K, std::uint32_t>>* counts,
               std::string_view key) {
  for (auto& [k, n] : *counts)
    if (k == key) {
      ++n;
      return;
    }
  counts->emplace_back(K(key), 1);
}

}  // namespace

Decider ReconcileDecider() {
  auto scratch = std::make_shared<ReconcileScratch>();
  return
      [scratch](const ProjectionView& state, const Event& event,
                const RuleSet& rules, Decision* decision, StateDelta* delta) {
        Reconcile(state, event, rules, decision, delta, scratch.get());
      };
}

namespace {

// The holds, failures and conflicts `delta` opens; `before` is the
// projection before it is applied.
void NoteOpened(const ProjectionView& before, const Event& event,
                const StateDelta& delta, std::vector<OpenedRecord>* out) {
  auto note = [&](auto record) {
    out->push_back(OpenedRecord{event.seq, event.time_us, std::move(record)});
  };
  for (const StateMutation& m : delta.mutations) {
    if (const auto* f = std::get_if<PutFailure>(&m)) {
      note(f->failure);
    } else if (const auto* h = std::get_if<PutHold>(&m)) {
      if (h->hold.status != HoldStatus::kOpen) continue;
      const auto was = before.GetHold(h->hold.hold.hold_id);
      if (!was || was->status != HoldStatus::kOpen) note(h->hold);
    } else if (const auto* c = std::get_if<PutConflict>(&m)) {
      if (c->conflict.opened_seq == event.seq) note(c->conflict);
    }
  }
}

}  // namespace

Intake::Intake(EventLog* log, std::shared_ptr<const RuleSet> rules,
               Decider decider, IntakeOptions options)
    : log_(log),
      rules_(std::move(rules)),
      decider_(std::move(decider)),
      options_(options) {}

Intake::~Intake() = default;

Result<bool> Intake::RecordConfig(const ConfigChange& change) {
  DIRLEDGER_RETURN_IF_ERROR(Sync());
  std::vector<EventLog::ConfigRecord> history;
  DIRLEDGER_RETURN_IF_ERROR(log_->ConfigHistory(&history));
  std::string last_sha;
  if (!history.empty()) last_sha = history.back().sha256;
  if (options_.dry_run) {
    MutexLock l(&mu_);
    if (!dry_config_sha_.empty()) last_sha = dry_config_sha_;
  }
  if (last_sha == change.sha256) return false;
  std::vector<EventBody> events;
  events.emplace_back(change);
  DIRLEDGER_RETURN_IF_ERROR(Append(std::move(events), std::nullopt));
  if (options_.dry_run) {
    MutexLock l(&mu_);
    dry_config_sha_ = change.sha256;
  }
  return true;
}

Status Intake::Append(
    std::vector<EventBody> events,
    const std::optional<std::pair<std::string, std::string>>& cursor,
    AppendResult* result) {
  MutexLock l(&mu_);
  if (result) *result = AppendResult{};
  if (events.empty() && !cursor) return Status::Ok();
  // A cursor that moved is recorded in the hash chain too, after the events
  // it follows: `verify` compares the stored cursor with the last one
  // recorded, so an edited cursor is found.
  if (cursor) {
    Result<std::string> before = LastCursorLocked(cursor->first);
    if (!before.ok()) return before.status();
    if (*before != cursor->second)
      events.emplace_back(CursorAdvance{cursor->first, cursor->second});
  }

  std::unique_ptr<LogTransaction> own;
  LogTransaction* txn = nullptr;
  if (options_.dry_run) {
    if (!dry_txn_) {
      auto t = log_->Begin();
      if (!t.ok()) return t.status();
      dry_txn_ = std::move(t).value();
    }
    txn = dry_txn_.get();
  } else {
    auto t = log_->Begin();
    if (!t.ok()) return t.status();
    own = std::move(t).value();
    txn = own.get();
  }

  Decision decision;
  StateDelta delta;
  std::vector<std::string> index_ids;
  std::vector<OpenedRecord> opened;
  for (EventBody& body : events) {
    Event event;
    event.seq = txn->NextSeq();
    // Stamped before it is decided: a delete's due time is its time plus
    // its delay (rules 3), the same in replay.
    event.time_us = txn->NowMicros();
    event.body = std::move(body);
    if (auto* h = std::get_if<DeleteHold>(&event.body); h && h->hold_id.empty())
      h->hold_id = "hold-" + std::to_string(event.seq);
    // A DN is worth indexing when it is new for its object (explain by an
    // old DN finds the event where that DN first appeared).
    std::string unchanged_dn;
    if (const auto* c = std::get_if<ObservedChange>(&event.body);
        c && !c->dn.empty()) {
      if (auto old = txn->projection().GetObject(c->side, c->kind, c->id);
          old && EqualsIgnoreCase(old->dn, c->dn))
        unchanged_dn = c->dn;
    }
    decision = Decision{};
    delta.clear();
    decider_(txn->projection(), event, *rules_, &decision, &delta);
    decision.seq = event.seq;
    DIRLEDGER_RETURN_IF_ERROR(txn->projection().status().WithContext(
        "deciding log record " + std::to_string(event.seq)));
    index_ids.clear();
    for (const std::string& id : decision.object_ids)
      if (unchanged_dn.empty() || !EqualsIgnoreCase(id, unchanged_dn))
        index_ids.push_back(id);
    if (const auto* c = std::get_if<ObservedChange>(&event.body);
        c && unchanged_dn.empty() && !c->dn.empty())
      index_ids.push_back(c->dn);
    DIRLEDGER_RETURN_IF_ERROR(txn->Add(&event, &decision, index_ids));
    if (opened_listener_ && !options_.dry_run)
      NoteOpened(txn->projection(), event, delta, &opened);
    DIRLEDGER_RETURN_IF_ERROR(txn->projection().Apply(delta));
    // A failure is told once, when it is decided; `status` keeps it.
    if (!options_.dry_run)
      for (const StateMutation& m : delta.mutations)
        if (const auto* f = std::get_if<PutFailure>(&m))
          spdlog::error("{} {} (seq {}): {} {} {}: {}; `dirledger dismiss {}`",
                        FailureKindName(f->failure.kind), FailureId(f->failure),
                        event.seq, SideName(f->failure.side),
                        KindName(f->failure.object_kind),
                        PrintableText(f->failure.object),
                        PrintableText(f->failure.message),
                        FailureId(f->failure));
    if (result) {
      if (result->first_seq == 0) result->first_seq = event.seq;
      result->last_seq = event.seq;
      for (const Intent& i : decision.intents) {
        result->intents.push_back(i);
        result->intent_times_us.push_back(event.time_us);
      }
      if (options_.keep_decisions) result->decisions.push_back(decision);
      CountInto(&result->events_by_kind, EventKindName(event.body));
      CountInto(&result->decisions_by_rule, decision.rule);
    }
  }
  if (cursor) {
    if (options_.dry_run) {
      dry_cursors_[cursor->first] = cursor->second;
    } else {
      DIRLEDGER_RETURN_IF_ERROR(txn->PutCursor(cursor->first, cursor->second));
      stored_cursors_[cursor->first] = cursor->second;
    }
  }
  if (options_.dry_run) return Status::Ok();
  Status written =
      options_.async_commit ? log_->Submit(std::move(own)) : txn->Commit();
  if (written.ok())
    for (const OpenedRecord& r : opened) opened_listener_(r);
  return written;
}

void Intake::set_opened_listener(std::function<void(const OpenedRecord&)> fn) {
  MutexLock l(&mu_);
  opened_listener_ = std::move(fn);
}

Status Intake::Sync() {
  MutexLock l(&mu_);
  return log_->WaitCommitted();
}

const ProjectionStore& Intake::projection() {
  MutexLock l(&mu_);
  // A failed write is not this reader's to report: it fails every later
  // Append and Sync, and what is committed is still read as it stands.
  (void)log_->WaitCommitted();
  return dry_txn_ ? dry_txn_->projection() : log_->projection();
}

void Intake::WithProjection(
    const std::function<void(const ProjectionStore&)>& fn) {
  MutexLock l(&mu_);
  if (dry_txn_) {
    fn(dry_txn_->projection());
    return;
  }
  // Appends hold mu_: no transaction is committed while `fn` reads.
  log_->ReadTail(fn);
}

Result<std::string> Intake::Cursor(const std::string& source) {
  MutexLock l(&mu_);
  return CursorLocked(source);
}

Result<std::string> Intake::LastCursorLocked(const std::string& source) {
  if (!options_.dry_run)
    if (auto it = stored_cursors_.find(source); it != stored_cursors_.end())
      return it->second;
  return CursorLocked(source);
}

Result<std::string> Intake::CursorLocked(const std::string& source) {
  if (auto it = dry_cursors_.find(source); it != dry_cursors_.end())
    return it->second;
  // The cursor stored with the last batch, once that batch is written.
  DIRLEDGER_RETURN_IF_ERROR(log_->WaitCommitted());
  std::string cookie;
  Status s = log_->GetCursor(source, &cookie);
  if (s.IsNotFound()) return std::string();
  DIRLEDGER_RETURN_IF_ERROR(s);
  return cookie;
}

}  // namespace dirledger

#include "engine/metrics/run_metrics.h"

#include <filesystem>
#include <system_error>

#include "codecs/cookie_time.h"

namespace dirledger {
namespace {

// Intents whose decision time is kept for the latency histogram at once: a
// bound on its memory (about 8 MB) through a huge first sync or intents
// dropped unapplied; those beyond it are not measured.
constexpr std::size_t kMaxTracked = 200000;

std::int64_t WallMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t SteadyNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The bytes of the regular files in `dir` and below (what `du` counts of
// the log's database: tables, write-ahead log, manifest).
double DirBytes(const std::string& dir) {
  std::error_code ec;
  double total = 0;
  for (std::filesystem::recursive_directory_iterator it(
           dir, std::filesystem::directory_options::skip_permission_denied, ec),
       end;
       !ec && it != end; it.increment(ec)) {
    std::error_code size_ec;
    if (it->is_regular_file(size_ec)) {
      const auto size = it->file_size(size_ec);
      if (!size_ec) total += static_cast<double>(size);
    }
  }
  return total;
}

}  // namespace

RunMetrics::RunMetrics(MetricsRegistry* registry, const EventLog* log,
                       RunMetricsOptions options)
    : log_(log),
      options_(std::move(options)),
      last_heartbeat_ns_(SteadyNanos()) {
  MetricsRegistry& r = *registry;
  log_records_ = r.AddGauge("dirledger_log_records",
                            "Records in the log (its last sequence number).")
                     ->With({});
  log_bytes_ =
      r.AddGauge("dirledger_log_bytes",
                 "Bytes of the log's database files on disk (DATA/log).")
          ->With({});
  events_ = r.AddCounter(
      "dirledger_events_total",
      "Events the sources delivered and the log took, by source and kind.",
      {"source", "kind"});
  decisions_ = r.AddCounter(
      "dirledger_decisions_total",
      "Decisions on the events the sources delivered, by rule id.", {"rule"});
  GaugeFamily* pending = r.AddGauge(
      "dirledger_intents_pending",
      "Writes decided and not yet applied, by the side they go to.", {"side"});
  pending_ldap_ = pending->With({"ldap"});
  pending_mail_ = pending->With({"mail"});
  writes_ = r.AddCounter(
      "dirledger_writes_total",
      "Writes attempted, by side and result (ok, failed, retry_later: the "
      "peer was unavailable and the write stays pending).",
      {"side", "result"});
  failed_writes_ = r.AddGauge("dirledger_failed_writes",
                              "Writes that failed for good, listed by "
                              "`dirledger status` until resolved or "
                              "dismissed.")
                       ->With({});
  object_errors_ = r.AddGauge("dirledger_object_errors",
                              "Objects that could not be taken in (per-object "
                              "errors), listed by `dirledger status`.")
                       ->With({});
  held_deletes_ = r.AddGauge("dirledger_held_deletes",
                             "Deletes held by the mass-delete guard, waiting "
                             "for `approve` or `reject`.")
                      ->With({});
  waiting_deletes_ = r.AddGauge("dirledger_deletes_waiting",
                                "Deletes waiting for their connector's "
                                "delete_delay_s.")
                         ->With({});
  conflicts_ = r.AddGauge("dirledger_open_conflicts",
                          "Open conflicts (both_ways connectors).")
                   ->With({});
  drift_ = r.AddGauge("dirledger_drift_objects",
                      "Objects whose non-authoritative side differs "
                      "(one-way connectors).")
               ->With({});
  GaugeFamily* up = r.AddGauge(
      "dirledger_source_up",
      "1 once the source finished a refresh or a poll or delivered, 0 "
      "before that, while it cannot reach its server and after an error.",
      {"source"});
  GaugeFamily* contact = r.AddGauge(
      "dirledger_source_last_contact_timestamp_seconds",
      "When the source last delivered or finished a pass (Unix time).",
      {"source"});
  lag_ = r.AddGauge(
      "dirledger_source_lag_seconds",
      "Age of the newest change the source's cursor covers (sources whose "
      "cursor carries its time: syncrepl's CSN).",
      {"source"});
  latency_ = r.AddHistogram(
      "dirledger_change_apply_latency_seconds",
      "Time from a change's logged event to its write applied, by the side "
      "written.",
      {"side"},
      {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800});
  for (const std::string& s : options_.sources) {
    PerSource& p = sources_[s];
    p.up = up->With({s});
    p.last_contact = contact->With({s});
  }
  r.AddCollector([this] { Collect(); });
}

const RunMetrics::PerSource* RunMetrics::Source(
    const std::string& source) const {
  auto it = sources_.find(source);
  return it == sources_.end() ? nullptr : &it->second;
}

void RunMetrics::OnAppend(const std::string& source, const AppendResult& r,
                          const SourceStats&) {
  const PerSource* p = Source(source);
  if (!p) return;
  p->up->Set(1);
  for (const auto& [kind, n] : r.events_by_kind)
    events_->With({source, std::string(kind)})->Inc(n);
  for (const auto& [rule, n] : r.decisions_by_rule)
    if (!rule.empty()) decisions_->With({rule})->Inc(n);
  if (r.intents.empty()) return;
  MutexLock l(&mu_);
  for (std::size_t i = 0; i < r.intents.size() && i < r.intent_times_us.size();
       ++i) {
    if (decided_us_.size() >= kMaxTracked) break;
    decided_us_.emplace(r.intents[i].id, r.intent_times_us[i]);
  }
}

void RunMetrics::OnApplied(const Intent& intent, const ApplyResult& r) {
  const std::string side(SideName(intent.target));
  const bool later = !r.status.ok() && r.status.retryable();
  writes_->With({side, r.status.ok() ? "ok"
                       : later       ? "retry_later"
                                     : "failed"})
      ->Inc();
  if (later) return;  // still pending: its time goes on
  std::int64_t decided = 0;
  {
    MutexLock l(&mu_);
    auto it = decided_us_.find(intent.id);
    if (it == decided_us_.end()) return;  // decided before this run
    decided = it->second;
    decided_us_.erase(it);
  }
  if (!r.status.ok()) return;
  latency_->With({side})->Observe(
      static_cast<double>(std::max<std::int64_t>(0, WallMicros() - decided)) /
      1e6);
}

void RunMetrics::OnError(const std::string& what, const Status&) {
  if (const PerSource* p = Source(what)) p->up->Set(0);
}

void RunMetrics::OnCaughtUp(const std::string& source) {
  if (const PerSource* p = Source(source)) p->up->Set(1);
  MutexLock l(&mu_);
  caught_up_.insert(source);
}

void RunMetrics::OnSourceContact(const std::string& source) {
  if (const PerSource* p = Source(source)) p->up->Set(1);
}

void RunMetrics::OnSourceUnavailable(const std::string& source, const Status&) {
  if (const PerSource* p = Source(source)) p->up->Set(0);
}

void RunMetrics::OnReady() {
  MutexLock l(&mu_);
  ready_ = true;
}

void RunMetrics::OnHeartbeat() {
  last_heartbeat_ns_.store(SteadyNanos(), std::memory_order_relaxed);
}

RunMetrics::Verdict RunMetrics::Health() const {
  const std::int64_t age_ns =
      SteadyNanos() - last_heartbeat_ns_.load(std::memory_order_relaxed);
  const auto limit = options_.heartbeat_timeout;
  if (std::chrono::nanoseconds(age_ns) <= limit) return {true, "ok\n"};
  return {false, "unhealthy: no heartbeat from the run loop for " +
                     std::to_string(age_ns / 1000000000) + " s (limit " +
                     std::to_string(limit.count() / 1000) + " s)\n"};
}

RunMetrics::Verdict RunMetrics::Readiness() const {
  MutexLock l(&mu_);
  std::string waiting;
  for (const std::string& s : options_.sources)
    if (!caught_up_.count(s)) waiting += (waiting.empty() ? "" : ", ") + s;
  if (ready_ || waiting.empty()) return {true, "ready\n"};
  return {false, "not ready: first refresh not finished by " + waiting + "\n"};
}

void RunMetrics::Collect() {
  if (!log_) return;
  log_records_->Set(static_cast<double>(log_->last_seq()));
  log_bytes_->Set(DirBytes(log_->dir()));
  // Status records and cursors are small (one per source).
  (void)log_->ForEachSourceStatus([&](const SourceStatus& st) {
    if (const PerSource* p = Source(st.source); p && st.last_contact_us > 0)
      p->last_contact->Set(static_cast<double>(st.last_contact_us) / 1e6);
  });
  const std::int64_t now = WallMicros();
  (void)log_->ForEachCursor(
      [&](std::string_view source, std::string_view cookie) {
        const std::string name(source);
        if (!Source(name)) return;
        if (const std::int64_t t = CookieChangeTimeUs(cookie); t > 0)
          lag_->With({name})->Set(static_cast<double>(now - t) / 1e6);
      });
  CollectProjection();
}

void RunMetrics::CollectProjection() {
  MutexLock l(&collect_mu_);
  const auto now = SteadyClock::now();
  if (projection_read_.time_since_epoch().count() != 0 &&
      now - projection_read_ < options_.projection_refresh)
    return;
  projection_read_ = now;
  const ProjectionStore& p = log_->projection();
  std::uint64_t ldap = 0, mail = 0, failed = 0, errors = 0, held = 0,
                waiting = 0, conflicts = 0, drift = 0;
  // A scan that fails leaves its gauges as they were (the sync reports
  // storage errors itself).
  if (p.ForEachPending([&](const PendingIntent& pi) {
         if (!pi.applied) ++(pi.intent.target == Side::kLdap ? ldap : mail);
         return true;
       }).ok()) {
    pending_ldap_->Set(static_cast<double>(ldap));
    pending_mail_->Set(static_cast<double>(mail));
  }
  if (p.ForEachFailure([&](const FailureState& f) {
         ++(f.kind == FailureKind::kFailedWrite ? failed : errors);
         return true;
       }).ok()) {
    failed_writes_->Set(static_cast<double>(failed));
    object_errors_->Set(static_cast<double>(errors));
  }
  if (p.ForEachHold([&](const HoldState& h) {
         if (h.status == HoldStatus::kOpen) held += h.hold.deletes.size();
         if (h.status == HoldStatus::kWaiting) waiting += h.hold.deletes.size();
         return true;
       }).ok()) {
    held_deletes_->Set(static_cast<double>(held));
    waiting_deletes_->Set(static_cast<double>(waiting));
  }
  if (p.ForEachConflict([&](const ConflictState&) {
         ++conflicts;
         return true;
       }).ok())
    conflicts_->Set(static_cast<double>(conflicts));
  if (p.ForEachDrift([&](const DriftState&) {
         ++drift;
         return true;
       }).ok())
    drift_->Set(static_cast<double>(drift));
}

}  // namespace dirledger

// RunMetrics: the service's metrics and health. As a RunObserver it counts
// what the run loop reports (events and decisions as sources deliver them,
// writes and their results, the time from a change's logged event to its
// applied write, each source's state, the loop's heartbeat); when scraped
// (a registry collector) it reads the log's record count and size, each
// source's last contact and cursor, and the projection's open items
// (pending intents, failures, holds, conflicts, drift), as `dirledger
// status` does, from the log the service already holds open.
//
// Health (/healthz): the run loop's heartbeat (RunObserver::OnHeartbeat,
// at least every 5 s while it waits) is at most `heartbeat_timeout` old.
// Readiness (/readyz): every source finished its first refresh.
//
// Thread safety: RunObserver methods are called from the source threads and
// the applier thread at once, the collector and Health/Ready from the HTTP
// server's threads; all are safe for that. Observer calls take no lock
// across I/O. The collector's reads of the committed projection run beside
// the sync (RocksDB reads); their counts are cached for a few seconds so
// frequent scrapes do not repeat a scan of many pending intents.
#ifndef DIRLEDGER_ENGINE_METRICS_RUN_METRICS_H_
#define DIRLEDGER_ENGINE_METRICS_RUN_METRICS_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "codecs/mutex.h"
#include "engine/metrics/metrics_registry.h"
#include "engine/run_loop.h"
#include "storage/event_log.h"

namespace dirledger {

struct RunMetricsOptions {
  // The configured sources' ids (the label values of the per-source
  // metrics; nothing else becomes a source label).
  std::vector<std::string> sources;
  // /healthz fails when the last heartbeat is older than this.
  std::chrono::milliseconds heartbeat_timeout{30000};
  // The projection's counts are read again when older than this.
  std::chrono::milliseconds projection_refresh{5000};
};

class RunMetrics : public RunObserver {
 public:
  // Registers the metrics in `registry` and a collector reading `log` (may
  // be null: the scrape-time metrics stay 0). REQUIRES: both outlive this
  // object, and this object outlives every scrape (stop the server first).
  RunMetrics(MetricsRegistry* registry, const EventLog* log,
             RunMetricsOptions options);

  void OnAppend(const std::string& source, const AppendResult& r,
                const SourceStats& totals) override;
  void OnApplied(const Intent& intent, const ApplyResult& r) override;
  void OnError(const std::string& what, const Status& s) override;
  void OnCaughtUp(const std::string& source) override;
  void OnReady() override;
  void OnSourceContact(const std::string& source) override;
  void OnSourceUnavailable(const std::string& source,
                           const Status& why) override;
  void OnHeartbeat() override;

  struct Verdict {
    bool ok = false;
    std::string text;  // the response body: "ok", or why not
  };
  Verdict Health() const;
  Verdict Readiness() const;

 private:
  using SteadyClock = std::chrono::steady_clock;
  struct PerSource {
    Gauge* up = nullptr;
    Gauge* last_contact = nullptr;
  };
  // The scrape-time metrics (a registry collector).
  void Collect();
  void CollectProjection();
  // The configured source's gauges, null for any other name.
  const PerSource* Source(const std::string& source) const;

  const EventLog* log_;
  const RunMetricsOptions options_;
  CounterFamily* events_;
  CounterFamily* decisions_;
  CounterFamily* writes_;
  HistogramFamily* latency_;
  GaugeFamily* lag_;  // a series once a source's cursor tells a time
  Gauge* log_records_;
  Gauge* log_bytes_;
  Gauge* pending_ldap_;
  Gauge* pending_mail_;
  Gauge* failed_writes_;
  Gauge* object_errors_;
  Gauge* held_deletes_;
  Gauge* waiting_deletes_;
  Gauge* conflicts_;
  Gauge* drift_;
  std::map<std::string, PerSource> sources_;  // fixed after construction

  std::atomic<std::int64_t> last_heartbeat_ns_;  // steady clock
  mutable Mutex mu_;
  std::set<std::string> caught_up_ GUARDED_BY(mu_);
  bool ready_ GUARDED_BY(mu_) = false;
  // The log time of each intent decided in this run and not yet applied.
  std::unordered_map<std::uint64_t, std::int64_t> decided_us_ GUARDED_BY(mu_);
  // When the projection's counts were last read.
  Mutex collect_mu_;
  SteadyClock::time_point projection_read_ GUARDED_BY(collect_mu_);
};

}  // namespace dirledger

#endif  // DIRLEDGER_ENGINE_METRICS_RUN_METRICS_H_

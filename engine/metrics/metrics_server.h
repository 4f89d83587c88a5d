// MetricsServer: the service's HTTP endpoint ([service] metrics_listen),
// served by cpp-httplib on threads of its own:
//   GET /metrics  the registry in the Prometheus text format (0.0.4)
//   GET /healthz  200 while the run loop's heartbeat is recent, else 503
//   GET /readyz   200 once every source finished its first refresh, else
//                 503 naming those that have not
// A 503's body says why. Nothing else is served (404); nothing is written.
//
// Thread safety: Start and the destructor from one thread; requests are
// answered on the server's threads.
#ifndef DIRLEDGER_ENGINE_METRICS_METRICS_SERVER_H_
#define DIRLEDGER_ENGINE_METRICS_METRICS_SERVER_H_

#include <memory>
#include <thread>

#include "codecs/config.h"
#include "codecs/status.h"
#include "engine/metrics/metrics_registry.h"
#include "engine/metrics/run_metrics.h"

namespace dirledger {

class MetricsServer {
 public:
  // Listens on `at` and serves until destroyed. An address that cannot be
  // bound (in use, not this host's) is an error naming it.
  // REQUIRES: `registry` and `run` outlive the server.
  static Result<std::unique_ptr<MetricsServer>> Start(
      const ListenAddress& at, const MetricsRegistry* registry,
      const RunMetrics* run);
  // Stops listening, waits for the requests being answered.
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  const ListenAddress& address() const { return address_; }

 private:
  struct Impl;
  MetricsServer(ListenAddress at, std::unique_ptr<Impl> impl);

  ListenAddress address_;
  std::unique_ptr<Impl> impl_;
  std::thread thread_;
};

}  // namespace dirledger

#endif  // DIRLEDGER_ENGINE_METRICS_METRICS_SERVER_H_

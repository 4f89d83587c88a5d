#include "engine/metrics/metrics_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "engine/metrics/text_exposition.h"

namespace dirledger {
namespace {

// Scrapes and probes are small: two threads answer them.
constexpr std::size_t kThreads = 2;

}  // namespace

struct MetricsServer::Impl {
  httplib::Server server;
};

MetricsServer::MetricsServer(ListenAddress at, std::unique_ptr<Impl> impl)
    : address_(std::move(at)), impl_(std::move(impl)) {}

Result<std::unique_ptr<MetricsServer>> MetricsServer::Start(
    const ListenAddress& at, const MetricsRegistry* registry,
    const RunMetrics* run) {
  auto impl = std::make_unique<Impl>();
  httplib::Server& s = impl->server;
  s.new_task_queue = [] { return new httplib::ThreadPool(kThreads); };
  // SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, which would let
  // a second process bind the same port and take half the scrapes.
  s.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  s.set_read_timeout(5, 0);
  s.set_write_timeout(5, 0);
  s.Get("/metrics", [registry](const httplib::Request&, httplib::Response& r) {
    r.set_content(RenderTextExposition(registry->Snapshot()),
                  std::string(kTextExpositionContentType));
  });
  auto verdict = [](const RunMetrics::Verdict& v, httplib::Response& r) {
    r.status = v.ok ? 200 : 503;
    r.set_content(v.text, "text/plain; charset=utf-8");
  };
  s.Get("/healthz",
        [run, verdict](const httplib::Request&, httplib::Response& r) {
          verdict(run->Health(), r);
        });
  s.Get("/readyz",
        [run, verdict](const httplib::Request&, httplib::Response& r) {
          verdict(run->Readiness(), r);
        });
  errno = 0;
  if (!s.bind_to_port(at.host, at.port)) {
    const int err = errno;
    return Status::Unavailable(
        "cannot listen on " + at.ToString() + " ([service] metrics_listen): " +
        (err == EADDRINUSE      ? std::string("the address is in use")
         : err == EADDRNOTAVAIL ? std::string("not an address of this host")
         : err != 0             ? std::string(std::strerror(err))
                                : std::string("the address cannot be bound")));
  }
  std::unique_ptr<MetricsServer> server(new MetricsServer(at, std::move(impl)));
  httplib::Server* raw = &server->impl_->server;
  server->thread_ = std::thread([raw] { raw->listen_after_bind(); });
  // Running before Start returns: a stop() before that would be missed.
  for (int i = 0; i < 5000 && !raw->is_running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return server;
}

MetricsServer::~MetricsServer() {
  impl_->server.stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace dirledger

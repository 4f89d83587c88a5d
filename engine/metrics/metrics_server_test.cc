#include "engine/metrics/metrics_server.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

namespace dirledger {
namespace {

// A loopback socket listening on `want`, or on a port the kernel picks.
struct Listener {
  int fd = -1;
  int port = 0;
  explicit Listener(int want = 0) {
    fd = socket(AF_INET, SOCK_STREAM, 0);
    int yes = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(want));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(listen(fd, 1) == 0);
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ~Listener() {
    if (fd >= 0) close(fd);
  }
};

TEST_CASE("the server answers /metrics, /healthz and /readyz", "[metrics]") {
  MetricsRegistry reg;
  RunMetrics run(&reg, nullptr, {{"corp/syncrepl"}});
  int port = 0;
  {
    Listener free_port;  // closed again: the server takes the port
    port = free_port.port;
  }
  auto server = MetricsServer::Start({"127.0.0.1", port}, &reg, &run);
  REQUIRE(server.ok());
  httplib::Client client("127.0.0.1", port);
  auto metrics = client.Get("/metrics");
  REQUIRE(metrics);
  CHECK(metrics->status == 200);
  CHECK(metrics->get_header_value("Content-Type") ==
        "text/plain; version=0.0.4; charset=utf-8");
  CHECK(metrics->body.find("# TYPE dirledger_source_up gauge\n") !=
        std::string::npos);
  auto health = client.Get("/healthz");
  REQUIRE(health);
  CHECK(health->status == 200);
  auto ready = client.Get("/readyz");
  REQUIRE(ready);
  CHECK(ready->status == 503);
  CHECK(ready->body.find("corp/syncrepl") != std::string::npos);
  run.OnCaughtUp("corp/syncrepl");
  ready = client.Get("/readyz");
  REQUIRE(ready);
  CHECK(ready->status == 200);
  auto other = client.Get("/other");
  REQUIRE(other);
  CHECK(other->status == 404);
  server->reset();  // stops: the port is free again
  Listener again(port);
  CHECK(again.port == port);
}

TEST_CASE("an address in use is an error naming it", "[metrics]") {
  MetricsRegistry reg;
  RunMetrics run(&reg, nullptr, {});
  Listener taken;
  auto server = MetricsServer::Start({"127.0.0.1", taken.port}, &reg, &run);
  REQUIRE_FALSE(server.ok());
  CHECK(server.status().message().find(
            "127.0.0.1:" + std::to_string(taken.port)) != std::string::npos);
  CHECK(server.status().message().find("in use") != std::string::npos);
}

}  // namespace
}  // namespace dirledger

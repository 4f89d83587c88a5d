// End to end: `dirledger run` under a Type=notify unit speaks systemd's
// notify protocol (sd_notify) on NOTIFY_SOCKET: READY=1 only once every
// source has finished its first refresh, WATCHDOG=1 from the run loop when
// WATCHDOG_USEC asks for it, STATUS= lines, STOPPING=1 on SIGTERM. The test
// is the service manager's end of the socket.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>

#include "tests/e2e/e2e_env.h"

namespace dirledger::test {
namespace {

constexpr int kPort = 4177;

// A datagram socket as systemd listens on: every notification is one
// datagram of NAME=VALUE lines.
class NotifySocket {
 public:
  explicit NotifySocket(std::string path) : path_(std::move(path)) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    REQUIRE(path_.size() < sizeof addr.sun_path);
    path_.copy(addr.sun_path, path_.size());
    REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    timeval tv{0, 200000};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~NotifySocket() {
    close(fd_);
    unlink(path_.c_str());
  }
  const std::string& path() const { return path_; }

  // Reads what arrived within ~200 ms into messages().
  void Drain() {
    char buf[4096];
    while (true) {
      const ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return;
      messages_.emplace_back(buf, static_cast<size_t>(n));
    }
  }
  bool Seen(const std::string& line) {
    Drain();
    for (const std::string& m : messages_)
      if (Contains("\n" + m + "\n", "\n" + line + "\n")) return true;
    return false;
  }
  int Count(const std::string& line) {
    Drain();
    int n = 0;
    for (const std::string& m : messages_)
      if (Contains("\n" + m + "\n", "\n" + line + "\n")) ++n;
    return n;
  }
  std::string All() const {
    std::string out;
    for (const std::string& m : messages_) out += "[" + m + "] ";
    return out;
  }

 private:
  std::string path_;
  int fd_ = -1;
  std::vector<std::string> messages_;
};

TEST_CASE("run as a service tells systemd: ready after the first refresh",
          "[e2e][service]") {
  E2eEnv env(kPort, 5);
  CliRunner& dl = env.cli();
  NotifySocket sock(env.tmp() / "notify.sock");

  // The LDAP server does not answer yet: no READY=1 while it cannot be read.
  env.slapd().Pause();
  dl.StartService(
      {"run"}, {{"NOTIFY_SOCKET", sock.path()}, {"WATCHDOG_USEC", "2000000"}});
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (std::chrono::steady_clock::now() < until) sock.Drain();
  INFO("notifications: " << sock.All());
  REQUIRE_FALSE(sock.Seen("READY=1"));
  REQUIRE(Contains(sock.All(), "STATUS=first refresh"));

  env.slapd().Resume();
  WaitUntil("READY=1", [&] { return sock.Seen("READY=1"); });
  INFO("notifications: " << sock.All());
  REQUIRE(Contains(sock.All(), "STATUS=in sync"));
  // The first refresh is in the log by then: all five people were seen.
  auto log = dl.Run({"log", "--json"});
  REQUIRE(log.exit_code == 0);
  int people = 0;
  for (const auto& j : log.Json())
    if (j["kind"] == "change" && j["side"] == "ldap") ++people;
  REQUIRE(people >= 5);

  // The watchdog is fed from the run loop, again and again.
  WaitUntil("two WATCHDOG=1", [&] { return sock.Count("WATCHDOG=1") >= 2; });

  CliResult stopped = dl.StopService();
  INFO(stopped.Describe());
  REQUIRE(stopped.exit_code == 0);
  REQUIRE(sock.Seen("STOPPING=1"));
}

}  // namespace
}  // namespace dirledger::test

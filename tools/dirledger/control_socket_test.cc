#include "tools/dirledger/control_socket.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <thread>

#include "tests/support/temp_dir.h"

namespace dirledger::cli {
namespace {

using dirledger::test::TempDir;

// Echoes the command words; uid in err.
ControlServer::Handler Echo() {
  return [](const ControlRequest& r, const PeerCredentials& peer,
            const ControlServer::NoteFn& note) {
    note("working");
    ControlReply reply;
    for (std::size_t i = 1; i < r.argv.size(); ++i) reply.out += r.argv[i];
    reply.err = "uid " + std::to_string(peer.uid);
    reply.exit = 7;
    return reply;
  };
}

ControlRequest Request(std::vector<std::string> argv) {
  ControlRequest r;
  r.argv = std::move(argv);
  return r;
}

// Sends raw bytes, then reads until the server closes.
std::string Raw(const std::string& path, const std::string& bytes) {
  auto fd = ConnectControl(path);
  REQUIRE(fd.ok());
  REQUIRE(*fd >= 0);
  REQUIRE(::send(*fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(bytes.size()));
  std::string got;
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(*fd, buf, sizeof buf, 0)) > 0)
    got.append(buf, static_cast<std::size_t>(n));
  ::close(*fd);
  return got;
}

TEST_CASE("a request is answered, with the asker's uid and notes",
          "[control]") {
  TempDir tmp;
  const std::string path = ControlSocketPath(tmp.path());
  auto server = ControlServer::Start(path, Echo());
  REQUIRE(server.ok());
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK(S_ISSOCK(st.st_mode));
  CHECK((st.st_mode & 07777) == 0600);

  auto fd = ConnectControl(path);
  REQUIRE(fd.ok());
  REQUIRE(*fd >= 0);
  std::vector<std::string> notes;
  auto reply =
      ExchangeControl(*fd, Request({"dirledger", "approve", "h-1"}),
                      [&](const std::string& n) { notes.push_back(n); });
  REQUIRE(reply.ok());
  CHECK(reply->exit == 7);
  CHECK(reply->out == "approveh-1");
  CHECK(reply->err == "uid " + std::to_string(::getuid()));
  CHECK(notes == std::vector<std::string>{"working"});

  server->reset();
  CHECK(::access(path.c_str(), F_OK) != 0);  // removed at the end
  auto none = ConnectControl(path);
  REQUIRE(none.ok());
  CHECK(*none == -1);  // no service: the command runs by itself
}

TEST_CASE("garbage, oversized and cut requests never stop the server",
          "[control]") {
  TempDir tmp;
  const std::string path = ControlSocketPath(tmp.path());
  auto server = ControlServer::Start(path, Echo());
  REQUIRE(server.ok());

  const std::string garbage = Raw(path, "this is not json\n");
  CHECK(garbage.find("\"exit\":2") != std::string::npos);
  CHECK(garbage.find("malformed request") != std::string::npos);

  const std::string big =
      Raw(path, "{\"argv\":[\"" + std::string(kMaxRequestBytes + 10, 'x'));
  CHECK(big.find("longer than the control socket takes") != std::string::npos);

  // Half a request, then gone: the server drops it and goes on.
  {
    auto fd = ConnectControl(path);
    REQUIRE(fd.ok());
    const std::string half = "{\"argv\":[\"dirl";
    REQUIRE(::send(*fd, half.data(), half.size(), MSG_NOSIGNAL) > 0);
    ::close(*fd);
  }
  auto fd = ConnectControl(path);
  REQUIRE(fd.ok());
  auto reply = ExchangeControl(*fd, Request({"dirledger", "dismiss", "F1"}),
                               [](const std::string&) {});
  REQUIRE(reply.ok());
  CHECK(reply->out == "dismissF1");
}

TEST_CASE("a client that sends nothing does not hold the server up",
          "[control]") {
  TempDir tmp;
  const std::string path = ControlSocketPath(tmp.path());
  auto server = ControlServer::Start(path, Echo());
  REQUIRE(server.ok());
  auto idle = ConnectControl(path);  // connects, then says nothing
  REQUIRE(idle.ok());
  REQUIRE(*idle >= 0);
  auto fd = ConnectControl(path);
  REQUIRE(fd.ok());
  auto reply = ExchangeControl(*fd, Request({"dirledger", "backup", "/b"}),
                               [](const std::string&) {});
  REQUIRE(reply.ok());
  CHECK(reply->out == "backup/b");
  // Stopping does not wait for the idle client's deadline.
  const auto before = std::chrono::steady_clock::now();
  server->reset();
  CHECK(std::chrono::steady_clock::now() - before < std::chrono::seconds(5));
  ::close(*idle);
}

TEST_CASE("a socket left by a killed service is replaced; a live one is not",
          "[control]") {
  TempDir tmp;
  const std::string path = ControlSocketPath(tmp.path());
  {
    // A socket file nobody listens on, as a killed service leaves it.
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size());
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    ::close(fd);
  }
  auto stale = ConnectControl(path);
  REQUIRE(stale.ok());
  CHECK(*stale == -1);
  auto server = ControlServer::Start(path, Echo());
  REQUIRE(server.ok());
  auto second = ControlServer::Start(path, Echo());
  REQUIRE_FALSE(second.ok());
  CHECK(second.status().code() == StatusCode::kUnavailable);
  // The first still answers.
  auto fd = ConnectControl(path);
  REQUIRE(fd.ok());
  REQUIRE(*fd >= 0);
  auto reply = ExchangeControl(*fd, Request({"dirledger", "approve", "h"}),
                               [](const std::string&) {});
  REQUIRE(reply.ok());
}

}  // namespace
}  // namespace dirledger::cli

#include "tools/dirledger/hook_observer.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/support/temp_dir.h"

namespace dirledger::cli {
namespace {

std::vector<nlohmann::json> Told(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

// Waits (at most 10 s) until `path` holds `n` events.
std::vector<nlohmann::json> WaitTold(const std::string& path, std::size_t n) {
  for (int i = 0; i < 1000 && Told(path).size() < n; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return Told(path);
}

TEST_CASE("a source down is told once until it delivers again",
          "[hook_observer][fork]") {
  dirledger::test::TempDir dir;
  const std::string out = dir / "told";
  const std::string prog = dir / "hook";
  std::ofstream(prog) << "#!/bin/sh\ncat >> '" << out << "'\n";
  chmod(prog.c_str(), 0700);
  HookConfig hook;
  hook.on = {"source_down", "conflict"};
  hook.command = {prog};
  {
    HookRunner runner({hook}, {});
    HookObserver observer(&runner);
    const Status down = Status::Unavailable("ldap://127.0.0.1:1: refused");
    observer.OnSourceUnavailable("corp/syncrepl", down);
    observer.OnSourceUnavailable("corp/syncrepl",
                                 down);  // still down: not again
    observer.OnError("applier", down);   // not a source
    observer.OnPassEnd("corp/syncrepl", Status::Aborted("stopping"), {});
    auto told = WaitTold(out, 1);
    REQUIRE(told.size() == 1);
    CHECK(told[0]["type"] == "source_down");
    CHECK(told[0]["source"] == "corp/syncrepl");
    CHECK(told[0]["message"] == "ldap://127.0.0.1:1: refused");
    // It delivered: up. Down again: told again; another source: its own.
    observer.OnAppend("corp/syncrepl", AppendResult{}, SourceStats{});
    observer.OnSourceUnavailable("corp/syncrepl", down);
    observer.OnError("mail", Status::IOError("poll failed"));
    told = WaitTold(out, 3);
    REQUIRE(told.size() == 3);
    CHECK(told[1]["source"] == "corp/syncrepl");
    CHECK(told[2]["source"] == "mail");
    CHECK(told[2]["message"] == "poll failed");
    // A conflict opened by an event.
    ConflictState c;
    c.kind = ObjectKind::kAccount;
    c.ldap_id = "6f1c";
    c.mail_id = "ada@example.com";
    c.connector = "corp";
    c.fields = {"lastName", "title"};
    c.opened_seq = 41;
    observer.OnOpened(OpenedRecord{41, 1700000000000000, c});
    told = WaitTold(out, 4);
    REQUIRE(told.size() == 4);
    CHECK(told[3]["type"] == "conflict");
    CHECK(told[3]["seq"] == 41);
    CHECK(told[3]["object"] == "6f1c");
    CHECK(told[3]["address"] == "ada@example.com");
    CHECK(told[3]["source"] == "corp");
    CHECK(told[3]["message"].get<std::string>().find(
              "both sides changed lastName, title") != std::string::npos);
  }
}

}  // namespace
}  // namespace dirledger::cli

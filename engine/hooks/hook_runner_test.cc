#include "engine/hooks/hook_runner.h"

#include <signal.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#include "tests/support/shell_script.h"
#include "tests/support/temp_dir.h"

namespace dirledger {
namespace {

using dirledger::test::TempDir;
using Clock = std::chrono::steady_clock;

// Sends spdlog's default logger into a string for the test's scope.
class CapturedLog {
 public:
  CapturedLog() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    sink->set_pattern("%l %v");
    spdlog::set_default_logger(
        std::make_shared<spdlog::logger>("captured", sink));
  }
  ~CapturedLog() { spdlog::set_default_logger(previous_); }
  std::string text() {
    spdlog::default_logger()->flush();
    return out_.str();
  }

 private:
  std::shared_ptr<spdlog::logger> previous_;
  std::ostringstream out_;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A shell script (the hook program itself may be one: it is exec'ed).
std::string Script(const TempDir& dir, const std::string& name,
                   const std::string& body) {
  return test::WriteShellScript(dir / name, body);
}

HookConfig Hook(std::vector<std::string> command, double timeout_s = 10) {
  HookConfig h;
  h.on = {"hold", "failed_write"};
  h.command = std::move(command);
  h.timeout_s = timeout_s;
  return h;
}

// Running: a process that ended but is not reaped yet (a zombie, its
// parent gone and no reaper in a container) counts as gone.
bool Alive(pid_t pid) {
  if (pid <= 0 || kill(pid, 0) != 0) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  const auto paren = line.rfind(')');
  return paren == std::string::npos || paren + 2 >= line.size() ||
         line[paren + 2] != 'Z';
}

TEST_CASE("a hook gets the event as one JSON object on its standard input",
          "[hooks]") {
  TempDir dir;
  const std::string out = dir / "got";
  const std::string prog = Script(dir, "hook", "cat >> '" + out + "'");
  HookRunner runner({Hook({prog})}, {});
  HookEvent e;
  e.type = "hold";
  e.time_us = 1700000000123456;
  e.seq = 42;
  e.record = "hold-42";
  e.source = "corp";
  e.message = "3 deletes held";
  CHECK(runner.RunNow(e));
  const std::string got = ReadFile(out);
  REQUIRE(got.size() > 1);
  CHECK(got.back() == '\n');
  CHECK(got.find('\n') == got.size() - 1);  // one line
  const auto j = nlohmann::json::parse(got);
  CHECK(j["type"] == "hold");
  CHECK(j["seq"] == 42);
  CHECK(j["record"] == "hold-42");
  CHECK(j["source"] == "corp");
  CHECK(j["message"] == "3 deletes held");
  CHECK(j["time"] == "2023-11-14T22:13:20.123456Z");
  CHECK_FALSE(j.contains("dn"));  // fields not known are left out
}

TEST_CASE("a hook runs only on the events it names", "[hooks]") {
  TempDir dir;
  const std::string out = dir / "got";
  HookRunner runner({Hook({Script(dir, "hook", "cat >> '" + out + "'")})}, {});
  CHECK(runner.Wants("hold"));
  CHECK_FALSE(runner.Wants("conflict"));
  HookEvent e;
  e.type = "conflict";
  CHECK(runner.RunNow(e));
  CHECK_FALSE(std::filesystem::exists(out));
}

TEST_CASE("arguments reach the hook as they are, without a shell", "[hooks]") {
  TempDir dir;
  const std::string touched = dir / "touched";
  HookConfig h = Hook({"/bin/echo", "a; touch " + touched, "$HOME", "`id`"});
  const HookRun run = RunHook(h, "", {});
  CHECK(run.ok());
  CHECK(run.output == "a; touch " + touched + " $HOME `id`\n");
  CHECK_FALSE(std::filesystem::exists(touched));
}

TEST_CASE("a hook past its timeout is killed with its children and reaped",
          "[hooks]") {
  TempDir dir;
  const std::string pids = dir / "pids";
  // The script and the sleep it starts: both must be gone.
  const std::string prog =
      Script(dir, "hang",
             "echo $$ > '" + pids + "'\nsleep 1000 &\necho $! >> '" + pids +
                 "'\nwait");
  CapturedLog log;
  const auto start = Clock::now();
  const HookRun run =
      RunHook(Hook({prog}, 0.5), "{}\n", {}, std::chrono::milliseconds(500));
  const auto took = Clock::now() - start;
  CHECK(run.started);
  CHECK(run.timed_out);
  CHECK_FALSE(run.ok());
  CHECK(took >= std::chrono::milliseconds(450));
  CHECK(took < std::chrono::seconds(3));
  std::ifstream in(pids);
  pid_t script = 0, sleeper = 0;
  in >> script >> sleeper;
  REQUIRE(script == run.pid);
  REQUIRE(sleeper > 0);
  CHECK(kill(script, 0) != 0);  // reaped: not even a zombie
  // The sleep got the group's signal; init reaps it.
  for (int i = 0; i < 100 && Alive(sleeper); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK_FALSE(Alive(sleeper));
}

TEST_CASE("a hook that ignores SIGTERM is killed with SIGKILL", "[hooks]") {
  TempDir dir;
  const std::string prog =
      Script(dir, "stubborn", "trap '' TERM\nwhile :; do sleep 0.05; done");
  const auto start = Clock::now();
  const HookRun run =
      RunHook(Hook({prog}, 0.3), "", {}, std::chrono::milliseconds(300));
  CHECK(run.timed_out);
  CHECK(run.signal == SIGKILL);
  CHECK(Clock::now() - start < std::chrono::seconds(3));
  CHECK(kill(run.pid, 0) != 0);  // reaped
}

TEST_CASE("a failing hook is logged with its name and exit status", "[hooks]") {
  TempDir dir;
  const std::string prog =
      Script(dir, "fails", "echo 'mail server refused' >&2\nexit 3");
  CapturedLog log;
  HookRunner runner({Hook({"/bin/true"}), Hook({prog})}, {});
  HookEvent e;
  e.type = "failed_write";
  e.record = "F7";
  CHECK_FALSE(runner.RunNow(e));
  const std::string text = log.text();
  CHECK(text.find("info hook 1 (/bin/true) on failed_write F7: done") !=
        std::string::npos);
  CHECK(text.find("hook 2 (" + prog + "): mail server refused") !=
        std::string::npos);
  CHECK(text.find("error hook 2 (" + prog +
                  ") on failed_write F7: exit status 3") != std::string::npos);
}

TEST_CASE("a hook that cannot be started is logged", "[hooks]") {
  CapturedLog log;
  HookRunner runner({Hook({"/nonexistent/notify"})}, {});
  HookEvent e;
  e.type = "hold";
  CHECK_FALSE(runner.RunNow(e));
  CHECK(log.text().find("error hook 1 (/nonexistent/notify) on hold: cannot "
                        "start /nonexistent/notify: No such file") !=
        std::string::npos);
}

TEST_CASE("a hook that does not read its input costs no SIGPIPE", "[hooks]") {
  // More than a pipe holds, to a hook that exits at once: the write fails
  // with EPIPE, and the process (which does not ignore SIGPIPE here) lives.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  struct sigaction old {};
  sigaction(SIGPIPE, &dfl, &old);
  const HookRun run =
      RunHook(Hook({"/bin/true"}), std::string(1 << 20, 'x'), {});
  sigaction(SIGPIPE, &old, nullptr);
  CHECK(run.ok());
}

TEST_CASE("a hook's output is bounded", "[hooks]") {
  const HookRun run =
      RunHook(Hook({"/bin/sh", "-c", "head -c 100000 /dev/zero"}), "", {});
  CHECK(run.ok());
  CHECK(run.output.size() == HookRunner::kMaxOutputBytes);
}

TEST_CASE("variables holding passwords are kept from hooks", "[hooks]") {
  setenv("DIRLEDGER_TEST_BIND_PW", "s3cret", 1);
  setenv("DIRLEDGER_TEST_OTHER", "visible", 1);
  const HookRun run =
      RunHook(Hook({"/usr/bin/env"}), "", {"DIRLEDGER_TEST_BIND_PW"});
  CHECK(run.ok());
  CHECK(run.output.find("s3cret") == std::string::npos);
  CHECK(run.output.find("DIRLEDGER_TEST_OTHER=visible") != std::string::npos);
  unsetenv("DIRLEDGER_TEST_BIND_PW");
  unsetenv("DIRLEDGER_TEST_OTHER");
}

TEST_CASE("Post returns at once while a hook hangs; a full queue drops",
          "[hooks][fork]") {
  TempDir dir;
  const std::string pidfile = dir / "pid";
  const std::string prog =
      Script(dir, "hang", "echo $$ >> '" + pidfile + "'\nexec sleep 1000");
  CapturedLog log;
  pid_t first = 0;
  {
    HookRunner runner({Hook({prog}, 1)}, {});
    HookEvent e;
    e.type = "hold";
    const auto start = Clock::now();
    for (std::size_t i = 0; i < HookRunner::kQueueLimit + 5; ++i) {
      e.seq = i + 1;
      runner.Post(e);
    }
    CHECK(Clock::now() - start < std::chrono::milliseconds(200));
    // The first is running (taken off the queue), so at most 4 or 5 of the
    // others found it full.
    CHECK(runner.dropped() >= 4);
    CHECK(runner.dropped() <= 5);
    for (int i = 0; i < 200 && !std::filesystem::exists(pidfile); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::ifstream(pidfile) >> first;
    REQUIRE(first > 0);
  }  // waits for the running one (its timeout), drops the rest
  CHECK(kill(first, 0) != 0);  // reaped
  const std::string text = log.text();
  CHECK(text.find("dropped") != std::string::npos);
  CHECK(text.find("killed") != std::string::npos);
  CHECK(text.find("not told to the hooks") != std::string::npos);
}

}  // namespace
}  // namespace dirledger

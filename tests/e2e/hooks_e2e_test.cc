// End to end: the service's alert hooks, and the live audit stream
// (docs/operations.md, "Alert hooks and journald"). `dirledger run` against
// a real slapd (syncrepl refreshAndPersist):
//   - a hook ([[hook]], a script the test writes, given an argument) runs on
//     a delete hold and on a failed write, with the event as one JSON object
//     on its standard input: type, time, seq, the record id `status` shows
//     (the hold id, the failure's F<seq>), the object and a message; never
//     the bind password;
//   - a second hook that hangs (sleep 1000) is killed after its timeout_s,
//     and meanwhile the sync goes on: a later LDAP change reaches the mail
//     side while the hanging hook still runs, and the hanging process is
//     gone afterwards; the service's log names the hook and why;
//   - a hook program that is missing stops the start (exit 2), and an
//     unknown event name is a config error naming it;
//   - `verify` that fails runs its verify_failed hooks itself;
//   - `log --follow --json --since S`, started for several S (0, one in the
//     middle, the head) while the service runs, prints exactly the records
//     S+1..head as the service appends them, each once and in order, each
//     line as `log --json` prints it; it ends on SIGINT with exit 0, and
//     when its reader leaves (`| head -n 2`) with exit 0 and nothing on
//     stderr.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/e2e/e2e_env.h"
#include "tests/support/sanitized_build.h"
#include "tests/support/shell_script.h"

extern char** environ;

namespace dirledger::test {
namespace {

constexpr int kHookPort = 4225;
constexpr int kFollowPort = 4226;
constexpr int kDelay = kSanitizedBuild ? 10 : 3;
// The hanging hook's time; the sync of a later change takes far less.
constexpr int kHangTimeout = kSanitizedBuild ? 30 : 10;

using Clock = std::chrono::steady_clock;

std::string Script(const std::string& path, const std::string& body) {
  return WriteShellScript(path, body);
}

std::vector<nlohmann::json> JsonLines(const std::string& text) {
  std::vector<nlohmann::json> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
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

TEST_CASE(
    "service: hooks run on a hold and a failed write, never delaying "
    "the sync",
    "[e2e][hooks]") {
  E2eConfig config;
  config.delete_threshold = 5;
  config.delete_delay_s = kDelay;
  config.group_sync = false;
  E2eEnv env(kHookPort, 20, config);
  CliRunner& dl = env.cli();
  const std::string events = env.tmp() / "events.jsonl";
  const std::string hang_pid = env.tmp() / "hang.pid";
  // The file it appends to is its argument: argv reaches it as written.
  const std::string record = Script(env.tmp() / "record-hook", "cat >> \"$1\"");
  const std::string hang = Script(
      env.tmp() / "hang-hook", "echo $$ > '" + hang_pid + "'\nexec sleep 1000");
  dl.WriteConfig(
      ConfigText(config, env.slapd().url(), env.slapd().password_file()) +
      "\n[[hook]]\non = [\"hold\", \"failed_write\"]\ncommand = [\"" + record +
      "\", \"" + events + "\"]\n\n[[hook]]\non = [\"failed_write\"]\n" +
      "command = [\"" + hang +
      "\"]\ntimeout_s = " + std::to_string(kHangTimeout) + "\n");
  dl.StartService({"run"});
  WaitUntil("the first sync of 20 people", [&] { return MailCount(dl) == 20; });

  // --- a hold: 8 deletes over a threshold of 5.
  env.Ldap(DeletesLdif(1, 8));
  WaitUntil("one hold", [&] { return StatusLines(dl, "hold").size() == 1; });
  const nlohmann::json hold = StatusLines(dl, "hold")[0];
  WaitUntil("the hook told of the hold",
            [&] { return !JsonLines(ReadFile(events)).empty(); });
  {
    const auto told = JsonLines(ReadFile(events));
    REQUIRE(told.size() == 1);
    INFO(told[0].dump());
    CHECK(told[0]["type"] == "hold");
    CHECK(told[0]["record"] == hold["hold_id"]);
    CHECK(told[0]["seq"].is_number_unsigned());
    CHECK(told[0]["seq"].get<std::uint64_t>() > 0);
    CHECK(told[0]["source"] == "corp/syncrepl");
    CHECK(Contains(told[0]["time"].get<std::string>(), "T"));
    // Told when it opens: once a delete crosses the threshold (the rest of
    // the window joins the hold later).
    const std::string message = told[0]["message"];
    const int held = std::atoi(message.c_str());
    CHECK(held > 5);
    CHECK(held <= 8);
    CHECK(Contains(message, " deletes held by the mass-delete guard"));
    CHECK(Contains(message, "`dirledger approve " +
                                hold["hold_id"].get<std::string>() + "`"));
  }
  CHECK_FALSE(std::filesystem::exists(hang_pid));  // not on holds

  // --- a failed write: an alias whose local part is longer than an address
  // may have (the mail directory refuses it; an alias another object holds
  // is refused by the reconciler instead, a refused_address record).
  AddClaimer(env, "claimer", std::string(65, 'x') + "@example.com");
  WaitUntil("the hook told of the failed write",
            [&] { return JsonLines(ReadFile(events)).size() == 2; });
  const auto told = JsonLines(ReadFile(events));
  REQUIRE(told.size() == 2);
  CliResult status = dl.Run({"status", "--json"});
  const auto failures = Where(status.Json(), "type", "failed_write");
  REQUIRE(failures.size() == 1);
  {
    INFO(told[1].dump());
    CHECK(told[1]["type"] == "failed_write");
    CHECK(told[1]["record"] == failures[0]["id"]);
    CHECK(told[1]["seq"] == failures[0]["since_seq"]);
    CHECK(told[1]["side"] == "mail");
    CHECK(told[1]["address"] == "claimer@example.com");
    CHECK(told[1]["object"] == "claimer@example.com");
    CHECK_FALSE(told[1].contains("dn"));  // a mail object has none
    CHECK(
        Contains(told[1]["message"].get<std::string>(),
                 "dirledger dismiss " + failures[0]["id"].get<std::string>()));
  }
  // No secret: the bind password is nowhere in what hooks are told.
  const std::string password = ReadFile(env.slapd().password_file());
  REQUIRE(!password.empty());
  CHECK_FALSE(Contains(ReadFile(events), password));

  // --- the hanging hook runs now; the sync does not wait for it.
  WaitUntil("the hanging hook started",
            [&] { return std::filesystem::exists(hang_pid); });
  pid_t hanging = 0;
  std::ifstream(hang_pid) >> hanging;
  REQUIRE(hanging > 0);
  REQUIRE(Alive(hanging));
  env.LdapReplace(Uid(15), "title", "Manager");
  WaitUntil("the new title on the mail side",
            [&] { return env.MailShow(Address(15))["title"] == "Manager"; });
  CHECK(Alive(hanging));  // synced while the hook still hangs
  WaitUntil(
      "the hanging hook killed", [&] { return !Alive(hanging); },
      kHangTimeout + 30);
  // The service reaps it (a killed process stays a zombie until then).
  WaitUntil("the hanging hook reaped", [&] { return kill(hanging, 0) != 0; });

  CliResult stopped = dl.StopService();
  INFO(stopped.Describe());
  CHECK(stopped.exit_code == 0);
  CHECK(Contains(stopped.err, "hook 2 (" + hang + ") on failed_write " +
                                  failures[0]["id"].get<std::string>() +
                                  ": still running after " +
                                  std::to_string(kHangTimeout) +
                                  " s (timeout_s); killed"));
  CHECK(Contains(stopped.err, "hook 1 (" + record + ") on hold " +
                                  hold["hold_id"].get<std::string>() +
                                  ": done"));
  CHECK_FALSE(Contains(stopped.err, password));
}

TEST_CASE("a hook whose program is missing stops the service's start",
          "[e2e][hooks]") {
  E2eEnv env(kHookPort, 1);
  CliRunner& dl = env.cli();
  dl.WriteConfig(
      ConfigText({}, env.slapd().url(), env.slapd().password_file()) +
      "\n[[hook]]\non = [\"hold\"]\ncommand = [\"/nonexistent/notify\"]\n");
  CliResult r = dl.Run({"run"});
  INFO(r.Describe());
  CHECK(r.exit_code == 2);
  CHECK(Contains(r.err, "hook 1 (/nonexistent/notify)"));
  dl.WriteConfig(
      ConfigText({}, env.slapd().url(), env.slapd().password_file()) +
      "\n[[hook]]\non = [\"hold\", \"lunch\"]\ncommand = [\"/bin/true\"]\n");
  r = dl.Run({"status"});
  CHECK(r.exit_code == 2);
  CHECK(Contains(r.err, "unknown event \"lunch\""));
}

TEST_CASE("verify runs its verify_failed hooks when it fails", "[e2e][hooks]") {
  TempDir tmp;
  CliRunner dl(tmp.path());
  const std::string events = tmp / "events.jsonl";
  const std::string record = Script(tmp / "record-hook", "cat >> \"$1\"");
  dl.WriteConfig(
      "data_dir = \"./data\"\n[mail]\nkind = \"embedded\"\n\n"
      "[[hook]]\non = [\"verify_failed\"]\ncommand = [\"" +
      record + "\", \"" + events + "\"]\n");
  REQUIRE(dl.Run({"run", "--once"}).exit_code == 0);
  CliResult good = dl.Run({"verify"});
  INFO(good.Describe());
  REQUIRE(good.exit_code == 0);
  CHECK_FALSE(std::filesystem::exists(events));  // only on a failure
  CliResult bad = dl.Run({"verify", "--expect-head", std::string(64, '0')});
  INFO(bad.Describe());
  REQUIRE(bad.exit_code == 1);
  const auto told = JsonLines(ReadFile(events));
  REQUIRE(told.size() == 1);
  CHECK(told[0]["type"] == "verify_failed");
  CHECK(Contains(told[0]["message"].get<std::string>(),
                 "`dirledger verify` failed for the log in"));
  CHECK(Contains(bad.err, "hook 1 (" + record + ") on verify_failed: done"));
}

// `dirledger log --follow ...` in the background, its stdout into a file.
class Follower {
 public:
  Follower(CliRunner& dl, const std::string& out,
           const std::vector<std::string>& args)
      : out_(out) {
    std::vector<std::string> argv{DirledgerBinary(), "--config",
                                  dl.config_path(), "log", "--follow"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> cargv;
    for (std::string& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, (out + ".err").c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    REQUIRE(posix_spawn(&pid_, cargv[0], &fa, nullptr, cargv.data(), environ) ==
            0);
    posix_spawn_file_actions_destroy(&fa);
  }
  ~Follower() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  std::vector<nlohmann::json> Lines() const {
    return JsonLines(ReadFile(out_));
  }
  // SIGINT; the exit code.
  int Stop() {
    kill(pid_, SIGINT);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  std::string err() const { return ReadFile(out_ + ".err"); }

 private:
  std::string out_;
  pid_t pid_ = -1;
};

TEST_CASE(
    "log --follow streams each record once, in order, while the "
    "service appends",
    "[e2e][hooks]") {
  E2eConfig config;
  config.group_sync = false;
  E2eEnv env(kFollowPort, 10, config);
  CliRunner& dl = env.cli();
  dl.StartService({"run"});
  WaitUntil("the first sync of 10 people", [&] { return MailCount(dl) == 10; });
  const std::uint64_t h1 = env.LastSeq();
  REQUIRE(h1 > 4);
  const std::uint64_t middle = h1 / 2;
  std::vector<std::uint64_t> starts{0, middle, h1};
  std::vector<std::unique_ptr<Follower>> followers;
  for (std::uint64_t s : starts)
    followers.push_back(std::make_unique<Follower>(
        dl, env.tmp() / ("follow-" + std::to_string(s)),
        std::vector<std::string>{"--json", "--since", std::to_string(s)}));
  // One more that stops reading after two lines.
  const std::string head_rc = env.tmp() / "head.rc";
  const std::string head_out = env.tmp() / "head.out";
  const std::string head_err = env.tmp() / "head.err";
  const pid_t head_pid = [&] {
    const std::string command =
        "{ '" + DirledgerBinary() + "' --config '" + dl.config_path() +
        "' log --follow --since 0 2>'" + head_err + "'; echo $? > '" + head_rc +
        "'; } | head -n 2 > '" + head_out + "'";
    std::vector<std::string> argv{"/bin/sh", "-c", command};
    std::vector<char*> cargv;
    for (std::string& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    pid_t pid = -1;
    REQUIRE(posix_spawn(&pid, cargv[0], nullptr, nullptr, cargv.data(),
                        environ) == 0);
    return pid;
  }();

  // Changes arrive while they follow.
  for (int i = 1; i <= 4; ++i) {
    env.LdapReplace(Uid(i), "title", "Title " + std::to_string(i));
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
  }
  WaitUntil("the last title on the mail side",
            [&] { return env.MailShow(Address(4))["title"] == "Title 4"; });
  std::uint64_t h2 = 0;
  WaitUntil("the log head settled", [&] {
    const std::uint64_t now = env.LastSeq();
    const bool same = now == h2;
    h2 = now;
    if (!same) std::this_thread::sleep_for(std::chrono::milliseconds(500));
    return same;
  });
  REQUIRE(h2 > h1);
  CliResult all = dl.Run({"log", "--json"});
  REQUIRE(all.exit_code == 0);
  const std::vector<std::string> log_lines = [&] {
    std::vector<std::string> lines;
    std::istringstream in(all.out);
    std::string line;
    while (std::getline(in, line)) lines.push_back(line);
    return lines;
  }();
  REQUIRE(log_lines.size() >= h2);

  for (std::size_t k = 0; k < starts.size(); ++k) {
    const std::uint64_t s = starts[k];
    Follower& f = *followers[k];
    WaitUntil("the follower from " + std::to_string(s) + " at the head", [&] {
      const auto lines = f.Lines();
      return !lines.empty() && lines.back()["seq"].get<std::uint64_t>() >= h2;
    });
    CHECK(f.Stop() == 0);
    CHECK(f.err().empty());
    const auto lines = f.Lines();
    INFO("--since " << s);
    // Exactly s+1, s+2, ... up to the head (or past it, should the service
    // have appended more since), each once.
    REQUIRE(lines.size() >= h2 - s);
    for (std::size_t i = 0; i < lines.size(); ++i)
      CHECK(lines[i]["seq"] == s + 1 + i);
    // Each line as `log --json` prints that record.
    std::istringstream in(
        ReadFile(env.tmp() / ("follow-" + std::to_string(s))));
    std::string line;
    for (std::uint64_t seq = s + 1;
         std::getline(in, line) && seq <= log_lines.size(); ++seq)
      CHECK(line == log_lines[seq - 1]);
  }

  // The reader that left: the stream ended, exit 0, nothing said.
  int sh_status = 0;
  REQUIRE(waitpid(head_pid, &sh_status, 0) == head_pid);
  CHECK(ReadFile(head_rc) == "0\n");
  CHECK(ReadFile(head_err).empty());
  std::istringstream head_text(ReadFile(head_out));
  std::string first;
  std::getline(head_text, first);
  CHECK(first.rfind("1  ", 0) == 0);  // `log` lines, from seq 1
}

}  // namespace
}  // namespace dirledger::test

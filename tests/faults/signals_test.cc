// Signals to `dirledger run` as a service, end to end against a real slapd
// (127.0.0.1:4175): SIGHUP does not kill it (it says it ignored the signal
// and keeps syncing); SIGTERM while changes stream in drains what was
// decided: every write is applied before it exits 0, and `status` lists
// none pending.
#include <signal.h>

#include <catch2/catch.hpp>

#include "tests/faults/dirledger_cli.h"
#include "tests/faults/fault_util.h"
#include "tests/support/slapd_server.h"
#include "tests/support/temp_dir.h"

namespace dirledger::test {
namespace {

std::string Titles(int from, int to, const std::string& title) {
  std::string ldif;
  for (int i = from; i <= to; ++i)
    ldif += "dn: " + PersonDn(i) + "\nchangetype: modify\nreplace: title\n" +
            "title: " + title + "\n\n";
  return ldif;
}

// The mail side's title of each account, from `export` (it works while the
// service holds the data dir).
std::map<std::string, std::string> MailTitles(const DirledgerCli& cli) {
  std::map<std::string, std::string> out;
  CliResult r = cli.Run({"export", "--side", "mail", "--format", "json"});
  for (const auto& j : JsonLines(r.out))
    if (j.is_object() && j["attrs"].contains("title"))
      out[j["id"].get<std::string>()] = j["attrs"]["title"][0];
  return out;
}

TEST_CASE(
    "run as a service: SIGHUP is ignored and said so; SIGTERM applies what "
    "was decided, then exits 0",
    "[faults][signals][integration]") {
  TempDir tmp;
  constexpr int kPeople = 2000;
  SlapdServer slapd(tmp / "slapd", 4175, kPeople);
  DirledgerCli cli(tmp.path());
  cli.WriteConfig(TestConfig::For(slapd).ToToml());
  BackgroundRun run = cli.Start({"run"});
  REQUIRE(WaitFor([&] { return LastSeq(cli) >= kPeople || !run.Running(); }));
  REQUIRE(run.Running());

  run.Signal(SIGHUP);
  REQUIRE(WaitFor([&] {
    return run.err_so_far().find(
               "SIGHUP ignored; restart to re-read the config") !=
               std::string::npos ||
           !run.Running();
  }));
  REQUIRE(run.Running());
  // Still syncing: a change made after the signal arrives.
  REQUIRE(slapd.Modify(Titles(1, 1, "After the hangup")) == 0);
  REQUIRE(WaitFor([&] {
    return MailTitles(cli)[PersonUid(1) + "@example.com"] ==
               "After the hangup" ||
           !run.Running();
  }));
  REQUIRE(run.Running());

  // A change to everyone, and SIGTERM while it streams in: what is decided
  // by then is applied before the exit.
  const std::uint64_t before = LastSeq(cli);
  REQUIRE(slapd.Modify(Titles(1, kPeople, "Streaming")) == 0);
  REQUIRE(
      WaitFor([&] { return LastSeq(cli) >= before + 200 || !run.Running(); }));
  run.Signal(SIGTERM);
  CliResult end = run.Wait(120);
  INFO(end.text());
  CHECK(end.exit_code == 0);
  CHECK(end.err.find("still pending") == std::string::npos);
  CHECK(PendingIntents(cli) == 0);
  CHECK(VerifyClean(cli));

  // The next run takes the rest, once.
  CliResult next = cli.Run({"run", "--once"});
  INFO(next.text());
  CHECK(next.exit_code == 0);
  const auto titles = MailTitles(cli);
  int streamed = 0;
  for (const auto& [address, title] : titles) streamed += title == "Streaming";
  CHECK(streamed == kPeople);
  CHECK(PendingIntents(cli) == 0);
  CHECK(ReadLog(cli).duplicate_outcomes.empty());
}

}  // namespace
}  // namespace dirledger::test

// The Axigen side failing under `dirledger run` with `[mail] kind =
// "axigen"`: the fake Axigen CLI server (tests/fake_axigen, in this process,
// on a port the kernel picks) drops the connection in the middle of a COMMIT
// (before or after the COMMIT took effect) or answers -ERR, while a real
// slapd (127.0.0.1:4120-4124) feeds the people. What must hold: every write
// ends applied exactly once (the fake counts the COMMITs that changed its
// state), each intent has one outcome, refused writes say why in the
// server's words, and `verify` is clean.
#include <catch2/catch.hpp>
#include <fstream>

#include "tests/fake_axigen/fake_axigen_server.h"
#include "tests/faults/dirledger_cli.h"
#include "tests/faults/fault_util.h"
#include "tests/support/slapd_server.h"
#include "tests/support/temp_dir.h"

namespace dirledger::test {
namespace {

constexpr int kPeople = 30;

struct AxigenSetup {
  explicit AxigenSetup(int port)
      : slapd(tmp / "slapd", port, kPeople), cli(tmp.path()) {
    axigen.AddDomain("example.com");
    REQUIRE(axigen.Start().ok());
    std::ofstream(tmp / "axigen.pw") << "secret\n";
    TestConfig c = TestConfig::For(slapd);
    c.mail = "[mail]\nkind = \"axigen\"\nhost = \"127.0.0.1\"\nport = " +
             std::to_string(axigen.port()) +
             "\nuser = \"admin\"\npassword_file = \"axigen.pw\"\n"
             "timeout_s = 5\n";
    cli.WriteConfig(c.ToToml());
  }
  std::set<std::string> Accounts() const {
    std::set<std::string> out;
    const FakeState state = axigen.State();
    for (const auto& [name, a] : state.at("example.com").accounts)
      out.insert(name);
    return out;
  }

  TempDir tmp;
  SlapdServer slapd;
  FakeAxigenServer axigen;
  DirledgerCli cli;
};

std::set<std::string> Names(int from, int to) {
  std::set<std::string> out;
  for (int i = from; i <= to; ++i) out.insert(PersonUid(i));
  return out;
}

// Runs `run --once` until it exits 0 (a retryable failure leaves intents
// for the next run); at most `tries` runs.
CliResult RunUntilClean(const DirledgerCli& cli, int tries = 3) {
  CliResult r;
  for (int i = 0; i < tries; ++i) {
    r = cli.Run({"run", "--once"});
    if (r.exit_code == 0) break;
  }
  return r;
}

TEST_CASE(
    "Axigen drops the connection mid-COMMIT: the write ends applied "
    "once, through `dirledger run`",
    "[faults][axigen][integration]") {
  AxigenSetup s(4120);
  CliResult r = s.cli.Run({"run", "--once"});
  INFO(r.text());
  REQUIRE(r.exit_code == 0);
  REQUIRE(s.Accounts() == Names(1, kPeople));
  const int commits_before = s.axigen.commits();

  // One more person, and a change to another: two writes, the first COMMIT
  // of them dropped.
  REQUIRE(s.slapd.Modify("dn: uid=late,ou=people,dc=example,dc=com\n"
                         "changetype: add\nobjectClass: inetOrgPerson\n"
                         "uid: late\ncn: Late Comer\nsn: Comer\n"
                         "givenName: Late\n\n"
                         "dn: " +
                         PersonDn(5) +
                         "\nchangetype: modify\nreplace: title\n"
                         "title: Dropped\n") == 0);
  std::string fault;
  SECTION("dropped before the COMMIT took effect") {
    s.axigen.FailNextCommit(CommitFault::kDropBeforeEffect);
    fault = "before";
  }
  SECTION("dropped after the COMMIT took effect") {
    s.axigen.FailNextCommit(CommitFault::kDropAfterEffect);
    fault = "after";
  }
  INFO("dropped " << fault << " the effect");
  r = RunUntilClean(s.cli);
  INFO(r.text());
  REQUIRE(r.exit_code == 0);
  std::set<std::string> want = Names(1, kPeople);
  want.insert("late");
  CHECK(s.Accounts() == want);
  const FakeState state = s.axigen.State();
  CHECK(state.at("example.com").accounts.at("late").contact.at("firstName") ==
        "Late");
  CHECK(state.at("example.com").accounts.at(PersonUid(5)).contact.at("title") ==
        "Dropped");
  // Two writes, each COMMITted into effect exactly once.
  CHECK(s.axigen.commits() - commits_before == 2);
  LogFigures f = ReadLog(s.cli);
  CHECK(f.duplicate_outcomes.empty());
  CHECK(f.failed_outcomes == 0);
  CHECK(PendingIntents(s.cli) == 0);
  // The drop was met and said so; the write was then found done (an
  // outcome "already applied", or its echo consumed it) or made again.
  CHECK(r.err.find("applying it again is safe") != std::string::npos);
  std::string verify;
  CHECK(VerifyClean(s.cli, &verify));
  INFO(verify);
}

TEST_CASE(
    "Axigen answers -ERR: the write fails with the server's words, "
    "nothing else is lost",
    "[faults][axigen][integration]") {
  AxigenSetup s(4121);
  s.axigen.FailCommand("ADD Account", 1, "license limit reached");
  CliResult r = s.cli.Run({"run", "--once"});
  INFO(r.text());
  CHECK(r.exit_code == 1);  // a write failed
  CHECK(r.err.find("1 failed") != std::string::npos);
  // Every other person made it.
  CHECK(s.Accounts().size() == kPeople - 1);
  LogFigures f = ReadLog(s.cli);
  CHECK(f.failed_outcomes == 1);
  CHECK(f.duplicate_outcomes.empty());
  CHECK(PendingIntents(s.cli) == 0);
  std::string refused;
  for (const nlohmann::json& j : f.lines)
    if (j.value("kind", "") == "outcome" && !j.value("ok", true))
      refused = j.value("message", "");
  CHECK(refused.find("license limit reached") != std::string::npos);

  // The next change to that person is written: the object is not stuck.
  std::string missing;
  for (const std::string& n : Names(1, kPeople))
    if (!s.Accounts().count(n)) missing = n;
  REQUIRE_FALSE(missing.empty());
  const int i = std::stoi(missing.substr(4));
  REQUIRE(s.slapd.Modify("dn: " + PersonDn(i) +
                         "\nchangetype: modify\nreplace: title\n"
                         "title: Retried\n") == 0);
  r = s.cli.Run({"run", "--once"});
  INFO(r.text());
  CHECK(r.exit_code == 0);
  CHECK(s.Accounts() == Names(1, kPeople));
  const FakeState state = s.axigen.State();
  CHECK(state.at("example.com").accounts.at(missing).contact.at("title") ==
        "Retried");
  std::string verify;
  CHECK(VerifyClean(s.cli, &verify));
  INFO(verify);
}

}  // namespace
}  // namespace dirledger::test

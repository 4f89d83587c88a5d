// Peer faults, end to end through the `dirledger` command against a real
// slapd on 127.0.0.1 (ports 4110-4119): the server killed in the middle of a
// refresh, restarted without its session log (with and without
// e-syncRefreshRequired), its database replaced by an empty one (an empty
// present phase), and a second `dirledger run` on a data dir in use. The
// source-level cases live beside the syncrepl source and the intake
// (engine/syncrepl/syncrepl_source_test.cc, engine/intake_test.cc); these
// check what an operator sees: exit codes, messages, the mail directory,
// the log and `verify`.
#include <signal.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "tests/faults/dirledger_cli.h"
#include "tests/faults/fault_util.h"
#include "tests/support/sanitized_build.h"
#include "tests/support/slapd_server.h"
#include "tests/support/temp_dir.h"

namespace dirledger::test {
namespace {

std::set<std::string> Addresses(int from, int to) {
  std::set<std::string> out;
  for (int i = from; i <= to; ++i) out.insert(PersonUid(i) + "@example.com");
  return out;
}

// Bytes in the RocksDB write-ahead logs of `dir` (0 while there are none).
std::uintmax_t WalBytes(const std::string& dir) {
  std::uintmax_t n = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.path().extension() == ".log") n += e.file_size(ec);
  return n;
}

void RequireLogSound(const DirledgerCli& cli) {
  LogFigures f = ReadLog(cli);
  CHECK(f.duplicate_outcomes.empty());
  CHECK(PendingIntents(cli) == 0);
  std::string verify;
  CHECK(VerifyClean(cli, &verify));
  INFO(verify);
}

TEST_CASE(
    "slapd killed in the middle of a refresh: the next run resumes, "
    "nothing lost or doubled",
    "[faults][integration]") {
  TempDir tmp;
  constexpr int kPeople = ScaledForSanitizers(20000);
  SlapdServer slapd(tmp / "slapd", 4110, kPeople);
  DirledgerCli cli(tmp.path());
  TestConfig c = TestConfig::For(slapd);
  c.top_extra = "batch_size = 200";
  c.timeout_s = 2;
  cli.WriteConfig(c.ToToml());

  BackgroundRun run = cli.Start({"run", "--once"});
  // Wait until the refresh has committed its first batches (the log's
  // write-ahead log grows; a stat is cheap enough to catch it early), then
  // kill the server with SIGKILL: no goodbye on the connection.
  REQUIRE(WaitFor([&] {
    return WalBytes(tmp / "data/log") > (2 << 20) || !run.Running();
  }));
  const int pid = slapd.pid();
  REQUIRE(pid > 0);
  REQUIRE(kill(pid, SIGKILL) == 0);
  CliResult first = run.Wait();
  INFO(first.text());
  // Unless the whole refresh beat the kill, the run fails and says why,
  // naming the server.
  if (first.exit_code != 0) {
    CHECK(first.exit_code == 1);
    CHECK(first.err.find(slapd.url()) != std::string::npos);
  }
  WARN("first run exited "
       << first.exit_code << " with the log at " << LastSeq(cli)
       << (first.err.find("during the sync search") != std::string::npos
               ? "; slapd died during the refresh"
               : "; the refresh was over before slapd died"));

  // Gone for good (reaped, not a zombie slapd.sh would take for a running
  // server), then the same database in a new process.
  REQUIRE(WaitFor([&] {
    return !std::filesystem::exists("/proc/" + std::to_string(pid));
  }));
  slapd.Start();
  CliResult second = cli.Run({"run", "--once"});
  INFO(second.text());
  REQUIRE(second.exit_code == 0);
  CHECK(MailAddresses(cli) == Addresses(1, kPeople));
  LogFigures f = ReadLog(cli);
  CHECK(f.duplicate_outcomes.empty());
  CHECK(f.without_outcome.empty());  // nothing was lost on the mail side
  CHECK(f.outcomes == kPeople);      // one add each, none twice
  CHECK(f.failed_outcomes == 0);
  std::string verify;
  CHECK(VerifyClean(cli, &verify));
  INFO(verify);
}

TEST_CASE(
    "slapd restarted without its session log: deletes made meanwhile "
    "are found by the present phase, none spurious",
    "[faults][integration]") {
  TempDir tmp;
  SlapdOptions options;
  options.people = 300;
  int port = 4111;
  std::string how;
  SECTION("the restart wipes the session log; syncprov reloads") {
    how = "reload";
  }
  SECTION("syncprov answers e-syncRefreshRequired") {
    options.reload_hint = true;
    port = 4112;
    how = "refresh required";
  }
  SECTION("no session log at all") {
    options.sessionlog = 0;
    port = 4113;
    how = "no session log";
  }
  INFO(how);
  SlapdServer slapd(tmp / "slapd", port, options);
  DirledgerCli cli(tmp.path());
  TestConfig c = TestConfig::For(slapd);
  cli.WriteConfig(c.ToToml());
  CliResult r = cli.Run({"run", "--once"});
  INFO(r.text());
  REQUIRE(r.exit_code == 0);
  REQUIRE(MailAddresses(cli).size() == 300);

  // While dirledger is away: deletes, modifies and adds.
  std::set<std::string> expected = Addresses(1, 300);
  for (int i : {3, 50, 51, 120, 199, 250, 300}) {
    REQUIRE(slapd.Modify("dn: " + PersonDn(i) + "\nchangetype: delete\n") == 0);
    expected.erase(PersonUid(i) + "@example.com");
  }
  for (int i : {7, 8, 9})
    REQUIRE(slapd.Modify("dn: " + PersonDn(i) +
                         "\nchangetype: modify\nreplace: title\ntitle: "
                         "Away\n") == 0);
  for (const char* uid : {"late1", "late2"}) {
    REQUIRE(slapd.Modify(std::string("dn: uid=") + uid +
                         ",ou=people,dc=example,dc=com\nchangetype: add\n"
                         "objectClass: inetOrgPerson\nuid: " +
                         uid + "\ncn: Late\nsn: Comer\n") == 0);
    expected.insert(std::string(uid) + "@example.com");
  }
  slapd.Stop();
  slapd.Start();

  const std::uint64_t before = LastSeq(cli);
  r = cli.Run({"run", "--once"});
  INFO(r.text());
  REQUIRE(r.exit_code == 0);
  const auto objects = MailObjects(cli);
  std::set<std::string> got;
  for (const auto& [a, j] : objects) got.insert(a);
  CHECK(got == expected);
  for (int i : {7, 8, 9})
    CHECK(objects.at(PersonUid(i) + "@example.com").value("title", "") ==
          "Away");
  // Exactly the seven deletes were decided, and the refresh that found
  // them was a present (or full) one.
  LogFigures f = ReadLog(cli);
  int deletes = 0;
  bool present_phase = false;
  for (const nlohmann::json& j : f.lines) {
    if (j.value("seq", std::uint64_t{0}) <= before) continue;
    if (j.value("kind", "") == "change" && j.value("side", "") == "ldap" &&
        j.value("op", "") == "delete")
      ++deletes;
    if (j.value("kind", "") == "phase" && j.value("phase", "") == "end" &&
        (j.value("mode", "") == "present" || j.value("mode", "") == "full"))
      present_phase = true;
  }
  CHECK(deletes == 7);
  CHECK(present_phase);
  RequireLogSound(cli);
}

TEST_CASE("an empty present phase is held for approval, not applied",
          "[faults][integration]") {
  TempDir tmp;
  SlapdServer slapd(tmp / "slapd", 4114, 50);
  DirledgerCli cli(tmp.path());
  TestConfig c = TestConfig::For(slapd);
  c.delete_threshold = 10;
  cli.WriteConfig(c.ToToml());
  CliResult r = cli.Run({"run", "--once"});
  INFO(r.text());
  REQUIRE(r.exit_code == 0);
  REQUIRE(MailAddresses(cli).size() == 50);

  // The provider's database is replaced by an empty one.
  slapd.Stop();
  std::filesystem::remove_all(slapd.dir() + "/data");
  slapd.options().people = 0;
  slapd.Start();

  r = cli.Run({"run", "--once"});
  INFO(r.text());
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("held by the mass-delete guard") != std::string::npos);
  CHECK(MailAddresses(cli).size() == 50);  // nothing deleted
  CliResult st = cli.Run({"status", "--json"});
  std::string hold;
  std::size_t held = 0;
  for (const nlohmann::json& j : JsonLines(st.out))
    if (j.value("type", "") == "hold") {
      hold = j.value("hold_id", "");
      held = j.value("deletes", std::size_t{0});
    }
  REQUIRE_FALSE(hold.empty());
  CHECK(held == 50);

  SECTION("rejected: the accounts stay, and later runs leave them") {
    r = cli.Run({"reject", hold});
    INFO(r.text());
    CHECK(r.exit_code == 0);
    r = cli.Run({"run", "--once"});
    INFO(r.text());
    CHECK(r.exit_code == 0);
    CHECK(MailAddresses(cli).size() == 50);
  }
  SECTION("approved: the accounts are deleted once") {
    r = cli.Run({"approve", hold});
    INFO(r.text());
    CHECK(r.exit_code == 0);
    r = cli.Run({"run", "--once"});
    INFO(r.text());
    CHECK(r.exit_code == 0);
    CHECK(MailAddresses(cli).empty());
  }
  RequireLogSound(cli);
}

TEST_CASE("a second `dirledger run` on a data dir in use is refused clearly",
          "[faults][integration]") {
  TempDir tmp;
  SlapdServer slapd(tmp / "slapd", 4115, 20);
  DirledgerCli cli(tmp.path());
  TestConfig c = TestConfig::For(slapd);
  cli.WriteConfig(c.ToToml());
  BackgroundRun first = cli.Start({"run"});
  // Running: its first refresh is in the log.
  REQUIRE(WaitFor([&] { return LastSeq(cli) >= 20 || !first.Running(); }));
  REQUIRE(first.Running());

  // The service answers on its control socket: a second run is refused,
  // naming it.
  CliResult second = cli.Run({"run", "--once"});
  INFO(second.text());
  CHECK(second.exit_code == 1);
  CHECK(second.err.find("stop the service first") != std::string::npos);
  CHECK(second.err.find(tmp.path()) != std::string::npos);
  // A command that writes is carried out by the service.
  CliResult admin = cli.Run({"mail", "add", "x@example.com"});
  INFO(admin.text());
  CHECK(admin.exit_code == 0);
  // With its socket gone (removed by hand), the data dir's lock still
  // refuses a second writer, and says which dir.
  std::filesystem::remove(tmp / "data/control.sock");
  CliResult third = cli.Run({"run", "--once"});
  INFO(third.text());
  CHECK(third.exit_code == 1);
  CHECK(third.err.find("in use by another dirledger process") !=
        std::string::npos);
  CHECK(third.err.find(tmp.path()) != std::string::npos);
  CliResult admin2 = cli.Run({"mail", "add", "y@example.com"});
  INFO(admin2.text());
  CHECK(admin2.exit_code != 0);
  CHECK(admin2.err.find("in use") != std::string::npos);
  // Read-only commands still work.
  CHECK(cli.Run({"status"}).exit_code == 0);

  first.Signal(SIGTERM);
  CliResult end = first.Wait();
  INFO(end.text());
  CHECK(end.exit_code == 0);
  // Now it is free; x@ was added by the service, y@ was not.
  CliResult fourth = cli.Run({"run", "--once"});
  INFO(fourth.text());
  CHECK(fourth.exit_code == 0);
  const auto addresses = MailAddresses(cli);
  CHECK(addresses.size() == 21);
  CHECK(addresses.count("x@example.com") == 1);
  RequireLogSound(cli);
}

}  // namespace
}  // namespace dirledger::test

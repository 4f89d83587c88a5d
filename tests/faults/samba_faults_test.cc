// Active Directory going away under `dirledger run`: a real Samba AD DC
// (tests/harness/samba.sh, on 127.0.0.31) is stopped while the run polls it
// with DirSync, with changes on their way, and started again. The run keeps
// going (it says it is reconnecting), takes in everything once the DC is
// back, and stops cleanly on SIGTERM; nothing is lost or applied twice.
#include <signal.h>

#include <catch2/catch.hpp>
#include <cstdlib>

#include "tests/faults/dirledger_cli.h"
#include "tests/faults/fault_util.h"
#include "tests/support/samba_dc.h"
#include "tests/support/temp_dir.h"

namespace dirledger::test {
namespace {

std::string DcDir() {
  const char* t = std::getenv("TMPDIR");
  return std::string(t && *t ? t : "/tmp") + "/dirledger-samba-127.0.0.31";
}

std::set<std::string> Names(const std::string& prefix, int from, int to) {
  std::set<std::string> out;
  char buf[64];
  for (int i = from; i <= to; ++i) {
    std::snprintf(buf, sizeof buf, "%s%06d@example.com", prefix.c_str(), i);
    out.insert(buf);
  }
  return out;
}

TEST_CASE(
    "Samba stopped and started again while dirledger run polls it: "
    "nothing lost, nothing twice",
    "[faults][samba][integration]") {
  SambaDc dc(DcDir(), "127.0.0.31");
  const std::string people = "OU=RelPeople," + dc.base();
  const std::string groups = "OU=RelGroups," + dc.base();
  std::string out;
  REQUIRE(dc.Add("dn: " + people + "\nobjectClass: organizationalUnit\n\n" +
                     "dn: " + groups + "\nobjectClass: organizationalUnit\n",
                 &out) == 0);
  dc.AddUsers(200, people, "rel");

  TempDir tmp;
  DirledgerCli cli(tmp.path());
  TestConfig c;
  c.server_type = "activedirectory";
  c.uri = dc.url();
  c.password_file = dc.password_file();
  c.account_base_dn = people;
  c.group_base_dn = groups;
  c.timeout_s = 2;
  c.bind_dn = dc.admin();
  // The delete made while the run polls waits 2 s (a poll's deletes wait
  // in the service, docs/rules.md section 10a) before it is made.
  c.connector_extra = "polling_interval_s = 0.5\ndelete_delay_s = 2";
  cli.WriteConfig(c.ToToml());

  BackgroundRun run = cli.Start({"run"});
  REQUIRE(WaitFor(
      [&] { return !run.Running() || MailObjectsSoFar(cli).size() == 200; }));
  REQUIRE(run.Running());
  CHECK(MailAddresses(cli) == Names("rel", 1, 200));

  // More users on their way, and the DC goes away while the run polls.
  dc.AddUsers(200, people, "rel", 201);
  dc.Stop();
  // The run says it lost the DC and keeps trying (on stderr; `status`
  // shows a source's error only once its pass ends).
  const std::size_t seen = run.err_so_far().size();
  auto complained = [&] {
    const std::string err = run.err_so_far().substr(seen);
    return err.find("reconnecting") != std::string::npos &&
           err.find(dc.addr()) != std::string::npos;
  };
  REQUIRE(WaitFor([&] { return complained() || !run.Running(); }));
  CHECK(run.Running());  // an outage is not the end of the service

  dc.Start();
  REQUIRE(dc.Modify("dn: CN=rel000007," + people +
                        "\nchangetype: modify\nreplace: title\ntitle: Back\n",
                    &out) == 0);
  REQUIRE(dc.Modify("dn: CN=rel000009," + people + "\nchangetype: delete\n",
                    &out) == 0);
  std::set<std::string> want = Names("rel", 1, 400);
  want.erase("rel000009@example.com");
  REQUIRE(WaitFor([&] {
    if (!run.Running()) return true;
    const auto mail = MailObjectsSoFar(cli);
    auto it = mail.find("rel000007@example.com");
    return it != mail.end() && it->second.value("title", "") == "Back" &&
           mail.size() == want.size();
  }));
  run.Signal(SIGTERM);
  CliResult end = run.Wait();
  INFO(end.err.substr(end.err.size() > 4000 ? end.err.size() - 4000 : 0));
  CHECK(end.exit_code == 0);
  CHECK(MailAddresses(cli) == want);
  LogFigures f = ReadLog(cli);
  CHECK(f.duplicate_outcomes.empty());
  CHECK(f.failed_outcomes == 0);
  CHECK(PendingIntents(cli) == 0);
  std::string verify;
  CHECK(VerifyClean(cli, &verify));
  INFO(verify);
}

}  // namespace
}  // namespace dirledger::test

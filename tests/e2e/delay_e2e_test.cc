// End to end: deletes wait in service mode (delete_delay_s). `dirledger run`
// against a real slapd (syncrepl refreshAndPersist), 100 people synced,
// delete_threshold 20, delete_delay_s 3 (10 in a sanitizer build, whose
// slower commands would otherwise outlast the delay they look into):
//   - one ldapmodify deleting 30 people: all 100 mail accounts stay, and
//     `status --json` shows one hold of 30;
//   - 5 deletes: listed as waiting, the accounts still there during the
//     delay, deleted after it;
//   - an entry moved out of the base and back within the delay: nothing is
//     written on the mail side;
//   - after the service stops, `approve` of the hold deletes the 30.
#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "tests/e2e/e2e_env.h"
#include "tests/support/sanitized_build.h"

namespace dirledger::test {
namespace {

constexpr int kPort = 4195;
constexpr int kDelay = kSanitizedBuild ? 10 : 3;

// Mail-side outcomes in the log of `object`.
int MailOutcomes(CliRunner& dl, const std::string& object) {
  auto r = dl.Run({"log", "--object", object, "--json"});
  REQUIRE(r.exit_code == 0);
  return static_cast<int>(
      Where(Where(r.Json(), "kind", "outcome"), "side", "mail").size());
}

void Sleep(int seconds) {
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
}

TEST_CASE("service: a burst of deletes over the threshold is held whole",
          "[e2e][delay]") {
  E2eConfig config;
  config.delete_threshold = 20;
  config.delete_delay_s = kDelay;
  config.group_sync = false;  // the search base is ou=people
  E2eEnv env(kPort, 100, config);
  CliRunner& dl = env.cli();
  env.Ldap(
      "dn: ou=away,dc=example,dc=com\nchangetype: add\n"
      "objectClass: organizationalUnit\nou: away\n");
  dl.StartService({"run"});
  WaitUntil("the first sync of 100 people",
            [&] { return MailCount(dl) == 100; });

  // --- one ldapmodify deleting 30 people: held whole, nothing deleted.
  env.Ldap(DeletesLdif(1, 30));
  WaitUntil("one hold of 30 deletes", [&] {
    auto holds = StatusLines(dl, "hold");
    return holds.size() == 1 && holds[0]["deletes"] == 30;
  });
  // Well past the delay: still one hold of 30, every account in place.
  Sleep(kDelay + 2);
  {
    auto holds = StatusLines(dl, "hold");
    REQUIRE(holds.size() == 1);
    CHECK(holds[0]["deletes"] == 30);
    CHECK(StatusLines(dl, "delayed_delete").empty());
    CHECK(env.MailAddresses().size() == 100);
  }
  const std::string hold_id = StatusLines(dl, "hold")[0]["hold_id"];

  // --- 5 deletes, under the threshold: they wait, then are made.
  env.Ldap(DeletesLdif(31, 35));
  WaitUntil("5 deletes waiting",
            [&] { return StatusLines(dl, "delayed_delete").size() == 5; });
  {
    // During the delay: listed with when each is due, accounts in place.
    auto waiting = StatusLines(dl, "delayed_delete");
    INFO(waiting[0].dump());
    CHECK(waiting[0]["source"] == "corp/syncrepl");
    CHECK(waiting[0].contains("due"));
    const auto addresses = env.MailAddresses();  // one command, quick
    for (int i = 31; i <= 35; ++i)
      CHECK(std::count(addresses.begin(), addresses.end(), Address(i)) == 1);
  }
  WaitUntil("the 5 deletes made after the delay",
            [&] { return env.MailAddresses().size() == 95; });
  CHECK(StatusLines(dl, "delayed_delete").empty());
  CHECK(StatusLines(dl, "hold").size() == 1);

  // --- moved out of the base and back within the delay: nothing written.
  const int outcomes_before = MailOutcomes(dl, Address(50));
  env.Ldap("dn: " + PersonDn(Uid(50)) +
           "\nchangetype: modrdn\nnewrdn: uid=" + Uid(50) +
           "\ndeleteoldrdn: 1\nnewsuperior: ou=away,dc=example,dc=com\n");
  env.Ldap(
      "dn: uid=" + Uid(50) +
      ",ou=away,dc=example,dc=com\nchangetype: modrdn\nnewrdn: uid=" + Uid(50) +
      "\ndeleteoldrdn: 1\nnewsuperior: ou=people,dc=example,dc=com\n");
  WaitUntil("the move back is taken in", [&] {
    auto r = dl.Run({"log", "--object", Address(50), "--json"});
    for (const auto& j : r.Json())
      if (j.value("reason", "").find("is cancelled") != std::string::npos)
        return true;
    return false;
  });
  Sleep(kDelay + 2);  // past the delay
  CHECK_FALSE(env.MailShow(Address(50)).is_null());
  CHECK(MailOutcomes(dl, Address(50)) == outcomes_before);
  CHECK(StatusLines(dl, "delayed_delete").empty());
  CHECK(env.MailAddresses().size() == 95);

  // --- stopped, the hold is approved: the 30 are deleted.
  CliResult stopped = dl.StopService();
  INFO(stopped.Describe());
  REQUIRE(stopped.exit_code == 0);
  auto approved = dl.Run({"approve", hold_id});
  INFO(approved.Describe());
  REQUIRE(approved.exit_code == 0);
  CHECK(Contains(approved.out, "30 writes applied, 0 failed"));
  CHECK(env.MailAddresses().size() == 65);
  for (int i = 1; i <= 30; ++i) CHECK(env.MailShow(Address(i)).is_null());
  CHECK(StatusLines(dl, "hold").empty());
  auto v = dl.Run({"verify"});
  INFO(v.Describe());
  CHECK(v.exit_code == 0);
}

}  // namespace
}  // namespace dirledger::test

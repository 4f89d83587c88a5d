// End to end: the mass-delete guard. More LDAP deletes in one pass than
// delete_threshold are held (run exits 3); `reject` keeps the mail accounts,
// `approve` deletes them; both are logged and the log still verifies.
#include <catch2/catch.hpp>

#include "tests/e2e/e2e_env.h"

namespace dirledger::test {
namespace {

constexpr int kPort = 4153;

nlohmann::json OpenHold(CliRunner& dl) {
  auto r = dl.Run({"status", "--json"});
  REQUIRE(r.exit_code == 0);
  auto holds = Where(r.Json(), "type", "hold");
  REQUIRE(holds.size() == 1);
  return holds[0];
}

TEST_CASE("mass deletes are held; reject keeps, approve deletes",
          "[e2e][guard]") {
  E2eConfig config;
  config.delete_threshold = 3;
  E2eEnv env(kPort, 10, config);
  CliRunner& dl = env.cli();
  env.RunOnce();
  REQUIRE(env.MailAddresses().size() == 10);

  // --- five deletes: held.
  for (int i = 6; i <= 10; ++i) env.LdapDelete(PersonDn(Uid(i)));
  CliResult held = env.RunOnce(3);
  REQUIRE(Contains(held.err, "held by the mass-delete guard"));
  REQUIRE(env.MailAddresses().size() == 10);
  nlohmann::json hold = OpenHold(dl);
  const std::string hold_id = hold["hold_id"];
  REQUIRE(hold["deletes"] == 5);
  REQUIRE(hold["source"] == "corp/syncrepl");
  REQUIRE(Contains(hold["reason"].get<std::string>(), "delete_threshold 3"));
  // status and explain list what approving would delete.
  auto text = dl.Run({"status"});
  REQUIRE(Contains(text.out, "`dirledger approve " + hold_id + "`"));
  auto explained = dl.Run({"explain", hold_id});
  REQUIRE(explained.exit_code == 0);
  for (int i = 6; i <= 10; ++i) {
    REQUIRE(Contains(text.out, "    delete " + PersonDn(Uid(i)) + "\n"));
    REQUIRE(Contains(explained.out, "delete " + PersonDn(Uid(i)) + "\n"));
  }
  // The hold is in the log.
  auto holds = Where(dl.Run({"log", "--json"}).Json(), "kind", "hold");
  REQUIRE(holds.size() == 1);
  REQUIRE(holds[0]["decision"] == "held");
  // Running again does not release it.
  env.RunOnce();
  REQUIRE(env.MailAddresses().size() == 10);

  auto unknown = dl.Run({"approve", "hold-nonesuch"});
  REQUIRE(unknown.exit_code == 2);
  REQUIRE(Contains(unknown.err, "open holds: " + hold_id));

  auto rejected = dl.Run({"reject", hold_id});
  INFO(rejected.Describe());
  REQUIRE(rejected.exit_code == 0);
  REQUIRE(Contains(rejected.out, "rejected " + hold_id));
  REQUIRE(env.MailAddresses().size() == 10);
  auto status = dl.Run({"status", "--json"});
  REQUIRE(Where(status.Json(), "type", "hold").empty());
  auto twice = dl.Run({"approve", hold_id});
  REQUIRE(twice.exit_code == 1);
  REQUIRE(Contains(twice.err, "already rejected"));
  auto op = Where(dl.Run({"log", "--json"}).Json(), "kind", "operator");
  REQUIRE(op.size() == 1);
  REQUIRE(op[0]["action"] == "reject");
  REQUIRE(op[0]["decision"] == "rejected");

  // --- five more people come and go: approve carries the deletes out.
  for (int i = 11; i <= 15; ++i) env.LdapAddPerson(Uid(i));
  env.RunOnce();
  REQUIRE(env.MailAddresses().size() == 15);
  for (int i = 11; i <= 15; ++i) env.LdapDelete(PersonDn(Uid(i)));
  env.RunOnce(3);
  hold = OpenHold(dl);
  REQUIRE(hold["hold_id"] != hold_id);
  auto approved = dl.Run({"approve", hold["hold_id"]});
  INFO(approved.Describe());
  REQUIRE(approved.exit_code == 0);
  REQUIRE(Contains(approved.out, "5 writes applied, 0 failed"));
  std::vector<std::string> left = env.MailAddresses();
  REQUIRE(left.size() == 10);
  for (int i = 11; i <= 15; ++i)
    REQUIRE(std::find(left.begin(), left.end(), Uid(i) + "@example.com") ==
            left.end());
  // The rejected ones are still there.
  REQUIRE(std::find(left.begin(), left.end(), Uid(6) + "@example.com") !=
          left.end());
  env.RunOnce();
  auto v = dl.Run({"verify"});
  INFO(v.Describe());
  REQUIRE(v.exit_code == 0);
}

}  // namespace
}  // namespace dirledger::test

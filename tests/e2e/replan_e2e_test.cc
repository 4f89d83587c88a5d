// End to end: one way (ldap_to_axigen), LDAP changes a person and the mail
// administrator edits the same account before the next run. The run decides
// LDAP's write first, expecting the account as it was; the mail edit,
// reported later in the same run, makes that write impossible. Since rules
// version 7 it is planned again against the account's new values
// (docs/rules.md, section 5): LDAP's values reach the mail account, and a
// field only the mail side changed stays (drift).
#include <catch2/catch.hpp>

#include "tests/e2e/e2e_env.h"

namespace dirledger::test {
namespace {

constexpr int kPort = 4230;

TEST_CASE(
    "one way, a mail edit in the same run as an LDAP change does not "
    "lose LDAP's values",
    "[e2e][replan]") {
  E2eEnv env(kPort, 2);
  CliRunner& dl = env.cli();
  env.RunOnce();
  const std::string address = Address(1);
  REQUIRE(env.MailShow(address)["title"] == "Engineer");
  REQUIRE(env.MailShow(address)["department"] == "Engineering");

  // LDAP: a new title and department (one write to the mail account).
  env.Ldap("dn: " + PersonDn(Uid(1)) +
           "\nchangetype: modify\nreplace: title\ntitle: Lead\n-\n"
           "replace: ou\nou: Sales\n");
  // The mail administrator, before the next run: the department (which
  // LDAP's write sets too) and the mobile phone (which it does not).
  auto set = dl.Run(
      {"mail", "set", address, "department=Mine", "mobilePhone=+1 555 0199"});
  INFO(set.Describe());
  REQUIRE(set.exit_code == 0);

  env.RunOnce(0);
  const nlohmann::json account = env.MailShow(address);
  INFO(account.dump());
  INFO(dl.Run({"log", "--object", address}).out);
  CHECK(account["title"] == "Lead");
  CHECK(account["department"] == "Sales");
  CHECK(account["mobilePhone"] == "+1 555 0199");
  auto log = dl.Run({"log", "--object", address, "--json"});
  REQUIRE(log.exit_code == 0);
  CHECK(Contains(log.out, "propagate/catch-up"));
  // LDAP stays as its administrator left it.
  CHECK(env.LdapValues("(uid=" + Uid(1) + ")", "title") ==
        std::vector<std::string>{"Lead"});
  CHECK(env.LdapValues("(uid=" + Uid(1) + ")", "mobile").empty());

  // An idle run writes nothing; the log verifies.
  const std::uint64_t settled = env.LastSeq();
  env.RunOnce(0);
  CHECK(IntentsSince(dl, settled).empty());
  CHECK(env.MailShow(address) == account);
  auto v = dl.Run({"verify"});
  INFO(v.Describe());
  CHECK(v.exit_code == 0);
}

}  // namespace
}  // namespace dirledger::test

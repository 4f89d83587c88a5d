// End to end, both_ways: changes made on the mail side (`dirledger mail
// add|set|remove`) reach LDAP, where plain ldapsearch sees them; and the
// same attribute changed on both sides is a conflict, settled by each
// conflict_resolution as the connector's rules say.
#include <catch2/catch.hpp>

#include "tests/e2e/e2e_env.h"

namespace dirledger::test {
namespace {

constexpr int kPort = 4155;
constexpr int kConflictPort = 4156;
constexpr int kLateMemberPort = 4160;
constexpr int kLongSyncPort = 4158;

TEST_CASE("both_ways: mail-side changes reach LDAP", "[e2e][both_ways]") {
  E2eConfig config;
  config.direction = "both_ways";
  config.conflict_resolution = "ldap_wins";
  E2eEnv env(kPort, 4, config);
  CliRunner& dl = env.cli();
  env.RunOnce();

  auto set = dl.Run({"mail", "set", "user000001@example.com",
                     "title=Set On Mail", "mobilePhone=+1 555 0100"});
  INFO(set.Describe());
  REQUIRE(set.exit_code == 0);
  env.RunOnce();
  REQUIRE(env.LdapValues("(uid=user000001)", "title") ==
          std::vector<std::string>{"Set On Mail"});
  REQUIRE(env.LdapValues("(uid=user000001)", "mobile") ==
          std::vector<std::string>{"+1 555 0100"});

  // An account and a group created on the mail side.
  REQUIRE(dl.Run({"mail", "add", "newbie@example.com", "firstName=New",
                  "lastName=Bie", "title=Intern"})
              .exit_code == 0);
  REQUIRE(dl.Run({"mail", "add", "team@example.com", "kind=group",
                  "displayName=The Team", "members=user000001@example.com",
                  "members+=newbie@example.com"})
              .exit_code == 0);
  env.RunOnce();
  REQUIRE(env.LdapValues("(uid=newbie)", "title") ==
          std::vector<std::string>{"Intern"});
  REQUIRE(env.LdapValues("(uid=newbie)", "sn") ==
          std::vector<std::string>{"Bie"});
  auto members = env.LdapValues("(cn=team)", "member");
  std::sort(members.begin(), members.end());
  REQUIRE(members ==
          std::vector<std::string>{PersonDn("newbie"), PersonDn("user000001")});
  // explain follows the new account from its mail address to its entry.
  auto ex = dl.Run({"explain", PersonDn("newbie")});
  REQUIRE(ex.exit_code == 0);
  REQUIRE(Contains(ex.out, "rule create/mail-to-ldap"));

  // Removed on the mail side: gone from LDAP. (The group's members are
  // the mail side's: it keeps the address, so LDAP keeps the DN.)
  REQUIRE(dl.Run({"mail", "remove", "newbie@example.com"}).exit_code == 0);
  env.RunOnce();
  REQUIRE_FALSE(env.LdapExists("(uid=newbie)"));
  const nlohmann::json team = env.MailShow("team@example.com");
  std::vector<std::string> mail_members;
  for (const auto& m : team["members"]) {
    const std::string address = m;
    mail_members.push_back(PersonDn(address.substr(0, address.find('@'))));
  }
  REQUIRE(!mail_members.empty());
  members = env.LdapValues("(cn=team)", "member");
  std::sort(members.begin(), members.end());
  REQUIRE(members == mail_members);

  // And LDAP changes still reach the mail side.
  env.LdapReplace("user000003", "title", "Set In LDAP");
  env.RunOnce();
  REQUIRE(env.MailShow("user000003@example.com")["title"] == "Set In LDAP");
  auto v = dl.Run({"verify"});
  INFO(v.Describe());
  REQUIRE(v.exit_code == 0);
}

TEST_CASE("both_ways: a conflict under each resolution", "[e2e][conflict]") {
  const std::string resolution =
      GENERATE(as<std::string>{}, "ldap_wins", "axigen_wins", "no_change");
  INFO("conflict_resolution = " << resolution);
  E2eConfig config;
  config.direction = "both_ways";
  config.conflict_resolution = resolution;
  E2eEnv env(kConflictPort, 3, config);
  CliRunner& dl = env.cli();
  env.RunOnce();

  // The same attribute changed on both sides between two runs; a different
  // attribute changed on the mail side merges.
  env.LdapReplace("user000002", "title", "From LDAP");
  REQUIRE(dl.Run({"mail", "set", "user000002@example.com", "title=From Mail",
                  "mobilePhone=+1 555 0199"})
              .exit_code == 0);
  env.RunOnce();

  const auto ldap_title = env.LdapValues("(uid=user000002)", "title");
  const std::string mail_title =
      env.MailShow("user000002@example.com")["title"];
  auto log = dl.Run({"log", "--object", "user000002@example.com", "--json"});
  REQUIRE(log.exit_code == 0);
  // The mail change meets the LDAP one: a conflict. (Under no_change the
  // echo of the merged write restates the open conflict.)
  auto conflicts = Where(log.Json(), "rule", "conflict/" + resolution);
  REQUIRE(!conflicts.empty());
  const nlohmann::json& c = conflicts[0];
  REQUIRE(c["side"] == "mail");
  REQUIRE(c["conflict_fields"] == nlohmann::json::array({"title"}));
  auto status = Where(dl.Run({"status", "--json"}).Json(), "type", "conflict");
  // The merged attribute reached LDAP whoever wins the conflict.
  REQUIRE(env.LdapValues("(uid=user000002)", "mobile") ==
          std::vector<std::string>{"+1 555 0199"});

  if (resolution == "ldap_wins") {
    REQUIRE(c["decision"] == "conflict resolved");
    REQUIRE(c["winner"] == "ldap");
    REQUIRE(ldap_title == std::vector<std::string>{"From LDAP"});
    REQUIRE(mail_title == "From LDAP");
    REQUIRE(status.empty());
  } else if (resolution == "axigen_wins") {
    REQUIRE(c["decision"] == "conflict resolved");
    REQUIRE(c["winner"] == "mail");
    REQUIRE(ldap_title == std::vector<std::string>{"From Mail"});
    REQUIRE(mail_title == "From Mail");
    REQUIRE(status.empty());
  } else {
    REQUIRE(c["decision"] == "conflict open");
    REQUIRE_FALSE(c.contains("winner"));
    REQUIRE(ldap_title == std::vector<std::string>{"From LDAP"});
    REQUIRE(mail_title == "From Mail");
    REQUIRE(status.size() == 1);
    REQUIRE(status[0]["mail_id"] == "user000002@example.com");
    REQUIRE(status[0]["fields"] == nlohmann::json::array({"title"}));
    auto ex = dl.Run({"explain", "user000002@example.com"});
    REQUIRE(Contains(ex.out, "conflict on title, open: no side wins"));
    // What-if: under ldap_wins the mail account would have the LDAP value.
    auto what_if =
        dl.Run({"replay", "--set", "conflict_resolution=ldap_wins", "--json"});
    INFO(what_if.Describe());
    REQUIRE(what_if.exit_code == 0);
    auto objects = Where(what_if.Json(), "type", "object");
    auto mail2 =
        Where(Where(objects, "side", "mail"), "id", "user000002@example.com");
    REQUIRE(mail2.size() == 1);
    REQUIRE(mail2[0]["as_recorded"]["title"] ==
            nlohmann::json::array({"From Mail"}));
    REQUIRE(mail2[0]["what_if"]["title"] ==
            nlohmann::json::array({"From LDAP"}));
  }
  auto v = dl.Run({"verify"});
  INFO(v.Describe());
  REQUIRE(v.exit_code == 0);
}

TEST_CASE("both_ways: members that arrive late are never removed",
          "[e2e][both_ways][members]") {
  E2eConfig config;
  config.direction = "both_ways";
  config.conflict_resolution = "ldap_wins";
  E2eEnv env(kLateMemberPort, 2, config);
  CliRunner& dl = env.cli();
  env.RunOnce();

  // A group naming one person who exists and three who do not yet.
  const std::vector<std::string> late = {"newa", "newb", "newc"};
  std::string ldif =
      "dn: cn=g2,ou=groups,dc=example,dc=com\nchangetype: add\n"
      "objectClass: groupOfNames\ncn: g2\nmember: " +
      PersonDn("user000001") + "\n";
  for (const std::string& uid : late) ldif += "member: " + PersonDn(uid) + "\n";
  env.Ldap(ldif);
  env.RunOnce();
  for (const std::string& uid : late) env.LdapAddPerson(uid);

  std::vector<std::string> want_dns = {PersonDn("user000001")};
  std::vector<std::string> want_addresses = {"user000001@example.com"};
  for (const std::string& uid : late) {
    want_dns.push_back(PersonDn(uid));
    want_addresses.push_back(uid + "@example.com");
  }
  std::sort(want_dns.begin(), want_dns.end());
  std::sort(want_addresses.begin(), want_addresses.end());

  std::uint64_t before_last = 0;
  for (int run = 0; run < 3; ++run) {
    before_last = env.LastSeq();
    env.RunOnce();
  }
  auto ldap_members = env.LdapValues("(cn=g2)", "member");
  std::sort(ldap_members.begin(), ldap_members.end());
  CHECK(ldap_members == want_dns);
  const nlohmann::json g2 = env.MailShow("g2@example.com");
  REQUIRE(g2.is_object());
  std::vector<std::string> mail_members;
  for (const auto& m : g2["members"]) mail_members.push_back(m);
  std::sort(mail_members.begin(), mail_members.end());
  CHECK(mail_members == want_addresses);

  // Nobody removed a member, so no write of dirledger's ever did.
  for (const nlohmann::json& i : IntentsSince(dl, 0)) {
    INFO(i.dump());
    CHECK_FALSE(i.contains("delete_values"));
  }
  // The last run had nothing left to do.
  const auto idle = IntentsSince(dl, before_last);
  INFO(nlohmann::json(idle).dump());
  CHECK(idle.empty());
  auto v = dl.Run({"verify"});
  INFO(v.Describe());
  REQUIRE(v.exit_code == 0);
}

TEST_CASE("both_ways: a long first sync writes as it goes and settles",
          "[e2e][both_ways]") {
  // More intents than RunLoop::kMidPassIntents: the run applies the first
  // ones, and takes their echoes from the mail directory, while the
  // refresh still delivers the rest. None of those echoes may be taken for
  // a change made on the mail side.
  constexpr int kPeople = 2500;
  constexpr int kMembers = 1200;
  E2eConfig config;
  config.direction = "both_ways";
  config.conflict_resolution = "ldap_wins";
  E2eEnv env(kLongSyncPort, kPeople, config);
  CliRunner& dl = env.cli();
  std::string ldif =
      "dn: cn=big,ou=groups,dc=example,dc=com\nchangetype: add\n"
      "objectClass: groupOfNames\ncn: big\n";
  for (int i = 1; i <= kMembers; ++i)
    ldif += "member: " + PersonDn(Uid(i)) + "\n";
  env.Ldap(ldif);
  env.RunOnce();

  // Outcomes were logged before the refresh's last change.
  auto log = dl.Run({"log", "--json"});
  REQUIRE(log.exit_code == 0);
  std::uint64_t first_outcome = 0, last_ldap_change = 0;
  for (const nlohmann::json& line : log.Json()) {
    const auto seq = line["seq"].get<std::uint64_t>();
    if (line["kind"] == "outcome" && first_outcome == 0) first_outcome = seq;
    if (line["kind"] == "change" && line["side"] == "ldap")
      last_ldap_change = seq;
  }
  CHECK(first_outcome != 0);
  CHECK(first_outcome < last_ldap_change);
  // Nothing went back to LDAP: every echo was known for one.
  std::vector<nlohmann::json> to_ldap;
  for (const nlohmann::json& i : IntentsSince(dl, 0))
    if (i["target"] != "mail") to_ldap.push_back(i);
  INFO(nlohmann::json(to_ldap).dump());
  CHECK(to_ldap.empty());
  CHECK(MailCount(dl) == kPeople + 1);
  const nlohmann::json big = env.MailShow("big@example.com");
  REQUIRE(big.is_object());
  CHECK(big["members"].size() == kMembers);
  CHECK(env.MailShow(Address(kPeople)).is_object());

  // Settled: the next run writes nothing.
  const std::uint64_t before = env.LastSeq();
  env.RunOnce();
  const auto idle = IntentsSince(dl, before);
  INFO(nlohmann::json(idle).dump());
  CHECK(idle.empty());
  auto v = dl.Run({"verify"});
  INFO(v.Describe());
  REQUIRE(v.exit_code == 0);
}

}  // namespace
}  // namespace dirledger::test

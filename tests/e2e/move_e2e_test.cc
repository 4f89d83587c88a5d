// End to end: people moved out of the base and back while `dirledger run`
// runs (syncrepl refreshAndPersist), against a real slapd whose memberof
// overlay renames a moved member in its groups without reporting them.
//   - With groups, the search base is dc=example,dc=com, and syncprov
//     reports a person moved to ou=outside as modified: the source sees it
//     no longer maps, and its delete names where it is. Team (two members)
//     and solo (a groupOfNames whose only member is the mover) list it
//     there; their mail groups lose the address while its account is gone
//     and get it back when the person returns.
//   - Without groups, the search base is ou=people, and syncprov reports
//     the move as a delete: the source looks the entry up in the naming
//     context and the logged delete names where it is.
//   - A rollback to a point before a move out of the base moves the entry
//     back (its entryUUID, so its link and groups, kept) instead of making
//     a second person at its old DN.
// Ports 4235 to 4238.
#include <algorithm>
#include <catch2/catch.hpp>

#include "tests/e2e/e2e_env.h"
#include "tests/support/sanitized_build.h"

namespace dirledger::test {
namespace {

constexpr int kDelay = kSanitizedBuild ? 10 : 2;
constexpr const char* kPeople = "ou=people,dc=example,dc=com";
constexpr const char* kOutside = "ou=outside,dc=example,dc=com";

E2eConfig Config(bool groups) {
  E2eConfig c;
  c.delete_delay_s = kDelay;
  c.group_sync = groups;
  return c;
}

// Moves uid=`uid` from under `from` to under `to` (modrdn newSuperior).
void Move(E2eEnv& env, const std::string& uid, const std::string& from,
          const std::string& to) {
  env.Ldap("dn: uid=" + uid + "," + from +
           "\nchangetype: modrdn\nnewrdn: uid=" + uid +
           "\ndeleteoldrdn: 1\nnewsuperior: " + to + "\n");
}

// Adds ou=outside and group team listing the first two people.
void AddOutsideAndTeam(E2eEnv& env) {
  env.Ldap("dn: " + std::string(kOutside) +
           "\nchangetype: add\nobjectClass: organizationalUnit\nou: outside\n");
  env.Ldap(
      "dn: cn=team,ou=groups,dc=example,dc=com\nchangetype: add\n"
      "objectClass: groupOfNames\ncn: team\nmember: " +
      PersonDn(Uid(1)) + "\nmember: " + PersonDn(Uid(2)) + "\n");
}

std::vector<std::string> Members(E2eEnv& env, const std::string& group) {
  const nlohmann::json g = env.MailShow(group);
  std::vector<std::string> out;
  if (g.is_object() && g.contains("members"))
    for (const auto& m : g["members"]) out.push_back(m.get<std::string>());
  return out;
}

// The remains_at of the last LDAP delete of `uid`'s entry ("" for none).
std::string RemainsAt(CliRunner& dl, const std::string& uid) {
  auto r = dl.Run({"log", "--object", PersonDn(uid), "--json"});
  REQUIRE(r.exit_code == 0);
  std::string out = "-";
  for (const auto& j :
       Where(Where(Where(r.Json(), "kind", "change"), "side", "ldap"), "op",
             "delete"))
    out = j.value("remains_at", "");
  return out;
}

}  // namespace

TEST_CASE("service: a member moved out of the base and back follows its groups",
          "[e2e][service]") {
  E2eEnv env(4235, 3, Config(true));
  CliRunner& dl = env.cli();
  AddOutsideAndTeam(env);
  env.Ldap(
      "dn: cn=solo,ou=groups,dc=example,dc=com\nchangetype: add\n"
      "objectClass: groupOfNames\ncn: solo\nmember: " +
      PersonDn(Uid(1)) + "\n");
  dl.StartService({"run"});
  const std::vector<std::string> both = {Address(1), Address(2)};
  WaitUntil("the groups synced", [&] {
    return Members(env, "team@example.com") == both &&
           Members(env, "solo@example.com") ==
               std::vector<std::string>{Address(1)};
  });

  Move(env, Uid(1), kPeople, kOutside);
  WaitUntil("the moved person's account deleted after the delay", [&] {
    return !env.MailShow(Address(1)).is_object() &&
           Members(env, "team@example.com") ==
               std::vector<std::string>{Address(2)} &&
           Members(env, "solo@example.com").empty();
  });
  CHECK(RemainsAt(dl, Uid(1)) == "uid=" + Uid(1) + "," + std::string(kOutside));

  Move(env, Uid(1), kOutside, kPeople);
  WaitUntil("back: the account and both memberships", [&] {
    return env.MailShow(Address(1)).is_object() &&
           Members(env, "team@example.com") == both &&
           Members(env, "solo@example.com") ==
               std::vector<std::string>{Address(1)};
  });
  CliResult stopped = dl.StopService();
  INFO(stopped.Describe());
  REQUIRE(stopped.exit_code == 0);
  // LDAP's groups list the person again (refint renamed it back).
  CHECK(env.LdapValues("(cn=solo)", "member") ==
        std::vector<std::string>{PersonDn(Uid(1))});
  const std::uint64_t before = env.LastSeq();
  env.RunOnce();
  CHECK(IntentsSince(dl, before).empty());
  auto v = dl.Run({"verify"});
  INFO(v.Describe());
  CHECK(v.exit_code == 0);
}

TEST_CASE("service: a move out of the search base is told from a delete",
          "[e2e][service]") {
  E2eEnv env(4236, 3, Config(false));
  CliRunner& dl = env.cli();
  env.Ldap(
      "dn: ou=elsewhere,dc=example,dc=com\nchangetype: add\n"
      "objectClass: organizationalUnit\nou: elsewhere\n");
  dl.StartService({"run"});
  WaitUntil("the first sync",
            [&] { return env.MailShow(Address(3)).is_object(); });
  Move(env, Uid(1), kPeople, "ou=elsewhere,dc=example,dc=com");
  env.LdapDelete(PersonDn(Uid(2)));
  WaitUntil("both accounts deleted after the delay", [&] {
    return !env.MailShow(Address(1)).is_object() &&
           !env.MailShow(Address(2)).is_object();
  });
  REQUIRE(dl.StopService().exit_code == 0);
  CHECK(RemainsAt(dl, Uid(1)) ==
        "uid=" + Uid(1) + ",ou=elsewhere,dc=example,dc=com");
  CHECK(RemainsAt(dl, Uid(2)).empty());
}

TEST_CASE(
    "a rollback to before a move out of the base moves the entry back, "
    "keeping its entryUUID, its account and its groups",
    "[e2e][rollback]") {
  const auto [port, direction] =
      GENERATE(std::pair<int, std::string>{4237, "ldap_to_axigen"},
               std::pair<int, std::string>{4238, "both_ways"});
  INFO(direction);
  E2eConfig config;
  config.direction = direction;
  if (direction == "both_ways") config.conflict_resolution = "ldap_wins";
  config.delete_delay_s = 0;
  E2eEnv env(port, 2, config);
  CliRunner& dl = env.cli();
  AddOutsideAndTeam(env);
  env.RunOnce();
  const std::vector<std::string> both = {Address(1), Address(2)};
  REQUIRE(Members(env, "team@example.com") == both);
  const std::vector<std::string> id =
      env.LdapValues("(uid=" + Uid(1) + ")", "entryUUID");
  REQUIRE(id.size() == 1);
  const std::uint64_t before = env.LastSeq();

  Move(env, Uid(1), kPeople, kOutside);
  env.RunOnce();
  REQUIRE_FALSE(env.MailShow(Address(1)).is_object());
  REQUIRE(Members(env, "team@example.com") ==
          std::vector<std::string>{Address(2)});

  auto r = dl.Run({"rollback", "--to", std::to_string(before), "--yes"});
  INFO(r.Describe());
  REQUIRE(r.exit_code == 0);
  env.RunOnce();
  // One person, at its DN again, the same entry.
  CHECK(env.LdapValues("(uid=" + Uid(1) + ")", "entryUUID") == id);
  CHECK_FALSE(env.LdapExists("(entryDN=uid=" + Uid(1) + "," +
                             std::string(kOutside) + ")"));
  CHECK(env.LdapExists("(entryDN=" + PersonDn(Uid(1)) + ")"));
  auto log = dl.Run({"log", "--json"});
  REQUIRE(log.exit_code == 0);
  CHECK(log.out.find("moved back from") != std::string::npos);
  CHECK(r.out.find("is moved back") != std::string::npos);
  // Its account and memberships, on both sides.
  CHECK(env.MailShow(Address(1)).is_object());
  CHECK(Members(env, "team@example.com") == both);
  std::vector<std::string> members = env.LdapValues("(cn=team)", "member");
  std::sort(members.begin(), members.end());
  CHECK(members ==
        std::vector<std::string>{PersonDn(Uid(1)), PersonDn(Uid(2))});
  const std::uint64_t settled = env.LastSeq();
  env.RunOnce();
  CHECK(IntentsSince(dl, settled).empty());
  auto status = dl.Run({"status"});
  CHECK(status.out.find("failures:\n  none") != std::string::npos);
  auto v = dl.Run({"verify"});
  INFO(v.Describe());
  CHECK(v.exit_code == 0);
}

}  // namespace dirledger::test

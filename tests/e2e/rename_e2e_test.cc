// End to end: an LDAP rename renames the mail account. A person's uid is
// changed with modrdn on a real slapd; `run --once` renames the account in
// the embedded mail directory (same fields, the groups listing it follow),
// the next run writes nothing, `verify` is clean, and a rollback to before
// the rename renames both back: of the LDAP side by the usual rule, of both
// sides by renaming the mail account back (its password kept).
#include <catch2/catch.hpp>

#include "tests/e2e/e2e_env.h"

namespace dirledger::test {
namespace {

constexpr int kPort = 4200;

void RequireSameFields(const nlohmann::json& a, const nlohmann::json& b) {
  for (const char* f : {"firstName", "lastName", "displayName", "title",
                        "department", "kind", "domain"}) {
    INFO(f << ": " << a.dump() << " vs " << b.dump());
    REQUIRE(a.value(f, nlohmann::json()) == b.value(f, nlohmann::json()));
  }
}

std::vector<std::string> Strings(const nlohmann::json& j, const char* key) {
  std::vector<std::string> out;
  if (j.contains(key))
    for (const auto& v : j[key]) out.push_back(v.get<std::string>());
  return out;
}

// Group engineering lists user000001 and user000020; one run syncs it.
void AddEngineering(E2eEnv& env) {
  env.Ldap(
      "dn: cn=engineering,ou=groups,dc=example,dc=com\nchangetype: add\n"
      "objectClass: groupOfNames\ncn: engineering\n"
      "member: " +
      PersonDn("user000001") + "\nmember: " + PersonDn("user000020") + "\n");
  env.RunOnce();
}

// After a rollback to before uid=user000020 became uid=renamed20: the next
// run leaves the entry and the account at their old names, the account
// with the fields it had (`before`). Returns the account.
nlohmann::json RequireRenamedBack(E2eEnv& env, const nlohmann::json& before) {
  env.RunOnce(0);
  REQUIRE(env.LdapExists("(uid=user000020)"));
  REQUIRE_FALSE(env.LdapExists("(uid=renamed20)"));
  const nlohmann::json again = env.MailShow("user000020@example.com");
  INFO(env.cli().Run({"log", "--object", "user000020@example.com"}).out);
  REQUIRE_FALSE(again.is_null());
  REQUIRE(env.MailShow("renamed20@example.com").is_null());
  RequireSameFields(before, again);
  return again;
}

TEST_CASE("an LDAP rename renames the mail account", "[e2e][rename]") {
  E2eEnv env(kPort, 25);
  CliRunner& dl = env.cli();
  AddEngineering(env);
  const nlohmann::json before = env.MailShow("user000020@example.com");
  REQUIRE_FALSE(before.is_null());
  REQUIRE(Strings(env.MailShow("engineering@example.com"), "members") ==
          std::vector<std::string>{"user000001@example.com",
                                   "user000020@example.com"});
  const std::uint64_t good = env.LastSeq();

  env.Ldap("dn: " + PersonDn("user000020") +
           "\nchangetype: modrdn\nnewrdn: uid=renamed20\ndeleteoldrdn: 1\n");
  CliResult run = env.RunOnce(0);
  INFO(run.Describe());

  const nlohmann::json after = env.MailShow("renamed20@example.com");
  INFO(dl.Run({"log", "--object", "renamed20@example.com"}).out);
  REQUIRE_FALSE(after.is_null());
  REQUIRE(env.MailShow("user000020@example.com").is_null());
  RequireSameFields(before, after);
  // The entry still lists its old address in `mail`: that address is an
  // alias of the renamed account (the entry says so), never its own.
  const auto aliases = Strings(after, "aliases");
  REQUIRE(std::find(aliases.begin(), aliases.end(), "renamed20@example.com") ==
          aliases.end());
  REQUIRE(aliases == std::vector<std::string>{"user000020@example.com"});
  // The group lists the account under its new address.
  REQUIRE(Strings(env.MailShow("engineering@example.com"), "members") ==
          std::vector<std::string>{"renamed20@example.com",
                                   "user000001@example.com"});

  // Every change of the rename was decided; nothing is listed as failed or
  // pending.
  auto status = dl.Run({"status", "--json"});
  INFO(status.Describe());
  REQUIRE(status.exit_code == 0);
  REQUIRE_FALSE(Contains(status.out, "\"type\":\"pending\""));
  auto log = dl.Run({"log", "--object", "renamed20@example.com", "--json"});
  REQUIRE(log.exit_code == 0);
  REQUIRE(Contains(log.out, "rename/ldap-to-mail"));
  REQUIRE(Contains(log.out, "echo/rename"));

  // An idle run writes nothing (it records only its sources' cursors).
  const std::uint64_t settled = env.LastSeq();
  const auto addresses = env.MailAddresses();
  env.RunOnce(0);
  REQUIRE(IntentsSince(dl, settled).empty());
  REQUIRE(env.MailAddresses() == addresses);
  auto v = dl.Run({"verify"});
  INFO(v.Describe());
  REQUIRE(v.exit_code == 0);

  // A rollback of the LDAP side to before the rename renames the entry
  // back, and the mail account follows it by the usual rule (a rollback of
  // both sides: the next test case).
  auto back = dl.Run(
      {"rollback", "--to", std::to_string(good), "--side", "ldap", "--yes"});
  INFO(back.Describe());
  REQUIRE(back.exit_code == 0);
  const nlohmann::json again = RequireRenamedBack(env, before);
  REQUIRE(Strings(again, "aliases").empty());
  REQUIRE(Strings(env.MailShow("engineering@example.com"), "members") ==
          std::vector<std::string>{"user000001@example.com",
                                   "user000020@example.com"});
  const std::uint64_t rolled = env.LastSeq();
  env.RunOnce(0);
  REQUIRE(IntentsSince(dl, rolled).empty());
  v = dl.Run({"verify"});
  INFO(v.Describe());
  REQUIRE(v.exit_code == 0);
}

// In the rename group alone (its port): in two groups it would run twice at
// once.
TEST_CASE("a rollback of both sides renames the mail account back",
          "[e2e][rename]") {
  E2eEnv env(kPort, 25);
  CliRunner& dl = env.cli();
  AddEngineering(env);
  // The account has a password the mail side alone knows: a delete and an
  // add would lose it, a rename keeps it.
  auto pw = dl.RunWithEnv({"mail", "set", "user000020@example.com",
                           "--password-env", "DL_TEST_PASSWORD"},
                          {{"DL_TEST_PASSWORD", "s3cret-20"}});
  INFO(pw.Describe());
  REQUIRE(pw.exit_code == 0);
  env.RunOnce();
  const nlohmann::json before = env.MailShow("user000020@example.com");
  REQUIRE(before.value("password_set", false));
  const std::uint64_t good = env.LastSeq();

  env.Ldap("dn: " + PersonDn("user000020") +
           "\nchangetype: modrdn\nnewrdn: uid=renamed20\ndeleteoldrdn: 1\n");
  env.RunOnce(0);
  REQUIRE(env.MailShow("user000020@example.com").is_null());
  REQUIRE(env.MailShow("renamed20@example.com").value("password_set", false));

  // The plan says the account is renamed back, not deleted and added.
  auto plan = dl.Run({"rollback", "--to", std::to_string(good), "--dry-run"});
  INFO(plan.Describe());
  REQUIRE(plan.exit_code == 0);
  REQUIRE(Contains(plan.out,
                   "mail account user000020@example.com: rename back from "
                   "renamed20@example.com"));
  REQUIRE_FALSE(Contains(plan.out, "renamed20@example.com: delete"));

  auto back = dl.Run({"rollback", "--to", std::to_string(good), "--yes"});
  INFO(back.Describe());
  REQUIRE(back.exit_code == 0);
  const nlohmann::json again = RequireRenamedBack(env, before);
  REQUIRE(again.value("password_set", false));
  REQUIRE(Strings(again, "aliases").empty());
  REQUIRE(Strings(env.MailShow("engineering@example.com"), "members") ==
          std::vector<std::string>{"user000001@example.com",
                                   "user000020@example.com"});
  // Settled: nothing failed, an idle run writes nothing, verify is clean.
  auto status = dl.Run({"status", "--json"});
  INFO(status.Describe());
  REQUIRE_FALSE(Contains(status.out, "failed_write"));
  const std::uint64_t rolled = env.LastSeq();
  env.RunOnce(0);
  REQUIRE(IntentsSince(dl, rolled).empty());
  auto v = dl.Run({"verify"});
  INFO(v.Describe());
  REQUIRE(v.exit_code == 0);
}

}  // namespace
}  // namespace dirledger::test

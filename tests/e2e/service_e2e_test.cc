// End to end: `dirledger run` as a service. It takes the first sync, sees a
// change made in LDAP while it runs (syncrepl refreshAndPersist) and applies
// it; read-only commands work beside it, writing ones are refused clearly;
// SIGTERM lets it finish its batch and exit 0 with nothing left pending.
#include <catch2/catch.hpp>

#include "tests/e2e/e2e_env.h"

namespace dirledger::test {
namespace {

constexpr int kPort = 4152;

// Whether `object`'s log shows an LDAP change with attr=value decided
// `decision`, followed by an applied outcome on the mail side.
bool Applied(CliRunner& dl, const std::string& object, const std::string& attr,
             const std::string& value) {
  auto r = dl.Run({"log", "--object", object, "--json"});
  if (r.exit_code != 0) return false;
  bool seen = false;
  for (const auto& j : r.Json()) {
    if (j["kind"] == "change" && j["side"] == "ldap" && j.contains("attrs") &&
        j["attrs"].value(attr, nlohmann::json()) ==
            nlohmann::json::array({value}) &&
        j["decision"] == "propagated")
      seen = true;
    if (seen && j["kind"] == "outcome" && j["side"] == "mail" &&
        j["decision"] == "applied")
      return true;
  }
  return false;
}

TEST_CASE("run as a service: live changes, SIGTERM", "[e2e][service]") {
  E2eEnv env(kPort, 5);
  CliRunner& dl = env.cli();
  const std::string backup = env.tmp() / "backup";
  REQUIRE(dl.Run({"backup", backup}).exit_code == 0);
  dl.StartService({"run"});

  WaitUntil("the first sync of user000005", [&] {
    return Applied(dl, "user000005@example.com", "title", "Engineer");
  });

  // Beside the service: read-only commands answer...
  auto st = dl.Run({"status", "--json"});
  INFO(st.Describe());
  REQUIRE(st.exit_code == 0);
  REQUIRE(Where(st.Json(), "source", "corp/syncrepl").size() == 1);
  REQUIRE(dl.Run({"log", "--since", "1", "--until", "3"}).exit_code == 0);
  REQUIRE(env.MailShow("user000005@example.com")["title"] == "Engineer");
  REQUIRE(dl.Run({"rollback", "--to", "1", "--dry-run"}).exit_code == 0);
  // ...and a second run is refused, naming the reason.
  auto second = dl.Run({"run", "--once"});
  REQUIRE(second.exit_code == 1);
  REQUIRE(Contains(second.err, "stop the service first"));
  // A restore would replace the files under the service: refused.
  auto restore = dl.Run({"restore", backup, "--yes"});
  INFO(restore.Describe());
  REQUIRE(restore.exit_code == 1);
  REQUIRE(Contains(restore.err, "restore refused: stop the service first"));

  // A change made in LDAP while the service runs.
  env.LdapReplace("user000002", "title", "Live Change");
  WaitUntil("the live change of user000002", [&] {
    return Applied(dl, "user000002@example.com", "title", "Live Change");
  });

  CliResult stopped = dl.StopService();
  INFO(stopped.Describe());
  REQUIRE(stopped.exit_code == 0);
  REQUIRE(Contains(stopped.err, "run: "));
  REQUIRE_FALSE(Contains(stopped.err, "run: 0 events"));

  // Nothing is left pending, the write is in place, and the log verifies.
  auto status = dl.Run({"status", "--json"});
  REQUIRE(status.exit_code == 0);
  REQUIRE(Where(status.Json(), "type", "pending").empty());
  REQUIRE(env.MailShow("user000002@example.com")["title"] == "Live Change");
  REQUIRE(env.MailAddresses().size() == 5);
  auto v = dl.Run({"verify"});
  INFO(v.Describe());
  REQUIRE(v.exit_code == 0);

  // Started again, it resumes from its cursor: the next change only.
  const std::uint64_t before = env.LastSeq();
  env.LdapReplace("user000003", "title", "After Restart");
  dl.StartService({"run"});
  WaitUntil("the change after the restart", [&] {
    return Applied(dl, "user000003@example.com", "title", "After Restart");
  });
  REQUIRE(dl.StopService().exit_code == 0);
  auto since = dl.Run({"log", "--since", std::to_string(before + 1), "--json"});
  REQUIRE(since.exit_code == 0);
  auto changes = Where(Where(since.Json(), "kind", "change"), "side", "ldap");
  REQUIRE(changes.size() == 1);
  REQUIRE(changes[0]["dn"] == PersonDn("user000003"));
}

}  // namespace
}  // namespace dirledger::test

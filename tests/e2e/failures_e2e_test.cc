// End to end: failures stay visible until resolved. A write the embedded
// mail directory refuses (an alias that is no valid address) fails the run
// (exit 1) and stays in `status` across later runs; fixing the entry
// in LDAP resolves it, `dismiss` drops another, and the dismissal is in the
// log.
#include <catch2/catch.hpp>

#include "tests/e2e/e2e_env.h"

namespace dirledger::test {
namespace {

constexpr int kPort = 4190;

std::vector<nlohmann::json> Failures(CliRunner& dl) {
  CliResult r = dl.Run({"status", "--json"});
  INFO(r.Describe());
  REQUIRE(r.exit_code == 0);
  return Where(r.Json(), "type", "failed_write");
}

const nlohmann::json* FailureOf(const std::vector<nlohmann::json>& failures,
                                const std::string& object) {
  for (const nlohmann::json& f : failures)
    if (f["object"] == object) return &f;
  return nullptr;
}

TEST_CASE("a failed write stays in status until fixed or dismissed",
          "[e2e][failures]") {
  E2eEnv env(kPort, 3);
  CliRunner& dl = env.cli();
  env.RunOnce();
  REQUIRE(Failures(dl).empty());
  // Two entries claim aliases whose local parts are longer than an address
  // may have: the mail directory refuses both writes. (An alias another
  // object holds, or in a domain not configured, is refused by the
  // reconciler instead: a refused_address record, docs/rules.md 8a.)
  const std::string bad1 = std::string(65, 'x') + "@example.com";
  const std::string bad2 = std::string(66, 'y') + "@example.com";
  AddClaimer(env, "evil", bad1);
  AddClaimer(env, "evil2", bad2);
  CliResult first = env.RunOnce(1);
  CHECK(Contains(first.err, "failed_write"));
  std::vector<nlohmann::json> failures = Failures(dl);
  REQUIRE(failures.size() == 2);
  const nlohmann::json* evil = FailureOf(failures, "evil@example.com");
  const nlohmann::json* evil2 = FailureOf(failures, "evil2@example.com");
  REQUIRE(evil);
  REQUIRE(evil2);
  CHECK((*evil)["side"] == "mail");
  CHECK(Contains((*evil)["message"].get<std::string>(), bad1));
  CHECK(Contains((*evil)["intent"].get<std::string>(), "add"));
  CHECK((*evil)["since_seq"].get<std::uint64_t>() > 0);
  CHECK(!(*evil)["since"].get<std::string>().empty());
  const std::string evil2_id = (*evil2)["id"];
  CHECK(env.MailShow("evil@example.com").is_null());

  // A second run changes nothing, and the failures are still listed.
  env.RunOnce(0);
  failures = Failures(dl);
  CHECK(failures.size() == 2);
  CliResult text = dl.Run({"status"});
  CHECK(Contains(text.out, "failures:"));
  CHECK(Contains(text.out, "`dirledger dismiss " + evil2_id + "`"));

  // The entry fixed in LDAP: its add is made, and its failure is gone.
  env.Ldap("dn: " + PersonDn("evil") +
           "\nchangetype: modify\nreplace: mail\nmail: evil@example.com\n");
  env.RunOnce(0);
  CHECK_FALSE(env.MailShow("evil@example.com").is_null());
  failures = Failures(dl);
  REQUIRE(failures.size() == 1);
  CHECK(failures[0]["object"] == "evil2@example.com");

  // The other dismissed: listed no more, and the dismissal is in the log.
  CliResult dismissed = dl.Run({"dismiss", evil2_id});
  INFO(dismissed.Describe());
  REQUIRE(dismissed.exit_code == 0);
  CHECK(Failures(dl).empty());
  auto ops = Where(dl.Run({"log", "--json"}).Json(), "kind", "operator");
  bool logged = false;
  for (const nlohmann::json& op : ops)
    logged = logged || Contains(op.dump(), "dismissed");
  CHECK(logged);
  CliResult explained = dl.Run({"explain", "evil2@example.com"});
  CHECK(Contains(explained.out, "dismiss"));

  // The same id again, or an unknown one: exit 2, naming it.
  CliResult again = dl.Run({"dismiss", evil2_id});
  CHECK(again.exit_code == 2);
  CHECK(Contains(again.err, evil2_id));
  CliResult unknown = dl.Run({"dismiss", "F999999"});
  CHECK(unknown.exit_code == 2);
  CHECK(Contains(unknown.err, "F999999"));
  CHECK(dl.Run({"verify"}).exit_code == 0);
}

}  // namespace
}  // namespace dirledger::test

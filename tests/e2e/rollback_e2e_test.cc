// End to end: rollback. A bad bulk change and new people are undone on both
// sides: the plan (--dry-run) writes nothing, a plan that deletes needs
// --yes (exit 3 without), and the rollback is itself rolled back. People
// who were in LDAP before dirledger first ran are never deleted by it. A
// rollback killed half way is finished by the next command, each write once.
#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

#include "tests/e2e/e2e_env.h"

namespace dirledger::test {
namespace {

constexpr int kPort = 4154;
constexpr int kObservedPort = 4170;
constexpr int kWholePort = 4205;
constexpr int kKilledPort = 4234;
constexpr int kKilled = 128 + 9;  // SIGKILL

// Per intent decided in the log, how many WriteOutcomes name it.
std::map<std::string, int> OutcomesPerIntent(CliRunner& dl) {
  std::map<std::string, int> n;
  for (const nlohmann::json& e : dl.Run({"log", "--json"}).Json()) {
    if (e.contains("intents"))
      for (const auto& i : e["intents"])
        n.emplace(i["id"].get<std::string>(), 0);
    if (e.value("kind", "") == "outcome") ++n[e["intent"].get<std::string>()];
  }
  return n;
}

std::string Department(E2eEnv& env, int i) {
  auto j = env.MailShow(Uid(i) + "@example.com");
  return j.is_null() ? "<none>" : j.value("department", "");
}

TEST_CASE("rollback: plan, guard, apply, and undo", "[e2e][rollback]") {
  E2eConfig config;
  config.delete_threshold = 3;
  E2eEnv env(kPort, 6, config);
  CliRunner& dl = env.cli();
  env.RunOnce();
  const std::uint64_t good = env.LastSeq();

  // A bad bulk change, and five new people.
  for (int i = 1; i <= 4; ++i) env.LdapReplace(Uid(i), "ou", "Sales");
  for (int i = 7; i <= 11; ++i) env.LdapAddPerson(Uid(i));
  env.RunOnce();
  REQUIRE(Department(env, 1) == "Sales");
  REQUIRE(env.MailAddresses().size() == 11);
  const std::uint64_t bad = env.LastSeq();

  // --- the plan: 4 changes and 5 deletes a side; nothing written.
  auto plan = dl.Run({"rollback", "--to", std::to_string(good), "--dry-run"});
  INFO(plan.Describe());
  REQUIRE(plan.exit_code == 0);
  REQUIRE(Contains(plan.out, "rollback to sequence " + std::to_string(good)));
  REQUIRE(Contains(plan.out, "ldap account " + PersonDn(Uid(1)) +
                                 ": modify ou [Sales] -> [Engineering]"));
  REQUIRE(Contains(plan.out, "dry run: nothing was written"));
  REQUIRE(env.LastSeq() == bad);
  REQUIRE(env.LdapValues("(uid=" + Uid(1) + ")", "ou") ==
          std::vector<std::string>{"Sales"});

  // --- the guard: 5 deletes per side > delete_threshold 3.
  auto refused = dl.Run({"rollback", "--to", std::to_string(good)});
  INFO(refused.Describe());
  REQUIRE(refused.exit_code == 3);
  REQUIRE(Contains(refused.err, "more than its delete_threshold 3"));
  REQUIRE(Contains(refused.err, "--yes"));
  REQUIRE(env.LastSeq() == bad);
  REQUIRE(env.LdapExists("(uid=" + Uid(7) + ")"));

  // One side of one domain can be planned alone.
  auto mail_only = dl.Run({"rollback", "--to", std::to_string(good), "--side",
                           "mail", "--domain", "example.com", "--dry-run"});
  REQUIRE(mail_only.exit_code == 0);
  REQUIRE_FALSE(Contains(mail_only.out, "ldap account"));
  REQUIRE(Contains(mail_only.out, "mail account " + Uid(7) + "@example.com"));

  // --- with --yes: both sides return to `good`.
  auto done = dl.Run({"rollback", "--to", std::to_string(good), "--yes"});
  INFO(done.Describe());
  REQUIRE(done.exit_code == 0);
  REQUIRE(Contains(done.out, "backup before the rollback: "));
  REQUIRE(Contains(done.out, "0 failed"));
  const std::string undo_marker = "to undo it: dirledger rollback --to ";
  const size_t at = done.out.find(undo_marker);
  REQUIRE(at != std::string::npos);
  const std::string undo_to =
      done.out.substr(at + undo_marker.size(),
                      done.out.find('\n', at) - at - undo_marker.size());
  env.RunOnce();
  for (int i = 1; i <= 4; ++i) {
    REQUIRE(env.LdapValues("(uid=" + Uid(i) + ")", "ou") ==
            std::vector<std::string>{"Engineering"});
    REQUIRE(Department(env, i) == "Engineering");
  }
  for (int i = 7; i <= 11; ++i) {
    REQUIRE_FALSE(env.LdapExists("(uid=" + Uid(i) + ")"));
    REQUIRE(env.MailShow(Uid(i) + "@example.com").is_null());
  }
  auto op = Where(dl.Run({"log", "--json"}).Json(), "kind", "operator");
  REQUIRE(op.size() == 1);
  REQUIRE(op[0]["action"] == "rollback");
  REQUIRE(op[0]["to_seq"] == good);
  REQUIRE(dl.Run({"verify"}).exit_code == 0);

  // --- the rollback rolled back: the bulk change and the people return.
  auto undo = dl.Run({"rollback", "--to", undo_to, "--yes"});
  INFO(undo.Describe());
  REQUIRE(undo.exit_code == 0);
  env.RunOnce();
  for (int i = 1; i <= 4; ++i) {
    REQUIRE(env.LdapValues("(uid=" + Uid(i) + ")", "ou") ==
            std::vector<std::string>{"Sales"});
    REQUIRE(Department(env, i) == "Sales");
  }
  for (int i = 7; i <= 11; ++i) {
    REQUIRE(env.LdapExists("(uid=" + Uid(i) + ")"));
    REQUIRE(env.MailShow(Uid(i) + "@example.com")["title"] == "Engineer");
  }
  // The people are back, under their old entryUUIDs (slapd takes them
  // from the rootdn under the Relax Rules control): the state is that of
  // `bad` again, and a rollback to it has nothing to do (it must not delete
  // the entries and create them once more).
  auto same = dl.Run({"rollback", "--to", std::to_string(bad), "--dry-run"});
  INFO(same.Describe());
  REQUIRE(same.exit_code == 0);
  REQUIRE(Contains(same.out, "nothing to do"));
  auto nothing =
      dl.Run({"rollback", "--to", std::to_string(env.LastSeq()), "--dry-run"});
  REQUIRE(nothing.exit_code == 0);
  REQUIRE(Contains(nothing.out, "nothing to do"));
  auto outside = dl.Run({"rollback", "--to", "999999"});
  REQUIRE(outside.exit_code == 2);
  auto v = dl.Run({"verify"});
  INFO(v.Describe());
  REQUIRE(v.exit_code == 0);
}

// 50 people were in LDAP before dirledger first ran: the first refresh
// observed them, it did not create them, so no rollback deletes them. The
// mail accounts dirledger created for them are undone, after --yes.
TEST_CASE("rollback never deletes what was there before the first sync",
          "[e2e][rollback]") {
  E2eConfig config;
  config.direction = "both_ways";
  config.conflict_resolution = "ldap_wins";
  E2eEnv env(kObservedPort, 50, config);
  CliRunner& dl = env.cli();
  env.RunOnce();
  REQUIRE(env.MailAddresses().size() == 50);
  // One person created after the first sync: rollback deletes that one.
  env.LdapAddPerson("late");
  env.RunOnce();
  REQUIRE(env.MailAddresses().size() == 51);

  auto ldap_plan =
      dl.Run({"rollback", "--to", "1", "--side", "ldap", "--dry-run"});
  INFO(ldap_plan.Describe());
  REQUIRE(ldap_plan.exit_code == 0);
  REQUIRE(Contains(ldap_plan.out, PersonDn(Uid(1)) + ": kept (first seen"));
  REQUIRE(Contains(ldap_plan.out, "1 deletes, 50 kept"));

  // A delete is never made without --yes, however few.
  auto refused = dl.Run({"rollback", "--to", "1", "--side", "ldap"});
  INFO(refused.Describe());
  REQUIRE(refused.exit_code == 3);
  REQUIRE(Contains(refused.err, "deletes 1 objects"));
  REQUIRE(Contains(refused.err, "--yes"));
  REQUIRE(env.LdapExists("(uid=late)"));

  auto ldap = dl.Run({"rollback", "--to", "1", "--side", "ldap", "--yes"});
  INFO(ldap.Describe());
  REQUIRE(ldap.exit_code == 0);
  for (int i = 1; i <= 50; ++i) REQUIRE(env.LdapExists("(uid=" + Uid(i) + ")"));
  REQUIRE_FALSE(env.LdapExists("(uid=late)"));

  // The mail side: every account there was created by dirledger.
  auto mail_refused = dl.Run({"rollback", "--to", "1", "--side", "mail"});
  REQUIRE(mail_refused.exit_code == 3);
  REQUIRE(env.MailAddresses().size() == 51);
  auto mail = dl.Run({"rollback", "--to", "1", "--side", "mail", "--yes"});
  INFO(mail.Describe());
  REQUIRE(mail.exit_code == 0);
  REQUIRE(env.MailAddresses().empty());
  for (int i = 1; i <= 50; ++i) REQUIRE(env.LdapExists("(uid=" + Uid(i) + ")"));
  auto v = dl.Run({"verify"});
  INFO(v.Describe());
  REQUIRE(v.exit_code == 0);
}

// Entries come back whole: five people deleted in LDAP, the deletes
// synced, and rolled back. Each comes back with every attribute the log
// stored, mapped or not (employeeNumber and description are not in the
// attribute map; telephoneNumber is), without its userPassword (never stored:
// the plan says so), and under its old entryUUID: slapd lets the rootdn write
// entryUUID under the Relax Rules control, so the entry is the same object
// for everyone who keeps its id.
TEST_CASE("rollback re-creates deleted entries whole, under their entryUUID",
          "[e2e][rollback][whole]") {
  E2eEnv env(kWholePort, 8);
  CliRunner& dl = env.cli();
  struct Person {
    std::string uid;
    std::vector<std::string> uuid, employee, description, phone;
  };
  std::vector<Person> people;
  for (int i = 1; i <= 5; ++i) {
    env.LdapReplace(Uid(i), "userPassword", "pw-" + Uid(i));
    Person p;
    p.uid = Uid(i);
    const std::string f = "(uid=" + p.uid + ")";
    p.uuid = env.LdapValues(f, "entryUUID");
    p.employee = env.LdapValues(f, "employeeNumber");
    p.description = env.LdapValues(f, "description");
    p.phone = env.LdapValues(f, "telephoneNumber");
    REQUIRE(p.uuid.size() == 1);
    REQUIRE_FALSE(p.employee.empty());
    REQUIRE_FALSE(p.description.empty());
    REQUIRE_FALSE(p.phone.empty());
    REQUIRE(Contains(env.slapd().Search(f, "userPassword"), "userPassword"));
    people.push_back(std::move(p));
  }
  env.RunOnce();
  const std::uint64_t good = env.LastSeq();
  // The log holds the whole entry, never the password.
  auto shown = dl.Run({"log", "--object", people[0].uuid[0], "--json"});
  REQUIRE(shown.exit_code == 0);
  CHECK(Contains(shown.out, "employeeNumber"));
  CHECK_FALSE(Contains(shown.out, "userPassword"));
  CHECK_FALSE(Contains(shown.out, "pw-" + Uid(1)));

  for (const Person& p : people) env.LdapDelete(PersonDn(p.uid));
  env.RunOnce();
  for (const Person& p : people) {
    REQUIRE_FALSE(env.LdapExists("(uid=" + p.uid + ")"));
    REQUIRE(env.MailShow(p.uid + "@example.com").is_null());
  }

  auto done = dl.Run({"rollback", "--to", std::to_string(good), "--yes"});
  INFO(done.Describe());
  REQUIRE(done.exit_code == 0);
  REQUIRE(Contains(done.out, "0 failed"));
  REQUIRE(Contains(done.out,
                   "userPassword not restored: secrets are never stored"));
  REQUIRE(Contains(done.out, "asking back its entryUUID " + people[0].uuid[0]));
  for (const Person& p : people) {
    INFO(p.uid);
    const std::string f = "(uid=" + p.uid + ")";
    REQUIRE(env.LdapExists(f));
    CHECK(env.LdapValues(f, "employeeNumber") == p.employee);
    CHECK(env.LdapValues(f, "description") == p.description);
    CHECK(env.LdapValues(f, "telephoneNumber") == p.phone);
    CHECK_FALSE(
        Contains(env.slapd().Search(f, "userPassword"), "userPassword"));
    CHECK(env.LdapValues(f, "entryUUID") == p.uuid);
  }
  auto outcomes = dl.Run({"log", "--json"});
  CHECK(Contains(outcomes.out,
                 "with its entryUUID " + people[0].uuid[0] + " kept"));
  // syncrepl reports the entries back: echoes of the rollback's writes; the
  // mail accounts are there again, linked to the same entries.
  env.RunOnce();
  for (const Person& p : people) {
    CHECK_FALSE(env.MailShow(p.uid + "@example.com").is_null());
    auto ex = dl.Run({"explain", p.uid + "@example.com"});
    CHECK(Contains(ex.out, p.uuid[0]));
  }
  auto nothing =
      dl.Run({"rollback", "--to", std::to_string(good), "--dry-run"});
  INFO(nothing.Describe());
  CHECK(Contains(nothing.out, "nothing to do"));
  auto v = dl.Run({"verify"});
  INFO(v.Describe());
  REQUIRE(v.exit_code == 0);
}

}  // namespace
}  // namespace dirledger::test

namespace dirledger::test {
namespace {

// `rollback` killed with SIGKILL once it is logged (none of its writes
// made), and once its writes are made but before their outcomes are logged;
// then the operator runs `run --once`, or types the same rollback again.
// Either way both sides end at the point, every write decided once and
// logged once, and a rollback to the point has nothing left to do.
TEST_CASE("rollback killed half way: the next command finishes it, once",
          "[e2e][rollback_killed]") {
  for (const char* point : {"operator.after_append", "apply.after_writes"}) {
    for (const bool again : {false, true}) {
      DYNAMIC_SECTION(point << (again ? ", the same rollback again"
                                      : ", then run --once")) {
        E2eEnv env(kKilledPort, 8);
        CliRunner& dl = env.cli();
        std::vector<std::string> uuid(9);
        for (int i = 5; i <= 6; ++i)
          uuid[i] = env.LdapValues("(uid=" + Uid(i) + ")", "entryUUID").at(0);
        env.RunOnce();
        const std::uint64_t good = env.LastSeq();
        for (int i = 1; i <= 3; ++i) env.LdapReplace(Uid(i), "ou", "Sales");
        for (int i = 5; i <= 6; ++i) env.LdapDelete(PersonDn(Uid(i)));
        for (int i = 9; i <= 10; ++i) env.LdapAddPerson(Uid(i));
        env.RunOnce();
        REQUIRE(Department(env, 1) == "Sales");
        REQUIRE(env.MailShow(Address(5)).is_null());

        auto killed =
            dl.RunWithEnv({"rollback", "--to", std::to_string(good), "--yes"},
                          {{"DIRLEDGER_CRASH_AT", point}});
        INFO(killed.Describe());
        REQUIRE(killed.exit_code == kKilled);
        auto v = dl.Run({"verify"});
        INFO(v.Describe());
        REQUIRE(v.exit_code == 0);
        if (again) {
          auto r = dl.Run({"rollback", "--to", std::to_string(good), "--yes"});
          INFO(r.Describe());
          REQUIRE(r.exit_code == 0);
          CHECK(Contains(r.out, " writes applied, 0 failed"));
        }
        env.RunOnce();
        env.RunOnce();
        for (int i = 1; i <= 3; ++i) {
          INFO(Uid(i));
          CHECK(env.LdapValues("(uid=" + Uid(i) + ")", "ou") ==
                std::vector<std::string>{"Engineering"});
          CHECK(Department(env, i) == "Engineering");
        }
        for (int i = 5; i <= 6; ++i) {
          INFO(Uid(i));
          CHECK(env.LdapValues("(uid=" + Uid(i) + ")", "entryUUID") ==
                std::vector<std::string>{uuid[i]});
          CHECK_FALSE(env.MailShow(Address(i)).is_null());
        }
        for (int i = 9; i <= 10; ++i) {
          INFO(Uid(i));
          CHECK_FALSE(env.LdapExists("(uid=" + Uid(i) + ")"));
          CHECK(env.MailShow(Address(i)).is_null());
        }
        for (const auto& [intent, outcomes] : OutcomesPerIntent(dl)) {
          INFO("intent " << intent);
          CHECK(outcomes == 1);
        }
        auto failed = dl.Run({"status", "--json"});
        CHECK_FALSE(Contains(failed.out, "\"failed_write\""));
        auto nothing =
            dl.Run({"rollback", "--to", std::to_string(good), "--dry-run"});
        INFO(nothing.Describe());
        CHECK(Contains(nothing.out, "nothing to do"));
        auto end = dl.Run({"verify"});
        INFO(end.Describe());
        CHECK(end.exit_code == 0);
      }
    }
  }
}

}  // namespace
}  // namespace dirledger::test

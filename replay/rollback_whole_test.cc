// Rollback re-creates a deleted LDAP entry whole: every attribute the
// directory reported (mapped or not) as last stored, asking back its old
// id (rules version 3); the plan says which secrets are not restored. An
// unmapped attribute's change is kept in the log but writes nothing to the
// mail side.
#include <catch2/catch.hpp>

#include "replay/replay_test_util.h"
#include "replay/rollback_planner.h"

namespace dirledger::testing {
namespace {

AttrList Unmapped() {
  return {{"employeeNumber", {"42"}},
          {"description", {"badge 7"}},
          {"telephoneNumber", {"+1 555 0100"}},
          {"title", {"Dev"}}};
}

// jdoe synced, then deleted in LDAP (and so on the mail side); returns the
// seq before the delete.
std::uint64_t SyncThenDelete(Scenario& s) {
  s.Feed(LdapPerson("u-jdoe", "jdoe", Unmapped(), ChangeOp::kAdd));
  s.Feed(OkOutcome(s.decisions().back().intents.at(0)));
  const std::uint64_t mark = s.seq();
  ObservedChange del = LdapPerson("u-jdoe", "jdoe", {}, ChangeOp::kDelete);
  del.full_image = false;
  del.attrs.clear();
  s.Feed(del);
  s.Feed(OkOutcome(s.decisions().back().intents.at(0)));
  return mark;
}

Result<RollbackPlan> PlanTo(const Scenario& s, std::uint64_t mark,
                            RollbackFilter filter = {}) {
  Replayer then(ReplayOptions{mark, {}, false});
  for (const Event& e : s.events()) REQUIRE(then.Feed(e, nullptr).ok());
  return PlanRollback(ListerOf(then.projection()), ListerOf(s.projection()),
                      mark, filter);
}

const Intent* LdapAdd(const Decision& d) {
  for (const Intent& i : d.intents)
    if (i.target == Side::kLdap && i.op == IntentOp::kAdd) return &i;
  return nullptr;
}

}  // namespace

TEST_CASE("rollback re-creates a deleted LDAP entry whole, asking back its id",
          "[replay][rollback][whole]") {
  Scenario s;  // ldap_to_axigen
  const std::uint64_t mark = SyncThenDelete(s);
  REQUIRE(s.projection().FindObject(Side::kLdap, ObjectKind::kAccount,
                                    "u-jdoe") == nullptr);
  auto plan = PlanTo(s, mark);
  REQUIRE(plan.ok());
  const std::string text = plan->ToText();
  INFO(text);
  CHECK(plan->adds == 2);  // the entry and its mail account
  CHECK(text.find("employeeNumber") != std::string::npos);
  CHECK(text.find("asking back its entryUUID u-jdoe") != std::string::npos);
  CHECK(text.find("userPassword not restored: secrets are never stored") !=
        std::string::npos);

  const Decision& d = s.Feed(plan->Action("alice", "rollback"));
  CHECK(d.outcome == Outcome::kRolledBack);
  const Intent* add = LdapAdd(d);
  REQUIRE(add != nullptr);
  CHECK(add->target_id == "u-jdoe");
  CHECK(add->dn == PersonDn("jdoe"));
  for (const Attribute& a : Unmapped())
    CHECK(AttrValues(add->set, a.name) == a.values);
  CHECK(FindAttr(add->set, "userPassword") == nullptr);

  SECTION("the server keeps the id: the entry is back under it") {
    const Intent i = *add;
    s.Feed(OkOutcome(i, "u-jdoe"));
    const ObjectState* back =
        s.projection().FindObject(Side::kLdap, ObjectKind::kAccount, "u-jdoe");
    REQUIRE(back != nullptr);
    CHECK(FirstValue(back->attrs, "employeeNumber") == "42");
    // syncrepl reports it: the echo of the rollback's write.
    CHECK(s.Feed(LdapPerson("u-jdoe", "jdoe", Unmapped(), ChangeOp::kAdd))
              .outcome == Outcome::kEcho);
  }
  SECTION("the server gives a new id: the outcome names it") {
    const Intent i = *add;
    s.Feed(OkOutcome(i, "u-new"));
    CHECK(s.projection().FindObject(Side::kLdap, ObjectKind::kAccount,
                                    "u-new") != nullptr);
    CHECK(s.projection().FindObject(Side::kLdap, ObjectKind::kAccount,
                                    "u-jdoe") == nullptr);
    CHECK(s.Feed(LdapPerson("u-new", "jdoe", Unmapped(), ChangeOp::kAdd))
              .outcome == Outcome::kEcho);
  }
}

TEST_CASE("under rules version 2 a rollback's LDAP add names no id",
          "[replay][rollback][whole]") {
  ConfigChange c = ConfigEvent(ConfigToml(ConnectorOptions{}));
  c.reconciler_rules = 2;
  Scenario s;
  s.Feed(c);
  const std::uint64_t mark = SyncThenDelete(s);
  auto plan = PlanTo(s, mark);
  REQUIRE(plan.ok());
  const Decision& d = s.Feed(plan->Action("alice", "rollback"));
  const Intent* add = LdapAdd(d);
  REQUIRE(add != nullptr);
  CHECK(add->target_id.empty());
}

TEST_CASE("the plan names AD's password and the tombstone",
          "[replay][rollback][whole]") {
  Scenario s;
  const std::uint64_t mark = SyncThenDelete(s);
  RollbackFilter f;
  f.side = "ldap";
  f.server_types["corp"] = ServerType::kActiveDirectory;
  auto plan = PlanTo(s, mark, f);
  REQUIRE(plan.ok());
  const std::string text = plan->ToText();
  INFO(text);
  CHECK(text.find("its tombstone u-jdoe is reanimated") != std::string::npos);
  CHECK(text.find("unicodePwd not restored: secrets are never stored") !=
        std::string::npos);
}

TEST_CASE("an unmapped attribute's change is stored but writes nothing",
          "[replay][whole]") {
  Scenario s;
  s.Feed(LdapPerson("u-jdoe", "jdoe", Unmapped(), ChangeOp::kAdd));
  s.Feed(OkOutcome(s.decisions().back().intents.at(0)));
  AttrList changed = Unmapped();
  changed[0].values = {"43"};  // employeeNumber
  const Decision& d = s.Feed(LdapPerson("u-jdoe", "jdoe", changed));
  INFO(d.rule << ": " << d.reason);
  CHECK(d.outcome == Outcome::kNoChange);
  CHECK(d.intents.empty());
  const ObjectState* o =
      s.projection().FindObject(Side::kLdap, ObjectKind::kAccount, "u-jdoe");
  REQUIRE(o != nullptr);
  CHECK(FirstValue(o->attrs, "employeeNumber") == "43");
}

}  // namespace dirledger::testing

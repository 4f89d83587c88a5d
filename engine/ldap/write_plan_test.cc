#include "engine/ldap/write_plan.h"

#include <catch2/catch.hpp>

namespace dirledger {
namespace {

ValueRules GroupRules() {
  ValueRules r;
  r.dn_valued = {"member"};
  r.keep_one_attribute = "member";
  r.placeholder_value = "";
  return r;
}

Intent Modify(AttrList set, AttrList expect = {}) {
  Intent i;
  i.op = IntentOp::kModify;
  i.set = std::move(set);
  i.expect = std::move(expect);
  return i;
}

}  // namespace

TEST_CASE("a modify replaces what differs, asserting the expected values",
          "[ldap][plan]") {
  const AttrList current = {{"sn", {"Smith"}}, {"title", {"Engineer"}}};
  WritePlan p = PlanModify({}, current,
                           Modify({{"sn", {"Jones"}}, {"title", {"Engineer"}}},
                                  {{"sn", {"Smith"}}, {"title", {"Clerk"}}}));
  // title is already as intended: neither written nor asserted, so the
  // stale expectation about it is no conflict.
  CHECK(p.conflicts.empty());
  CHECK_FALSE(p.already_applied);
  CHECK(p.mods.Describe() == "replace sn");
  CHECK(p.assertion == "(sn=Smith)");
}

TEST_CASE("a concurrent edit is a conflict naming the attribute",
          "[ldap][plan]") {
  const AttrList current = {{"sn", {"Edited"}}};
  WritePlan p =
      PlanModify({}, current, Modify({{"sn", {"Jones"}}}, {{"sn", {"Smith"}}}));
  REQUIRE(p.conflicts.size() == 1);
  CHECK(p.conflicts[0] == "sn: expected \"Smith\", found \"Edited\"");
  CHECK(p.mods.empty());
  CHECK_FALSE(p.already_applied);
}

TEST_CASE("an intent already in effect is already applied", "[ldap][plan]") {
  WritePlan p = PlanModify({}, {{"sn", {"Jones"}}},
                           Modify({{"sn", {"Jones"}}}, {{"sn", {"Smith"}}}));
  CHECK(p.already_applied);
  CHECK(p.mods.empty());
  CHECK(p.assertion.empty());
  // A case change is a change.
  WritePlan q =
      PlanModify({}, {{"sn", {"jones"}}}, Modify({{"sn", {"Jones"}}}));
  CHECK_FALSE(q.already_applied);
  // Removing an attribute that is already absent.
  WritePlan r = PlanModify({}, {}, Modify({{"title", {}}}));
  CHECK(r.already_applied);
}

TEST_CASE(
    "member additions and removals are idempotent and keep "
    "groupOfNames valid",
    "[ldap][plan]") {
  const ValueRules rules = GroupRules();
  Intent add;
  add.add_values = {
      {"member", {"UID=A,OU=People,DC=x", "uid=b,ou=people,dc=x"}}};
  // "uid=a" is there already (DNs compare normalized).
  WritePlan p = PlanModify(rules, {{"member", {"uid=a,ou=people,dc=x"}}}, add);
  CHECK(p.mods.Describe() == "add member");
  CHECK_FALSE(p.already_applied);
  WritePlan again = PlanModify(
      rules, {{"member", {"uid=a,ou=people,dc=x", "uid=b,ou=people,dc=x"}}},
      add);
  CHECK(again.already_applied);

  // Removing the last member leaves the placeholder.
  Intent remove;
  remove.delete_values = {{"member", {"uid=a,ou=people,dc=x"}}};
  WritePlan last =
      PlanModify(rules, {{"member", {"uid=a,ou=people,dc=x"}}}, remove);
  CHECK(last.mods.Describe() == "add member; delete member");
  // Adding to an empty group removes the placeholder.
  Intent first;
  first.add_values = {{"member", {"uid=c,ou=people,dc=x"}}};
  WritePlan filled = PlanModify(rules, {{"member", {""}}}, first);
  CHECK(filled.mods.Describe() == "add member; delete member");
  // An empty member list is the placeholder.
  WritePlan cleared =
      PlanModify(rules, {{"member", {"uid=a,dc=x"}}}, Modify({{"member", {}}}));
  CHECK(cleared.mods.Describe() == "replace member");
  CHECK(SameValues(rules, "member", {""}, {}));
}

TEST_CASE("expectations are checked for deletes and existing entries",
          "[ldap][plan]") {
  const AttrList current = {{"objectClass", {"top", "inetOrgPerson"}},
                            {"sn", {"Smith"}},
                            {"cn", {"J S"}}};
  CHECK(ExpectMismatches({}, current, {{"sn", {"Smith"}}}).empty());
  CHECK(ExpectMismatches({}, current, {{"title", {}}}).empty());
  const auto m = ExpectMismatches({}, current, {{"sn", {"Jones"}}});
  REQUIRE(m.size() == 1);
  CHECK(m[0] == "sn: expected \"Jones\", found \"Smith\"");

  CHECK(
      MissingFromEntry({}, current,
                       {{"objectClass", {"InetOrgPerson"}}, {"sn", {"Smith"}}})
          .empty());
  const auto diff = MissingFromEntry({}, current, {{"sn", {"Jones"}}});
  REQUIRE(diff.size() == 1);
  CHECK(diff[0] == "sn: intended \"Jones\", found \"Smith\"");
}

}  // namespace dirledger

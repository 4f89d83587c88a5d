#include "engine/mail_object.h"

#include <catch2/catch.hpp>

namespace dirledger {
namespace {

Intent MailIntent(IntentOp op, std::string address, AttrList set = {}) {
  Intent in;
  in.id = MakeIntentId(7, 0);
  in.target = Side::kMail;
  in.kind = ObjectKind::kAccount;
  in.op = op;
  in.target_id = std::move(address);
  in.set = std::move(set);
  return in;
}

TEST_CASE("addresses are checked and lower-cased", "[mail_object]") {
  REQUIRE(*NormalizeAddress("Ada.Lovelace@Example.COM") ==
          "ada.lovelace@example.com");
  for (const char* bad :
       {"", "ada", "@example.com", "ada@", "a b@example.com",
        "a\"b@example.com", "a\\b@example.com", "ada@ex ample.com",
        "ada@-example.com", "ada@example..com", ".ada@example.com",
        "ada@example.com@x", "a\r\nb@example.com"}) {
    auto r = NormalizeAddress(bad);
    INFO(bad);
    REQUIRE_FALSE(r.ok());
    REQUIRE(r.status().code() == StatusCode::kInvalidArgument);
  }
  REQUIRE_FALSE(NormalizeAddress(std::string(65, 'a') + "@example.com").ok());
}

TEST_CASE("fields are Axigen's, case-insensitive, per kind", "[mail_object]") {
  REQUIRE(*CanonicalField(ObjectKind::kAccount, "FIRSTNAME") == "firstName");
  REQUIRE(*CanonicalField(ObjectKind::kGroup, "members") == "members");
  auto bad = CanonicalField(ObjectKind::kGroup, "firstName");
  REQUIRE_FALSE(bad.ok());
  REQUIRE(bad.status().message().find("group fields are: displayName, "
                                      "members") != std::string::npos);
}

TEST_CASE("values: one per contact field, UTF-8, addresses normalized",
          "[mail_object]") {
  std::vector<std::string> v = {"a", "b"};
  REQUIRE_FALSE(NormalizeValues("x@y.z", "firstName", &v).ok());
  v = {"\xff\xfe"};
  auto s = NormalizeValues("x@y.z", "firstName", &v);
  REQUIRE(s.message().find("not valid UTF-8") != std::string::npos);
  v = {"Zo\xc3\xab \"quoted\" \\ back\r\nslash"};
  REQUIRE(NormalizeValues("x@y.z", "firstName", &v).ok());
  v = {"B@Example.com", "a@example.com", "b@example.com"};
  REQUIRE(NormalizeValues("x@y.z", "aliases", &v).ok());
  REQUIRE(v == std::vector<std::string>{"a@example.com", "b@example.com"});
}

TEST_CASE("an add is created, then already applied", "[mail_object]") {
  Intent in =
      MailIntent(IntentOp::kAdd, "Ada@Example.com",
                 {{"firstName", {"Ada"}}, {"aliases", {"al@example.com"}}});
  auto plan = PlanIntent(in, std::nullopt);
  REQUIRE(plan.ok());
  REQUIRE(plan->action == ApplyPlan::Action::kCreate);
  REQUIRE(plan->target.address == "ada@example.com");
  auto again = PlanIntent(in, plan->target);
  REQUIRE(again->action == ApplyPlan::Action::kNothing);
  MailObject other = plan->target;
  SetAttr(&other.attrs, "firstName", {"Eve"});
  auto clash = PlanIntent(in, other);
  REQUIRE(clash.status().code() == StatusCode::kConflict);
  REQUIRE(clash.status().message().find("firstName") != std::string::npos);
}

TEST_CASE("a modify checks expect and names the field", "[mail_object]") {
  MailObject cur{ObjectKind::kAccount,
                 "ada@example.com",
                 {{"firstName", {"Ada"}}, {"lastName", {"King"}}}};
  Intent in = MailIntent(IntentOp::kModify, "ada@example.com",
                         {{"lastName", {"Lovelace"}}});
  in.expect = {{"lastName", {"Byron"}}};
  auto r = PlanIntent(in, cur);
  REQUIRE(r.status().code() == StatusCode::kConflict);
  REQUIRE(r.status().message().find("lastName expected \"Byron\", found "
                                    "\"King\"") != std::string::npos);
  in.expect = {{"lastName", {"King"}}};
  r = PlanIntent(in, cur);
  REQUIRE(r->action == ApplyPlan::Action::kUpdate);
  // Already in the intended state: nothing to do, whatever expect says.
  in.expect = {{"lastName", {"Byron"}}};
  REQUIRE(PlanIntent(in, r->target)->action == ApplyPlan::Action::kNothing);
  // Missing object.
  REQUIRE(PlanIntent(in, std::nullopt).status().IsNotFound());
}

TEST_CASE("value adds and deletes on address fields", "[mail_object]") {
  MailObject cur{ObjectKind::kGroup,
                 "staff@example.com",
                 {{"members", {"a@example.com", "b@example.com"}}}};
  Intent in = MailIntent(IntentOp::kModify, "staff@example.com");
  in.kind = ObjectKind::kGroup;
  in.add_values = {{"members", {"C@example.com"}}};
  in.delete_values = {{"members", {"a@example.com"}}};
  auto r = PlanIntent(in, cur);
  REQUIRE(r->action == ApplyPlan::Action::kUpdate);
  REQUIRE(AttrValues(r->target.attrs, "members") ==
          std::vector<std::string>{"b@example.com", "c@example.com"});
}

TEST_CASE("deletes are idempotent; renames and wrong sides refused",
          "[mail_object]") {
  Intent del = MailIntent(IntentOp::kDelete, "ada@example.com");
  REQUIRE(PlanIntent(del, std::nullopt)->action == ApplyPlan::Action::kNothing);
  MailObject grp{ObjectKind::kGroup, "ada@example.com", {}};
  REQUIRE(PlanIntent(del, grp).status().code() == StatusCode::kConflict);
  Intent ren = MailIntent(IntentOp::kRename, "ada@example.com");
  REQUIRE(PlanIntent(ren, std::nullopt).status().code() ==
          StatusCode::kInvalidArgument);
  Intent ldap = MailIntent(IntentOp::kAdd, "ada@example.com");
  ldap.target = Side::kLdap;
  REQUIRE_FALSE(PlanIntent(ldap, std::nullopt).ok());
  Intent unknown =
      MailIntent(IntentOp::kAdd, "ada@example.com", {{"userPassword", {"x"}}});
  REQUIRE(PlanIntent(unknown, std::nullopt)
              .status()
              .message()
              .find("unknown account field \"userPassword\"") !=
          std::string::npos);
}

}  // namespace
}  // namespace dirledger

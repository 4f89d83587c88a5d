// One way, a change of the target object decided while a write of the
// authoritative side's values to it is pending, that makes the write
// impossible (its expect no longer holds; docs/rules.md, section 5, rules
// version 7): the write is planned again against the target's new image;
// what the write does not touch keeps the target's change (drift). Against
// rules version 6 too, which dropped the write whole.
#include <catch2/catch.hpp>

#include "codecs/rules_version.h"
#include "replay/decision_text.h"
#include "replay/replay_test_util.h"

namespace dirledger::testing {
namespace {

using Values = std::vector<std::string>;

void Under(Scenario& s, const char* direction, std::uint32_t rules) {
  ConnectorOptions o;
  o.direction = direction;
  FeedConfig(s, o, rules);
}

ObservedChange LDan(const std::string& title,
                    const std::string& phone = "111") {
  return LdapPerson("u-dan", "dan",
                    {{"title", {title}}, {"telephoneNumber", {phone}}});
}

ObservedChange MDan(const std::string& title, const std::string& phone = "111",
                    const std::string& mobile = "") {
  AttrList f = {
      {"lastName", {"dan"}}, {"title", {title}}, {"businessPhone", {phone}}};
  if (!mobile.empty()) f.push_back({"mobilePhone", {mobile}});
  return MailObject("dan@example.com", std::move(f));
}

// dan on both sides, linked and agreed (title t4, phone 111), under
// `rules`: the target's object is reported first, then its source meets it.
void LinkDan(Scenario& s, const char* direction, std::uint32_t rules) {
  Under(s, direction, rules);
  const bool from_ldap = std::string(direction) == "ldap_to_axigen";
  s.Feed(from_ldap ? MDan("t4") : LDan("t4"));
  const Decision& meet = s.Feed(from_ldap ? LDan("t4") : MDan("t4"));
  INFO(DecisionText(meet));
  REQUIRE(meet.rule == "link/first-meet");
  REQUIRE(meet.intents.empty());
  REQUIRE(s.projection().pending_count() == 0);
}

// ldap_to_axigen: LDAP's title t10 and phone 222 are decided (one mail
// Modify expecting t4 and 111), then, before it is applied, the mail
// administrator's edit of the phone. Returns the decision of the edit.
const Decision& EditWhileWritePending(Scenario& s, std::uint32_t rules) {
  LinkDan(s, "ldap_to_axigen", rules);
  const Decision& ldap = s.Feed(LDan("t10", "222"));
  INFO(DecisionText(ldap));
  REQUIRE(ldap.rule == "propagate/ldap-to-mail");
  REQUIRE(ldap.intents.size() == 1);
  REQUIRE(AttrsText(ldap.intents[0].expect) ==
          "businessPhone=[111] title=[t4]");
  return s.Feed(MDan("t4", "333"));
}

TEST_CASE(
    "one way, a target edit that makes the source's pending write "
    "impossible gets that write planned again",
    "[replan]") {
  Scenario s;
  const Decision& d = EditWhileWritePending(s, kReconcilerRules);
  INFO(s.Text());
  CHECK(d.rule == "propagate/catch-up");
  CHECK(d.outcome == Outcome::kPropagated);
  REQUIRE(d.intents.size() == 1);
  const Intent& w = d.intents[0];
  CHECK(w.target == Side::kMail);
  CHECK(w.op == IntentOp::kModify);
  CHECK(w.target_id == "dan@example.com");
  CHECK(w.source_id == "u-dan");
  // LDAP's values, expecting the mail object as it is now.
  CHECK(AttrsText(w.set) == "businessPhone=[222] title=[t10]");
  CHECK(AttrsText(w.expect) == "businessPhone=[333] title=[t4]");
  CHECK(s.projection().pending_count() == 1);  // the old write is gone

  // Applied and echoed: the sides agree, no drift is left.
  const Intent write = w;
  s.Feed(OkOutcome(write));
  ObservedChange echo = MDan("t10", "222");
  echo.origin_intent = write.id;
  const Decision& e = s.Feed(echo);
  CHECK(e.outcome == Outcome::kEcho);
  CHECK(s.projection().pending_count() == 0);
  CHECK_FALSE(s.projection().FindDrift(ObjectKind::kAccount, "u-dan"));
  // An idle report writes nothing.
  CHECK(s.Feed(MDan("t10", "222")).intents.empty());
}

TEST_CASE(
    "under rules version 6 the write a target edit made impossible is "
    "dropped, as it was",
    "[replan]") {
  Scenario s;
  const Decision& d = EditWhileWritePending(s, 6);
  INFO(s.Text());
  CHECK(d.rule == "direction/ldap_to_axigen");
  CHECK(d.outcome == Outcome::kDiscardedDirection);
  CHECK(d.intents.empty());
  CHECK(s.projection().pending_count() == 0);
}

TEST_CASE(
    "one way, what the source's write does not touch keeps the target's "
    "change: drift",
    "[replan]") {
  Scenario s;
  LinkDan(s, "ldap_to_axigen", kReconcilerRules);
  REQUIRE(s.Feed(LDan("t10")).intents.size() == 1);
  // The mail administrator changes the title and the mobile phone.
  const Decision& d = s.Feed(MDan("mine", "111", "555"));
  INFO(s.Text());
  CHECK(d.rule == "propagate/catch-up");
  REQUIRE(d.intents.size() == 1);
  CHECK(AttrsText(d.intents[0].set) == "title=[t10]");
  CHECK(AttrsText(d.intents[0].expect) == "title=[mine]");
  const Intent write = d.intents[0];
  s.Feed(OkOutcome(write));
  ObservedChange echo = MDan("t10", "111", "555");
  echo.origin_intent = write.id;
  CHECK(s.Feed(echo).outcome == Outcome::kEcho);
  const DriftState* drift =
      s.projection().FindDrift(ObjectKind::kAccount, "u-dan");
  REQUIRE(drift);
  CHECK(drift->fields == std::vector<std::string>{"mobilePhone"});

  // With the write applied, a change of the title comes after it: drift,
  // as before.
  const Decision& later = s.Feed(MDan("mine", "111", "555"));
  CHECK(later.rule == "direction/ldap_to_axigen");
  CHECK(later.intents.empty());
}

TEST_CASE(
    "one way from mail, an LDAP edit that makes the mail's pending "
    "write impossible gets it planned again",
    "[replan]") {
  Scenario s;
  LinkDan(s, "axigen_to_ldap", kReconcilerRules);
  const Decision& mail = s.Feed(MDan("t10", "222"));
  INFO(DecisionText(mail));
  REQUIRE(mail.rule == "propagate/mail-to-ldap");
  REQUIRE(mail.intents.size() == 1);
  // The LDAP administrator changes the phone before the write is applied.
  const Decision& d = s.Feed(LDan("t4", "999"));
  INFO(s.Text());
  CHECK(d.rule == "propagate/catch-up");
  REQUIRE(d.intents.size() == 1);
  const Intent& w = d.intents[0];
  CHECK(w.target == Side::kLdap);
  CHECK(w.target_id == "u-dan");
  CHECK(AttrsText(w.set) == "telephoneNumber=[222] title=[t10]");
  CHECK(AttrsText(w.expect) == "telephoneNumber=[999] title=[t4]");
}

// ldap_to_axigen: a mail object bob the mail administrator made, known
// already; before one run its administrator edits it and LDAP gets
// uid=bob. The refresh is decided first: the two meet, and LDAP's values
// are written expecting the mail object as it was; then the poll reports
// the edit.
TEST_CASE(
    "one way, a first meeting's write made impossible by an edit of the "
    "target in the same run is planned again",
    "[replan]") {
  for (const std::uint32_t rules : {kReconcilerRules, std::uint32_t{6}}) {
    Scenario s;
    Under(s, "ldap_to_axigen", rules);
    const Decision& own = s.Feed(MailObject(
        "bob@example.com", {{"lastName", {"bob"}}, {"title", {"mt8"}}},
        ObjectKind::kAccount, ChangeOp::kAdd));
    REQUIRE(own.rule == "direction/ldap_to_axigen");
    const Decision& meet = s.Feed(LdapPerson(
        "u-bob", "bob", {{"title", {"t16"}}, {"ou", {"d17"}}}, ChangeOp::kAdd));
    INFO(DecisionText(meet));
    REQUIRE(meet.rule == "link/first-meet");
    REQUIRE(meet.intents.size() == 1);
    const Decision& d = s.Feed(MailObject(
        "bob@example.com",
        {{"lastName", {"bob"}}, {"title", {"mt8"}}, {"department", {"md11"}}}));
    INFO("rules " << rules << "\n" << s.Text());
    if (rules >= 7) {
      CHECK(d.rule == "propagate/catch-up");
      REQUIRE(d.intents.size() == 1);
      CHECK(AttrsText(d.intents[0].set) == "department=[d17] title=[t16]");
      CHECK(AttrsText(d.intents[0].expect) == "department=[md11] title=[mt8]");
    } else {
      CHECK(d.rule == "direction/ldap_to_axigen");
      CHECK(d.intents.empty());
      CHECK(s.projection().pending_count() == 0);
    }
  }
}

}  // namespace
}  // namespace dirledger::testing

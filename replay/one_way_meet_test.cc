// One way, the target side's administrator makes an object of a name the
// source has (docs/rules.md, sections 4 and 6, rules version 5): the two
// meet, and the source's values are written over the target's object. Each
// against rules version 4, which decided otherwise.
#include <catch2/catch.hpp>

#include "codecs/rules_version.h"
#include "replay/decision_text.h"
#include "replay/replay_test_util.h"

namespace dirledger::testing {
namespace {

ConnectorOptions OneWay(const char* direction) {
  ConnectorOptions o;
  o.direction = direction;
  return o;
}

// axigen_to_ldap: eve on both sides, linked, under `rules`.
void LinkEve(Scenario& s, std::uint32_t rules) {
  FeedConfig(s, OneWay("axigen_to_ldap"), rules);
  s.Feed(LdapPerson("u-eve", "eve", {{"title", {"Dev"}}}, ChangeOp::kAdd));
  const Decision& meet = s.Feed(MailObject(
      "eve@example.com", {{"lastName", {"eve"}}, {"title", {"Dev"}}}));
  INFO(DecisionText(meet));
  REQUIRE(meet.rule == "link/first-meet");
  REQUIRE(s.projection().FindLinkByLdap(ObjectKind::kAccount, "u-eve"));
  REQUIRE(s.projection().pending_count() == 0);
}

// The LDAP administrator deletes uid=eve and adds it again; the refresh
// reports the new entry (another entryUUID) before the old one's delete.
void ReAddOnLdap(Scenario& s) {
  const Decision& twin = s.Feed(
      LdapPerson("u-eve2", "eve", {{"title", {"Admin"}}}, ChangeOp::kAdd));
  INFO(DecisionText(twin));
  REQUIRE(twin.rule == "link/address-taken");
}

TEST_CASE(
    "one way from mail, an LDAP entry deleted and added again meets "
    "the mail object",
    "[rules][first-meet]") {
  Scenario s;
  LinkEve(s, kReconcilerRules);
  ReAddOnLdap(s);
  const Decision& gone =
      s.Feed(LdapDelete("u-eve", PersonDn("eve"), ObjectKind::kAccount));
  INFO(s.Text());
  CHECK(gone.rule == "link/address-released");
  CHECK(gone.outcome == Outcome::kDiscardedDirection);
  // The new entry is linked and takes the mail object's values.
  const LinkState* link =
      s.projection().FindLinkByMail(ObjectKind::kAccount, "eve@example.com");
  REQUIRE(link);
  CHECK(link->ldap_id == "u-eve2");
  REQUIRE(gone.intents.size() == 1);
  const Intent write = gone.intents[0];
  CHECK(write.target == Side::kLdap);
  CHECK(write.op == IntentOp::kModify);
  CHECK(write.target_id == "u-eve2");
  CHECK(AttrValues(write.set, "title") == std::vector<std::string>{"Dev"});
  CHECK(AttrValues(write.expect, "title") == std::vector<std::string>{"Admin"});
  CHECK_FALSE(s.projection().FindDrift(ObjectKind::kAccount, "u-eve"));

  // The write done, a mail change is written to the new entry: no Add.
  s.Feed(OkOutcome(write));
  const Decision& set = s.Feed(MailObject(
      "eve@example.com", {{"lastName", {"eve"}}, {"title", {"Lead"}}}));
  CHECK(set.rule == "propagate/mail-to-ldap");
  REQUIRE(set.intents.size() == 1);
  CHECK(set.intents[0].op == IntentOp::kModify);
  CHECK(set.intents[0].target_id == "u-eve2");
}

TEST_CASE(
    "under rules version 4 the re-added entry is left waiting, as it "
    "was",
    "[rules][first-meet]") {
  Scenario s;
  LinkEve(s, 4);
  ReAddOnLdap(s);
  const Decision& gone =
      s.Feed(LdapDelete("u-eve", PersonDn("eve"), ObjectKind::kAccount));
  INFO(s.Text());
  CHECK(gone.rule == "direction/axigen_to_ldap");
  CHECK(gone.intents.empty());
  CHECK(s.projection().FindLinkByLdap(ObjectKind::kAccount, "u-eve"));
  CHECK_FALSE(s.projection().FindLinkByLdap(ObjectKind::kAccount, "u-eve2"));
  // A mail change creates the entry again, in the new entry's way (the
  // defect version 5 removes).
  const Decision& set = s.Feed(MailObject(
      "eve@example.com", {{"lastName", {"eve"}}, {"title", {"Lead"}}}));
  REQUIRE(set.intents.size() == 1);
  CHECK(set.intents[0].op == IntentOp::kAdd);
}

// ldap_to_axigen: before one run, the mail administrator adds dan and the
// LDAP administrator adds uid=dan; the refresh is decided first (a mail
// Add), then the poll finds the mail object in place.
void SameRunCreate(Scenario& s, std::uint32_t rules) {
  FeedConfig(s, OneWay("ldap_to_axigen"), rules);
  const Decision& add =
      s.Feed(LdapPerson("u-dan", "dan", {{"title", {"Dev"}}}, ChangeOp::kAdd));
  INFO(DecisionText(add));
  REQUIRE(add.rule == "create/ldap-to-mail");
  REQUIRE(s.projection().pending_count() == 1);
}

ObservedChange MailDan() {
  return MailObject("dan@example.com",
                    {{"lastName", {"Own"}}, {"title", {"Admin"}}},
                    ObjectKind::kAccount, ChangeOp::kAdd);
}

TEST_CASE(
    "one way, a target object made in the same run as the source's "
    "meets it",
    "[rules][first-meet]") {
  Scenario s;
  SameRunCreate(s, kReconcilerRules);
  const Decision& d = s.Feed(MailDan());
  INFO(s.Text());
  CHECK(d.rule == "link/first-meet");
  CHECK(d.outcome == Outcome::kPropagated);
  // The Add is gone; the LDAP values are written over the mail object.
  REQUIRE(d.intents.size() == 1);
  const Intent& w = d.intents[0];
  CHECK(w.target == Side::kMail);
  CHECK(w.op == IntentOp::kModify);
  CHECK(w.target_id == "dan@example.com");
  CHECK(AttrValues(w.set, "title") == std::vector<std::string>{"Dev"});
  CHECK(AttrValues(w.set, "lastName") == std::vector<std::string>{"dan"});
  CHECK(AttrValues(w.expect, "title") == std::vector<std::string>{"Admin"});
  CHECK(s.projection().pending_count() == 1);
  const LinkState* link =
      s.projection().FindLinkByMail(ObjectKind::kAccount, "dan@example.com");
  REQUIRE(link);
  CHECK(link->ldap_id == "u-dan");
}

TEST_CASE(
    "under rules version 4 the object found in place is discarded, as "
    "it was",
    "[rules][first-meet]") {
  Scenario s;
  SameRunCreate(s, 4);
  const Decision& d = s.Feed(MailDan());
  INFO(s.Text());
  CHECK(d.rule == "direction/ldap_to_axigen");
  CHECK(d.intents.empty());
  CHECK(s.projection().pending_count() == 0);  // the Add is dropped
}

// ldap_to_axigen: the mail administrator's own cat (never linked); before
// one run, the administrator removes it and the LDAP administrator adds
// uid=cat. The refresh is decided first: the entry meets the mail object
// still known, whose removal the poll then reports, the first meeting's
// write not made yet.
const Decision& MeetThenRemoved(Scenario& s, std::uint32_t rules) {
  FeedConfig(s, OneWay("ldap_to_axigen"), rules);
  s.Feed(MailObject("cat@example.com",
                    {{"lastName", {"Own"}}, {"title", {"Admin"}}},
                    ObjectKind::kAccount, ChangeOp::kAdd));
  const Decision& meet =
      s.Feed(LdapPerson("u-cat", "cat", {{"title", {"Dev"}}}, ChangeOp::kAdd));
  INFO(DecisionText(meet));
  REQUIRE(meet.rule == "link/first-meet");
  REQUIRE(s.projection().pending_count() == 1);
  return s.Feed(MailDelete("cat@example.com"));
}

TEST_CASE(
    "one way, a target object removed while a first meeting's write to it "
    "is pending is created again",
    "[rules][first-meet]") {
  // Found by the model test (MODEL_SEED=7600065): the write was dropped,
  // the removal discarded, and the new LDAP entry had no mail account.
  Scenario s;
  const Decision& d = MeetThenRemoved(s, kReconcilerRules);
  INFO(s.Text());
  CHECK(d.rule == "create/ldap-to-mail");
  CHECK(d.outcome == Outcome::kPropagated);
  REQUIRE(d.intents.size() == 1);
  const Intent& add = d.intents[0];
  CHECK(add.target == Side::kMail);
  CHECK(add.op == IntentOp::kAdd);
  CHECK(add.target_id == "cat@example.com");
  CHECK(AttrValues(add.set, "title") == std::vector<std::string>{"Dev"});
  // The dropped write is gone; the Add is all that is pending.
  CHECK(s.projection().pending_count() == 1);
  const LinkState* link =
      s.projection().FindLinkByMail(ObjectKind::kAccount, "cat@example.com");
  REQUIRE(link);
  CHECK(link->ldap_id == "u-cat");
}

TEST_CASE(
    "under rules version 8 a target object removed while a write to it is "
    "pending stays removed",
    "[rules][first-meet]") {
  Scenario s;
  const Decision& d = MeetThenRemoved(s, 8);
  INFO(s.Text());
  CHECK(d.rule == "direction/ldap_to_axigen");
  CHECK(d.intents.empty());
}

}  // namespace
}  // namespace dirledger::testing

// A mail object deleted and added again while the LDAP entry made for it is
// still being created (docs/rules.md, section 4, rules version 7): the
// address keeps the entry's Add, and the object added again meets it: no
// second Add of the same DN; the add's outcome writes the values the object
// has by then, and its delete is not carried out. Against rules version 6
// too, which created the entry a second time.
#include <catch2/catch.hpp>

#include "codecs/rules_version.h"
#include "replay/decision_text.h"
#include "replay/replay_test_util.h"

namespace dirledger::testing {
namespace {

void Under(Scenario& s, const char* direction, std::uint32_t rules,
           const char* resolution = "") {
  ConnectorOptions o;
  o.direction = direction;
  o.resolution = resolution;
  FeedConfig(s, o, rules);
}

ObservedChange MDan(const std::string& title) {
  return MailObject(
      "dan@example.com",
      {{"firstName", {"Dan"}}, {"lastName", {"Lee"}}, {"title", {title}}});
}

std::string AllIntents(const Decision& d) {
  std::string out;
  for (const Intent& i : d.intents) out += IntentText(i) + "\n";
  return out;
}

// axigen_to_ldap under `rules`: dan is added on mail (an LDAP Add is
// decided), deleted, and added again with title t2, all before the Add's
// outcome. Returns the Add.
Intent AddDeleteAddAgain(Scenario& s, std::uint32_t rules) {
  Under(s, "axigen_to_ldap", rules);
  const Decision& created = s.Feed(MDan("t1"));
  INFO(DecisionText(created));
  REQUIRE(created.rule == "create/mail-to-ldap");
  REQUIRE(created.intents.size() == 1);
  const Intent add = created.intents[0];
  REQUIRE(add.op == IntentOp::kAdd);
  REQUIRE(add.dn == "uid=dan,ou=people,dc=example,dc=com");
  const Decision& gone = s.Feed(MailDelete("dan@example.com"));
  INFO(DecisionText(gone));
  REQUIRE(gone.rule == "create/pending");
  REQUIRE(gone.intents.empty());
  return add;
}

TEST_CASE(
    "a mail object added again while its deleted self's LDAP entry is "
    "being created meets that entry: no second Add",
    "[recreate]") {
  Scenario s;
  const Intent add = AddDeleteAddAgain(s, kReconcilerRules);
  const Decision& again = s.Feed(MDan("t2"));
  INFO(s.Text());
  CHECK(again.rule == "create/pending");
  CHECK(again.outcome == Outcome::kNoChange);
  CHECK(again.intents.empty());
  CHECK(again.reason.find("added again") != std::string::npos);
  CHECK(s.projection().pending_count() == 1);

  // The Add lands: the entry is linked to dan and written its new title;
  // it is not deleted.
  const Decision& done = s.Feed(OkOutcome(add, "u-dan"));
  INFO(DecisionText(done));
  CHECK(done.link_ldap_id == "u-dan");
  CHECK(done.link_mail_id == "dan@example.com");
  REQUIRE(done.intents.size() == 1);
  const Intent& follow = done.intents[0];
  CHECK(follow.op == IntentOp::kModify);
  CHECK(follow.target_id == "u-dan");
  CHECK(AttrValues(follow.set, "title") == std::vector<std::string>{"t2"});
  // Nothing waits for the address any more: a later delete and add of dan
  // are decided as for any linked object.
  CHECK(s.projection()
            .WaitingFor(Side::kMail, "creating:account:dan@example.com")
            .empty());
}

TEST_CASE(
    "deleted again after its re-add, the mail object's entry is deleted "
    "once its add is done",
    "[recreate]") {
  Scenario s;
  const Intent add = AddDeleteAddAgain(s, kReconcilerRules);
  REQUIRE(s.Feed(MDan("t2")).intents.empty());
  const Decision& gone = s.Feed(MailDelete("dan@example.com"));
  INFO(s.Text());
  CHECK(gone.rule == "create/pending");
  CHECK(gone.intents.empty());
  const Decision& done = s.Feed(OkOutcome(add, "u-dan"));
  INFO(DecisionText(done));
  REQUIRE(done.intents.size() == 1);
  CHECK(done.intents[0].op == IntentOp::kDelete);
  CHECK(done.intents[0].target_id == "u-dan");
}

TEST_CASE(
    "once the deleted mail object's entry failed to be made, its re-add "
    "creates the entry anew",
    "[recreate]") {
  Scenario s;
  const Intent add = AddDeleteAddAgain(s, kReconcilerRules);
  const Decision& failed = s.Feed(FailedOutcome(add, "server down"));
  INFO(DecisionText(failed));
  REQUIRE(failed.rule == "outcome/failed");
  const Decision& again = s.Feed(MDan("t2"));
  INFO(s.Text());
  CHECK(again.rule == "create/mail-to-ldap");
  REQUIRE(again.intents.size() == 1);
  CHECK(again.intents[0].op == IntentOp::kAdd);
  CHECK(AttrValues(again.intents[0].set, "title") ==
        std::vector<std::string>{"t2"});
}

TEST_CASE(
    "both ways, the entry created again for a mail object whose LDAP entry "
    "was deleted is not created twice when the object is re-added",
    "[recreate]") {
  Scenario s;
  Under(s, "both_ways", kReconcilerRules, "axigen_wins");
  // dan on LDAP, created on mail (its report is the Add's echo): linked.
  const Decision& made = s.Feed(
      LdapPerson("u-dan", "dan",
                 {{"givenName", {"Dan"}}, {"sn", {"Lee"}}, {"title", {"t1"}}}));
  INFO(DecisionText(made));
  REQUIRE(made.rule == "create/ldap-to-mail");
  REQUIRE(s.Feed(MDan("t1")).outcome == Outcome::kEcho);
  // The mail side changes the title, then LDAP deletes the entry: mail
  // wins, the entry is created again.
  s.Feed(MDan("t3"));
  const Decision& del =
      s.Feed(LdapDelete("u-dan", "uid=dan,ou=people,dc=example,dc=com"));
  INFO(s.Text());
  const Intent* add = nullptr;
  for (const Intent& i : del.intents)
    if (i.target == Side::kLdap && i.op == IntentOp::kAdd) add = &i;
  REQUIRE(add != nullptr);
  const Intent recreate = *add;
  // The mail object goes and comes back before that Add is done.
  CHECK(s.Feed(MailDelete("dan@example.com")).rule == "create/pending");
  const Decision& again = s.Feed(MDan("t4"));
  CHECK(again.rule == "create/pending");
  CHECK(AllIntents(again).empty());
  const Decision& done = s.Feed(OkOutcome(recreate, "u-dan2"));
  INFO(DecisionText(done));
  CHECK(done.link_ldap_id == "u-dan2");
  REQUIRE(done.intents.size() == 1);
  CHECK(done.intents[0].op == IntentOp::kModify);
  CHECK(AttrValues(done.intents[0].set, "title") ==
        std::vector<std::string>{"t4"});
}

TEST_CASE(
    "under rules version 6 a mail object added again while its entry is "
    "being created is created a second time, as before",
    "[recreate]") {
  Scenario s;
  AddDeleteAddAgain(s, 6);
  const Decision& again = s.Feed(MDan("t2"));
  INFO(s.Text());
  CHECK(again.rule == "create/mail-to-ldap");
  REQUIRE(again.intents.size() == 1);
  CHECK(again.intents[0].op == IntentOp::kAdd);
  CHECK(again.intents[0].dn == "uid=dan,ou=people,dc=example,dc=com");
  CHECK(s.projection()
            .WaitingFor(Side::kMail, "creating:account:dan@example.com")
            .empty());
}

// Both ways under `rules`: dan on LDAP, linked to its mail account; the
// mail administrator removes the account and adds it again (title t2)
// before the entry's Delete is done. Returns the re-add's decision.
Decision RemoveAndAddAgain(Scenario& s, std::uint32_t rules) {
  Under(s, "both_ways", rules, "no_change");
  REQUIRE(
      s.Feed(LdapPerson(
                 "u-dan", "dan",
                 {{"givenName", {"Dan"}}, {"sn", {"Lee"}}, {"title", {"t1"}}}))
          .rule == "create/ldap-to-mail");
  REQUIRE(s.Feed(MDan("t1")).outcome == Outcome::kEcho);
  const Decision& gone = s.Feed(MailDelete("dan@example.com"));
  INFO(DecisionText(gone));
  REQUIRE(gone.rule == "delete/mail-to-ldap");
  return s.Feed(MDan("t2"));
}

TEST_CASE(
    "both ways, a mail object removed and added again before its entry's "
    "delete is done makes the entry again, no conflict",
    "[recreate]") {
  // Found by the model test (MODEL_SEED=8300049): the delete dirledger was
  // making for the mail side counted as LDAP's, against the mail side's
  // new values, and no_change left the person on the mail side only.
  Scenario s;
  const Decision& again = RemoveAndAddAgain(s, kReconcilerRules);
  INFO(s.Text());
  CHECK(again.rule == "create/mail-to-ldap");
  CHECK(again.outcome == Outcome::kPropagated);
  REQUIRE(again.intents.size() == 1);
  CHECK(again.intents[0].op == IntentOp::kAdd);
  CHECK(again.intents[0].dn == "uid=dan,ou=people,dc=example,dc=com");
  CHECK(AttrValues(again.intents[0].set, "title") ==
        std::vector<std::string>{"t2"});
}

TEST_CASE(
    "under rules version 7 a mail object removed and added again is a "
    "delete-modify conflict, as before",
    "[recreate]") {
  Scenario s;
  const Decision& again = RemoveAndAddAgain(s, 7);
  CHECK(again.rule == "conflict/delete-modify/no_change");
  CHECK(again.intents.empty());
}

}  // namespace
}  // namespace dirledger::testing

// Failure records (docs/rules.md, "Failures"): a write that failed for good
// and an object error stay in the projection until resolved or dismissed.
#include <algorithm>
#include <catch2/catch.hpp>

#include "codecs/projection_store.h"
#include "codecs/rules_version.h"
#include "replay/reconcile_internal.h"
#include "replay/replay_test_util.h"

namespace dirledger::testing {
namespace {

ObservedChange Jdoe(const std::string& title) {
  return LdapPerson(
      "u-jdoe", "jdoe",
      {{"givenName", {"John"}}, {"sn", {"Doe"}}, {"title", {title}}});
}

const Intent& Only(const Decision& d) {
  INFO(DecisionText(d));
  REQUIRE(d.intents.size() == 1);
  return d.intents.front();
}

std::vector<FailureState> Failures(const Scenario& s) {
  std::vector<FailureState> out;
  (void)s.projection().ForEachFailure([&](const FailureState& f) {
    out.push_back(f);
    return true;
  });
  return out;
}

OperatorAction Dismiss(const std::string& id) {
  OperatorAction a;
  a.kind = ActionKind::kDismiss;
  a.actor = "ops";
  a.failure_id = id;
  return a;
}

// The config recorded again, under rules version `rules`.
void Under(Scenario& s, std::uint32_t rules) { FeedConfig(s, {}, rules); }

}  // namespace

TEST_CASE("failures: a failed write is kept until a later write succeeds",
          "[rules][failures]") {
  Scenario s;
  const Intent add = Only(s.Feed(Jdoe("Dev\x01")));
  REQUIRE(add.op == IntentOp::kAdd);
  s.Feed(FailedOutcome(add, "value refused"));
  std::vector<FailureState> f = Failures(s);
  REQUIRE(f.size() == 1);
  CHECK(f[0].kind == FailureKind::kFailedWrite);
  CHECK(f[0].side == Side::kMail);
  CHECK(f[0].object == "jdoe@example.com");
  CHECK(f[0].intent_id == add.id);
  CHECK(f[0].op == IntentOp::kAdd);
  CHECK(f[0].message == "value refused");
  CHECK(f[0].since_seq == s.seq());
  CHECK(FailureId(f[0]) == "F" + std::to_string(s.seq()));

  // A second failure of the same object replaces the first.
  const Intent again = Only(s.Feed(Jdoe("Dev\x02")));
  s.Feed(FailedOutcome(again, "still refused"));
  f = Failures(s);
  REQUIRE(f.size() == 1);
  CHECK(f[0].message == "still refused");
  CHECK(f[0].intent_id == again.id);
  CHECK(f[0].since_seq == s.seq());

  // The entry fixed: its write succeeds, and the failure is resolved.
  const Intent fixed = Only(s.Feed(Jdoe("Dev")));
  CHECK(Failures(s).size() == 1);  // until its outcome
  s.Feed(OkOutcome(fixed));
  CHECK(Failures(s).empty());
}

TEST_CASE("failures: the object a failed write is recorded against",
          "[rules][failures]") {
  Intent rename;
  rename.target = Side::kMail;
  rename.op = IntentOp::kRename;
  rename.dn = "old@example.com";
  rename.target_id = "new@example.com";
  CHECK(FailureObject(rename) == "old@example.com");
  Intent modify;
  modify.target = Side::kMail;
  modify.target_id = "old@example.com";
  CHECK(FailureObject(modify) == "old@example.com");
  Intent ldap_add;
  ldap_add.target = Side::kLdap;
  ldap_add.op = IntentOp::kAdd;
  ldap_add.dn = "uid=x,dc=example,dc=com";
  CHECK(FailureObject(ldap_add) == "uid=x,dc=example,dc=com");
}

TEST_CASE("failures: the source entry deleted resolves its failed write",
          "[rules][failures]") {
  Scenario s;
  const Intent add = Only(s.Feed(Jdoe("Dev")));
  s.Feed(FailedOutcome(add, "quota"));
  REQUIRE(Failures(s).size() == 1);
  s.Feed(LdapDelete("u-jdoe", PersonDn("jdoe")));
  CHECK(Failures(s).empty());
}

TEST_CASE("failures: dismiss drops one; an unknown or closed id is an error",
          "[rules][failures]") {
  Scenario s;
  const Intent add = Only(s.Feed(Jdoe("Dev")));
  s.Feed(FailedOutcome(add, "quota"));
  const std::string id = FailureId(Failures(s).at(0));

  const Decision& unknown = s.Feed(Dismiss("F999"));
  CHECK(unknown.outcome == Outcome::kError);
  CHECK(unknown.rule == "operator/unknown-failure");
  CHECK(unknown.reason.find("F999") != std::string::npos);
  CHECK(Failures(s).size() == 1);

  // Ids are typed without regard to case.
  const Decision& d = s.Feed(Dismiss("f" + id.substr(1)));
  INFO(DecisionText(d));
  CHECK(d.rule == "operator/dismiss");
  CHECK(d.reason.find(id) != std::string::npos);
  CHECK(d.reason.find("by ops") != std::string::npos);
  CHECK(std::find(d.object_ids.begin(), d.object_ids.end(),
                  "jdoe@example.com") != d.object_ids.end());
  CHECK(Failures(s).empty());

  const Decision& closed = s.Feed(Dismiss(id));
  CHECK(closed.rule == "operator/unknown-failure");
  CHECK(closed.outcome == Outcome::kError);
}

TEST_CASE("failures: an object error stays until the object is read again",
          "[rules][failures]") {
  Scenario s;
  ObjectError e{Side::kLdap, "corp/syncrepl",  "corp",
                "u-jdoe",    PersonDn("jdoe"), "invalid UTF-8 in sn"};
  CHECK(s.Feed(e).rule == "error/object");
  std::vector<FailureState> f = Failures(s);
  REQUIRE(f.size() == 1);
  CHECK(f[0].kind == FailureKind::kObjectError);
  CHECK(f[0].object == "u-jdoe");
  CHECK(f[0].source == "corp/syncrepl");
  CHECK(f[0].message == "invalid UTF-8 in sn");
  // A second error about it replaces the first.
  e.message = "no objectClass";
  s.Feed(e);
  f = Failures(s);
  REQUIRE(f.size() == 1);
  CHECK(f[0].message == "no objectClass");
  // A present-phase report without an image is no new reading.
  ObservedChange present = Jdoe("Dev");
  present.op = ChangeOp::kPresent;
  present.full_image = false;
  present.attrs.clear();
  s.Feed(present);
  CHECK(Failures(s).size() == 1);
  s.Feed(Jdoe("Dev"));
  CHECK(Failures(s).empty());
}

TEST_CASE(
    "failures: a log recorded under rules version 2 decides as before, "
    "without failure records",
    "[rules][failures]") {
  for (std::uint32_t rules : {1u, 2u}) {
    Scenario old, now;
    Under(old, rules);
    Under(now, kReconcilerRules);
    for (Scenario* s : {&old, &now}) {
      const Intent add = Only(s->Feed(Jdoe("Dev")));
      s->Feed(FailedOutcome(add, "quota"));
      s->Feed(ObjectError{Side::kLdap, "corp/syncrepl", "corp", "u-x", "uid=x",
                          "bad"});
    }
    CHECK(Failures(old).empty());
    CHECK(Failures(now).size() == 2);
    // The decisions themselves are the same text.
    REQUIRE(old.decisions().size() == now.decisions().size());
    for (size_t i = 2; i < now.decisions().size(); ++i)
      CHECK(DecisionText(old.decisions()[i]) ==
            DecisionText(now.decisions()[i]));
    CHECK(old.Feed(Dismiss("F3")).rule == "operator/unknown-failure");
  }
}

TEST_CASE("failures: replayed into a ProjectionStore, the same records",
          "[rules][failures]") {
  Scenario s;
  const Intent add = Only(s.Feed(Jdoe("Dev")));
  s.Feed(FailedOutcome(add, "quota\r\nforged"));
  s.Feed(ObjectError{Side::kMail, "mail/embedded", "", "x@example.com", "",
                     "unreadable"});
  MemKvStore state, links;
  ProjectionStore store(&state, &links);
  REQUIRE(s.projection().ExportTo(&store).ok());
  std::vector<FailureState> stored;
  REQUIRE(store
              .ForEachFailure([&](const FailureState& f) {
                stored.push_back(f);
                return true;
              })
              .ok());
  CHECK(stored == Failures(s));
  REQUIRE(stored.size() == 2);
  auto found = store.FindFailure(FailureId(stored[1]));
  REQUIRE(found);
  CHECK(*found == stored[1]);
  CHECK(store.GetFailure(FailureKind::kObjectError, Side::kMail,
                         "x@example.com"));
  CHECK_FALSE(store.FindFailure("F1"));
}

}  // namespace dirledger::testing

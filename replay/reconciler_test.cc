// The reconciler's rules beyond the direction x resolution table: events
// without sync meaning, scope, echoes, linking, outcomes, drift and open
// conflicts, holds, rollback, catching up, waits, Active Directory, and
// purity (docs/rules.md names the test of each row).
#include "replay/reconciler.h"

#include <catch2/catch.hpp>

#include "codecs/event_codec.h"
#include "codecs/projection_store.h"
#include "codecs/rules_version.h"
#include "replay/replay_test_util.h"

namespace dirledger::testing {
namespace {

ConnectorOptions Both(const char* resolution) {
  ConnectorOptions o;
  o.direction = "both_ways";
  o.resolution = resolution;
  return o;
}

ConnectorOptions OneWay(const char* direction) {
  ConnectorOptions o;
  o.direction = direction;
  return o;
}

ObservedChange Set(ObservedChange c, const std::string& name,
                   std::vector<std::string> values) {
  SetAttr(&c.attrs, name, std::move(values));
  return c;
}

ObservedChange LJdoe() {
  return LdapPerson(
      "u-jdoe", "jdoe",
      {{"givenName", {"John"}}, {"sn", {"Doe"}}, {"title", {"Dev"}}});
}
ObservedChange MJdoe() {
  return MailObject(
      "jdoe@example.com",
      {{"firstName", {"John"}}, {"lastName", {"Doe"}}, {"title", {"Dev"}}});
}

// jdoe on both sides, linked and agreed.
void Linked(Scenario& s) {
  s.Feed(LJdoe());
  s.Feed(MJdoe());
  REQUIRE(s.projection().FindLinkByLdap(ObjectKind::kAccount, "u-jdoe"));
  REQUIRE(s.projection().pending_count() == 0);
}

const Intent& Only(const Decision& d) {
  INFO(DecisionText(d));
  REQUIRE(d.intents.size() == 1);
  return d.intents.front();
}

}  // namespace

TEST_CASE("events without sync meaning are recorded", "[rules]") {
  Scenario s;
  CursorAdvance cursor{"corp/syncrepl", "cookie"};
  CHECK(s.Feed(cursor).rule == "record/cursor");
  RefreshPhase phase;
  phase.source = "corp/syncrepl";
  phase.kind = PhaseKind::kEnd;
  phase.entries = 3;
  const Decision& p = s.Feed(phase);
  CHECK(p.rule == "record/phase");
  CHECK(p.outcome == Outcome::kRecorded);
  CHECK(s.decisions().front().rule == "record/config");
  OperatorAction note;
  note.kind = ActionKind::kNote;
  note.actor = "ops";
  CHECK(s.Feed(note).rule == "record/operator");
  ObjectError err{Side::kLdap, "corp/syncrepl", "corp",
                  "u-9",       "uid=x,dc=y",    "no objectClass"};
  const Decision& e = s.Feed(err);
  CHECK(e.outcome == Outcome::kError);
  CHECK(e.rule == "error/object");
  CHECK(e.reason.find("no objectClass") != std::string::npos);
  CHECK(e.object_ids == std::vector<std::string>{"u-9", "uid=x,dc=y"});
  CHECK(s.projection().object_count() == 0);
}

TEST_CASE("scope: unknown domain, other connector, group sync off, domain off",
          "[rules]") {
  ConnectorOptions o;
  o.group_sync = false;
  Scenario s(o);
  ObservedChange far = LJdoe();
  far.domain = "elsewhere.org";
  CHECK(s.Feed(far).rule == "scope/unknown-domain");
  ObservedChange other = LJdoe();
  other.connector = "hr";
  CHECK(s.Feed(other).rule == "scope/unknown-connector");
  const Decision& g = s.Feed(LdapGroup("g-1", "staff", {}));
  CHECK(g.rule == "scope/group-sync-off");
  CHECK(g.outcome == Outcome::kSkippedOutOfScope);

  // Domain off: recorded, not synced; switched on, the next report syncs.
  ConnectorOptions off;
  off.ldap_sync = false;
  Scenario d(off);
  const Decision& skipped = d.Feed(LJdoe());
  CHECK(skipped.outcome == Outcome::kSkippedDomainOff);
  CHECK(skipped.rule == "scope/domain-off");
  CHECK(skipped.intents.empty());
  CHECK(d.projection().FindObject(Side::kLdap, ObjectKind::kAccount, "u-jdoe"));
  d.Configure(ConnectorOptions{});
  const Decision& synced = d.Feed(LJdoe());
  CHECK(synced.rule == "create/ldap-to-mail");
}

TEST_CASE("scope: a domain with sync off and no connector is domain sync off",
          "[rules]") {
  std::string toml = ConfigToml(ConnectorOptions{});
  toml += "[[domain]]\nname = \"quiet.org\"\nldap_sync = false\n";
  // The mail side reports the domain's objects with no connector.
  ObservedChange c = MailObject("ann@quiet.org", {{"firstName", {"Ann"}}});
  c.domain = "quiet.org";
  REQUIRE(c.connector.empty());

  Scenario s;
  s.Feed(ConfigEvent(toml));
  const Decision& d = s.Feed(c);
  CHECK(d.rule == "scope/domain-off");
  CHECK(d.outcome == Outcome::kSkippedDomainOff);
  CHECK(d.reason ==
        "mail account ann@quiet.org modify recorded, not synced: domain "
        "quiet.org has ldap_sync = false");
  CHECK(d.intents.empty());
  // An LDAP entry of that domain, through connector "corp": the same.
  ObservedChange l = LdapPerson("u-ann", "ann", {{"mail", {"ann@quiet.org"}}});
  l.domain = "quiet.org";
  CHECK(s.Feed(l).rule == "scope/domain-off");

  // A log from before rules version 2 decided this under the connector
  // check; replaying it must say what it said then.
  Scenario old;
  ConfigChange before = ConfigEvent(toml);
  before.reconciler_rules = 0;
  old.Feed(before);
  const Decision& o = old.Feed(c);
  CHECK(o.rule == "scope/unknown-connector");
  CHECK(o.outcome == Outcome::kSkippedOutOfScope);
  CHECK(o.reason ==
        "mail account ann@quiet.org modify recorded, not synced: its "
        "connector \"\" is not in the config");
}

TEST_CASE("echoes of our own writes are recognised", "[rules]") {
  Scenario s(Both("ldap_wins"));
  Linked(s);
  const Decision& d = s.Feed(Set(LJdoe(), "title", {"Lead"}));
  const Intent i = Only(d);
  // By values, before the outcome.
  const Decision& echo = s.Feed(Set(MJdoe(), "title", {"Lead"}));
  CHECK(echo.rule == "echo/values");
  CHECK(echo.outcome == Outcome::kEcho);
  CHECK(echo.intents.empty());
  CHECK(s.projection().pending_count() == 0);
  // Its outcome comes after: nothing is left to do.
  CHECK(s.Feed(OkOutcome(i)).rule == "outcome/no-pending");

  // By origin, after the outcome.
  const Intent j = Only(s.Feed(Set(LJdoe(), "title", {"Boss"})));
  CHECK(s.Feed(OkOutcome(j)).rule == "outcome/applied");
  CHECK(s.projection().FindPending(j.id)->applied);
  ObservedChange back = Set(MJdoe(), "title", {"Boss"});
  back.origin_intent = j.id;
  CHECK(s.Feed(back).rule == "echo/origin");
  CHECK(s.projection().pending_count() == 0);

  // Reported again unchanged: no change; present without image: recorded.
  CHECK(s.Feed(Set(MJdoe(), "title", {"Boss"})).rule == "change/none");
  ObservedChange present = LJdoe();
  present.op = ChangeOp::kPresent;
  present.attrs.clear();
  present.full_image = false;
  CHECK(s.Feed(present).rule == "change/present");
}

TEST_CASE("both sides changed to the same value agree", "[rules]") {
  Scenario s(Both("no_change"));
  Linked(s);
  s.Feed(Set(LJdoe(), "title", {"Lead"}));
  const Decision& d = s.Feed(Set(MJdoe(), "title", {"Lead"}));
  // The mail change is the echo of the pending write.
  CHECK(d.outcome == Outcome::kEcho);
  Scenario t(Both("no_change"));
  Linked(t);
  t.Feed(Set(MJdoe(), "title", {"Lead"}));
  ObservedChange l = Set(LJdoe(), "title", {"Lead"});
  const Decision& e = t.Feed(l);
  CHECK(e.outcome == Outcome::kEcho);
}

TEST_CASE(
    "a write that failed is recorded; the sides stay apart until the "
    "next change",
    "[rules]") {
  Scenario s(Both("ldap_wins"));
  Linked(s);
  const Intent i = Only(s.Feed(Set(LJdoe(), "title", {"Lead"})));
  const Decision& f = s.Feed(FailedOutcome(i, "mailbox locked"));
  CHECK(f.outcome == Outcome::kFailed);
  CHECK(f.rule == "outcome/failed");
  CHECK(f.reason.find("mailbox locked") != std::string::npos);
  CHECK(f.intents.empty());
  CHECK(s.projection().pending_count() == 0);
  // The next change of either object catches up what the failure left.
  const Decision& next = s.Feed(Set(MJdoe(), "lastName", {"Doh"}));
  INFO(DecisionText(next));
  CHECK(next.rule == "propagate/mail-to-ldap");
  REQUIRE(next.intents.size() == 2);
  CHECK(next.intents[1].target == Side::kMail);
  CHECK(AttrValues(next.intents[1].set, "title") ==
        std::vector<std::string>{"Lead"});
}

TEST_CASE("outcomes update the projection; mismatched ones are refused",
          "[rules]") {
  Scenario s(OneWay("ldap_to_axigen"));
  const Intent add = Only(s.Feed(LJdoe()));
  CHECK(add.op == IntentOp::kAdd);
  CHECK(add.target_id == "jdoe@example.com");
  // Linked at once: the mail id is the address.
  CHECK(
      s.projection().FindLinkByMail(ObjectKind::kAccount, "jdoe@example.com"));
  WriteOutcome wrong = OkOutcome(add);
  wrong.side = Side::kLdap;
  CHECK(s.Feed(wrong).rule == "outcome/mismatch");
  CHECK(s.Feed(OkOutcome(add)).outcome == Outcome::kApplied);
  const ObjectState* m = s.projection().FindObject(
      Side::kMail, ObjectKind::kAccount, "jdoe@example.com");
  REQUIRE(m);
  CHECK(FirstValue(m->attrs, "title") == "Dev");
  // The link learns what both sides agree on.
  CHECK(s.projection().FindLinkByLdap(ObjectKind::kAccount, "u-jdoe")->agreed ==
        AttrList{{"firstName", {"John"}},
                 {"lastName", {"Doe"}},
                 {"title", {"Dev"}}});

  // A failed add takes the link back.
  Scenario t(OneWay("ldap_to_axigen"));
  const Intent a = Only(t.Feed(LJdoe()));
  t.Feed(FailedOutcome(a, "quota"));
  CHECK_FALSE(t.projection().FindLinkByLdap(ObjectKind::kAccount, "u-jdoe"));
  // ...and the next report creates it again.
  CHECK(t.Feed(LJdoe()).rule == "create/ldap-to-mail");
}

TEST_CASE("an LDAP entry created for a mail object is linked by its outcome",
          "[rules]") {
  Scenario s(OneWay("axigen_to_ldap"));
  const Intent add = Only(s.Feed(MJdoe()));
  CHECK(add.target == Side::kLdap);
  CHECK(add.target_id.empty());
  CHECK(add.dn == "uid=jdoe,ou=people,dc=example,dc=com");
  CHECK(AttrValues(add.set, "objectClass") ==
        std::vector<std::string>{"inetOrgPerson", "organizationalPerson",
                                 "person", "top"});
  CHECK(AttrValues(add.set, "cn") == std::vector<std::string>{"John Doe"});
  CHECK(AttrValues(add.set, "mail") ==
        std::vector<std::string>{"jdoe@example.com"});
  // Changed again while being created: recorded, followed at the outcome.
  const Decision& pending = s.Feed(Set(MJdoe(), "title", {"Lead"}));
  CHECK(pending.rule == "create/pending");
  CHECK(pending.intents.empty());
  const Decision& done = s.Feed(OkOutcome(add, "u-new"));
  CHECK(done.link_ldap_id == "u-new");
  CHECK(done.link_mail_id == "jdoe@example.com");
  const Intent& follow = Only(done);
  CHECK(follow.target_id == "u-new");
  CHECK(AttrValues(follow.set, "title") == std::vector<std::string>{"Lead"});
  // The entry's own report is the echo of the add.
  ObservedChange echo = Set(LJdoe(), "cn", {"John Doe"});
  echo.id = "u-new";
  CHECK(s.Feed(echo).outcome == Outcome::kEcho);
}

TEST_CASE("first meeting links by address", "[rules]") {
  // One way: the authoritative values are written to the other side.
  Scenario s(OneWay("ldap_to_axigen"));
  s.Feed(Set(MJdoe(), "title", {"Mail"}));  // discarded: no counterpart yet
  const Decision& d = s.Feed(LJdoe());
  CHECK(d.rule == "link/first-meet");
  CHECK(d.outcome == Outcome::kPropagated);
  CHECK(Only(d).target == Side::kMail);
  CHECK(AttrValues(Only(d).set, "title") == std::vector<std::string>{"Dev"});

  // Both ways: an empty side takes the other's value; where both have one
  // the resolution decides.
  for (const char* res : {"ldap_wins", "axigen_wins", "no_change"}) {
    Scenario b(Both(res));
    b.Feed(MailObject("jdoe@example.com", {{"lastName", {"Doe"}},
                                           {"title", {"Mail"}},
                                           {"businessPhone", {"9"}}}));
    const Decision& m = b.Feed(LJdoe());
    INFO(res << "\n" << DecisionText(m));
    CHECK(m.rule == "link/first-meet");
    CHECK(m.conflict_fields == std::vector<std::string>{"title"});
    const std::string r = res;
    if (r == "no_change") {
      CHECK(m.outcome == Outcome::kConflictOpen);
      CHECK(b.projection().FindConflict(ObjectKind::kAccount, "u-jdoe"));
    } else {
      CHECK(m.outcome == Outcome::kConflictResolved);
      CHECK(m.winner == (r == "ldap_wins" ? Side::kLdap : Side::kMail));
    }
    // firstName goes to mail, businessPhone to LDAP, in every case.
    std::string all;
    for (const Intent& i : m.intents) all += IntentText(i) + "\n";
    CHECK(all.find("firstName=[John]") != std::string::npos);
    CHECK(all.find("telephoneNumber=[9]") != std::string::npos);
  }
}

TEST_CASE("an address another linked entry holds waits for it", "[rules]") {
  Scenario s(OneWay("ldap_to_axigen"));
  s.Feed(LJdoe());
  s.Feed(MJdoe());
  // A second entry with uid jdoe (the first one's delete is reported later).
  ObservedChange twin = LJdoe();
  twin.id = "u-twin";
  twin.dn = "uid=jdoe,ou=people,dc=example,dc=com";
  const Decision& d = s.Feed(twin);
  CHECK(d.rule == "link/address-taken");
  CHECK(d.outcome == Outcome::kError);
  // The holder goes: the waiting entry takes the address.
  const Decision& gone = s.Feed(LdapDelete("u-jdoe", PersonDn("jdoe")));
  INFO(DecisionText(gone));
  CHECK(gone.rule == "delete/ldap-to-mail");
  REQUIRE(gone.intents.size() == 2);
  CHECK(gone.intents[0].op == IntentOp::kDelete);
  CHECK(gone.intents[1].op == IntentOp::kAdd);
  CHECK(s.projection()
            .FindLinkByMail(ObjectKind::kAccount, "jdoe@example.com")
            ->ldap_id == "u-twin");
}

TEST_CASE("an entry without a name attribute maps to no address", "[rules]") {
  Scenario s;
  ObservedChange c = LJdoe();
  SetAttr(&c.attrs, "uid", {});
  const Decision& d = s.Feed(c);
  CHECK(d.rule == "create/no-address");
  CHECK(d.outcome == Outcome::kError);
}

TEST_CASE("ignore_ldap_deletes keeps the mail object", "[rules]") {
  ConnectorOptions o;
  o.ignore_ldap_deletes = true;
  Scenario s(o);
  Linked(s);
  const Decision& d = s.Feed(LdapDelete("u-jdoe", PersonDn("jdoe")));
  CHECK(d.outcome == Outcome::kIgnoredDelete);
  CHECK(d.rule == "delete/ignored");
  CHECK(d.intents.empty());
  CHECK_FALSE(
      s.projection().FindObject(Side::kLdap, ObjectKind::kAccount, "u-jdoe"));
  CHECK(s.projection().FindObject(Side::kMail, ObjectKind::kAccount,
                                  "jdoe@example.com"));
  CHECK_FALSE(s.projection().FindLinkByLdap(ObjectKind::kAccount, "u-jdoe"));
}

TEST_CASE("deletes of unlinked, unknown and already gone objects", "[rules]") {
  Scenario s(OneWay("axigen_to_ldap"));
  s.Feed(LJdoe());  // discarded, unlinked
  CHECK(s.Feed(LdapDelete("u-jdoe", PersonDn("jdoe"))).rule ==
        "delete/unlinked");
  Scenario b(Both("ldap_wins"));
  Linked(b);
  const Intent del = Only(b.Feed(LdapDelete("u-jdoe", PersonDn("jdoe"))));
  b.Feed(OkOutcome(del));
  // The mail delete is our own: both are gone, the link too.
  CHECK(b.Feed(MailDelete("jdoe@example.com")).outcome == Outcome::kEcho);
  CHECK_FALSE(b.projection().FindLinkByLdap(ObjectKind::kAccount, "u-jdoe"));
}

TEST_CASE("drift is kept while the non-authoritative side differs", "[rules]") {
  Scenario s(OneWay("ldap_to_axigen"));
  Linked(s);
  const Decision& d = s.Feed(Set(MJdoe(), "title", {"Mail"}));
  CHECK(d.outcome == Outcome::kDiscardedDirection);
  const DriftState* drift =
      s.projection().FindDrift(ObjectKind::kAccount, "u-jdoe");
  REQUIRE(drift);
  CHECK(drift->fields == std::vector<std::string>{"title"});
  CHECK(drift->since_seq == d.seq);
  // The sides agree again: the drift is gone.
  s.Feed(MJdoe());
  CHECK_FALSE(s.projection().FindDrift(ObjectKind::kAccount, "u-jdoe"));
  // A delete on the non-authoritative side drifts as "exists".
  s.Feed(MailDelete("jdoe@example.com"));
  REQUIRE(s.projection().FindDrift(ObjectKind::kAccount, "u-jdoe"));
  CHECK(s.projection().FindDrift(ObjectKind::kAccount, "u-jdoe")->fields ==
        std::vector<std::string>{"exists"});
}

TEST_CASE("a no_change conflict stays open until the sides agree", "[rules]") {
  Scenario s(Both("no_change"));
  Linked(s);
  s.Feed(Set(MJdoe(), "title", {"Mail"}));
  const Decision& d = s.Feed(Set(LJdoe(), "title", {"Ldap"}));
  CHECK(d.outcome == Outcome::kConflictOpen);
  const ConflictState* c =
      s.projection().FindConflict(ObjectKind::kAccount, "u-jdoe");
  REQUIRE(c);
  CHECK(c->fields == std::vector<std::string>{"title"});
  CHECK(c->ldap_values == AttrList{{"title", {"Ldap"}}});
  // Another change on LDAP keeps it open; both agreeing closes it.
  CHECK(s.Feed(Set(LJdoe(), "title", {"Ldap2"})).outcome ==
        Outcome::kConflictOpen);
  s.Feed(Set(MJdoe(), "title", {"Ldap2"}));
  CHECK_FALSE(s.projection().FindConflict(ObjectKind::kAccount, "u-jdoe"));
}

TEST_CASE("held deletes wait for approval", "[rules]") {
  Scenario s;
  Linked(s);
  DeleteHold h;
  h.hold_id = "hold-7";
  h.source = "corp/syncrepl";
  h.connector = "corp";
  h.reason = "600 deletes exceed delete_threshold 500";
  h.deletes = {{Side::kLdap, ObjectKind::kAccount, "u-jdoe", PersonDn("jdoe"),
                "example.com", ""}};
  const Decision& held = s.Feed(h);
  CHECK(held.outcome == Outcome::kHeld);
  CHECK(held.intents.empty());
  CHECK(s.projection().FindHold("hold-7")->status == HoldStatus::kOpen);
  CHECK(s.Feed(h).rule == "hold/duplicate");

  OperatorAction approve;
  approve.kind = ActionKind::kApprove;
  approve.actor = "ops";
  approve.hold_id = "hold-7";
  const Decision& a = s.Feed(approve);
  CHECK(a.outcome == Outcome::kReleased);
  CHECK(Only(a).op == IntentOp::kDelete);
  CHECK(Only(a).target_id == "jdoe@example.com");
  CHECK(s.projection().FindHold("hold-7")->status == HoldStatus::kApproved);
  CHECK(s.Feed(approve).rule == "operator/hold-closed");

  OperatorAction reject = approve;
  reject.kind = ActionKind::kReject;
  reject.hold_id = "hold-8";
  CHECK(s.Feed(reject).rule == "operator/unknown-hold");
  h.hold_id = "hold-8";
  s.Feed(h);
  const Decision& r = s.Feed(reject);
  CHECK(r.outcome == Outcome::kRejected);
  CHECK(r.intents.empty());
  CHECK(s.projection().FindHold("hold-8")->status == HoldStatus::kRejected);
}

// A rollback of both sides of jdoe (title Lead back to Dev), of an account
// deleted since (old@) and one made since (new@), decided under `rules`.
Decision RollbackOfFour(std::uint32_t rules, Scenario& s) {
  UnderRules(s, Both("ldap_wins"), rules);
  Linked(s);
  // title becomes Lead on both sides.
  const Intent w = Only(s.Feed(Set(LJdoe(), "title", {"Lead"})));
  s.Feed(OkOutcome(w));
  s.Feed(Set(MJdoe(), "title", {"Lead"}));
  // Back to Dev on both sides; an account that was deleted comes back; one
  // that did not exist goes.
  s.Feed(MailObject("new@example.com", {{"lastName", {"New"}}}));
  OperatorAction rb;
  rb.kind = ActionKind::kRollback;
  rb.to_seq = 3;
  rb.side_filter = "both";
  auto target = [](Side side, std::string id, std::string dn, bool exists,
                   AttrList attrs) {
    return ObjectTarget{side,          ObjectKind::kAccount, std::move(id),
                        std::move(dn), "example.com",        "corp",
                        exists,        std::move(attrs),     ""};
  };
  AttrList ldap_then = LJdoe().attrs;
  rb.targets = {
      target(Side::kLdap, "u-jdoe", PersonDn("jdoe"), true, ldap_then),
      target(Side::kMail, "jdoe@example.com", "jdoe@example.com", true,
             MJdoe().attrs),
      target(Side::kMail, "old@example.com", "old@example.com", true,
             {{"lastName", {"Old"}}}),
      target(Side::kMail, "new@example.com", "new@example.com", false, {})};
  return s.Feed(rb);
}

TEST_CASE("rollback brings each object to its target image", "[rules]") {
  Scenario s(Both("ldap_wins"));
  const Decision d = RollbackOfFour(kReconcilerRules, s);
  INFO(DecisionText(d));
  CHECK(d.outcome == Outcome::kRolledBack);
  CHECK(d.rule == "operator/rollback");
  REQUIRE(d.intents.size() == 4);
  // The delete first (rules version 11): it frees what the others take.
  CHECK(d.intents[0].op == IntentOp::kDelete);
  CHECK(d.intents[0].target_id == "new@example.com");
  CHECK(d.intents[1].target == Side::kLdap);
  CHECK(d.intents[1].set == AttrList{{"title", {"Dev"}}});
  CHECK(d.intents[1].expect == AttrList{{"title", {"Lead"}}});
  CHECK(d.intents[2].set == AttrList{{"title", {"Dev"}}});
  CHECK(d.intents[3].op == IntentOp::kAdd);
  const std::vector<Intent> intents = d.intents;
  // The writes come back as echoes, not as changes to propagate.
  for (const Intent& i : intents) s.Feed(OkOutcome(i));
  CHECK(s.Feed(LJdoe()).outcome == Outcome::kEcho);
  CHECK(s.Feed(MJdoe()).outcome == Outcome::kEcho);
}

TEST_CASE("a log recorded under rules version 10 rolls back in plan order",
          "[rules]") {
  Scenario s(Both("ldap_wins"));
  const Decision d = RollbackOfFour(10, s);
  REQUIRE(d.intents.size() == 4);
  CHECK(d.intents[0].target == Side::kLdap);
  CHECK(d.intents[2].op == IntentOp::kAdd);
  CHECK(d.intents[3].op == IntentOp::kDelete);
}

// jdoe, linked, is listed in LDAP group g; LDAP renames jdoe to jsmith
// (refint renames the DN in g, which is reported). A rollback of LDAP to
// before the rename, decided under `rules`.
Decision RollbackOfRenamedMember(std::uint32_t rules) {
  Scenario s(Both("ldap_wins"));
  UnderRules(s, Both("ldap_wins"), rules);
  Linked(s);
  s.Feed(LdapGroup("G-g", "g", {PersonDn("jdoe")}, {}, ChangeOp::kAdd));
  const auto g =
      s.projection().GetObject(Side::kLdap, ObjectKind::kGroup, "G-g");
  REQUIRE(g);
  ObservedChange renamed =
      Set(Set(LJdoe(), "uid", {"jsmith"}), "mail", {"jsmith@example.com"});
  renamed.dn = PersonDn("jsmith");
  s.Feed(renamed);
  ObservedChange listed = LdapGroup("G-g", "g", {PersonDn("jsmith")});
  s.Feed(listed);
  OperatorAction rb;
  rb.kind = ActionKind::kRollback;
  rb.to_seq = 3;
  rb.side_filter = "ldap";
  // The group last in the plan would hide the order: it comes first here.
  rb.targets = {ObjectTarget{Side::kLdap, ObjectKind::kGroup, "G-g", g->dn,
                             "example.com", "corp", true, g->attrs, ""},
                ObjectTarget{Side::kLdap, ObjectKind::kAccount, "u-jdoe",
                             PersonDn("jdoe"), "example.com", "corp", true,
                             LJdoe().attrs, ""}};
  return s.Feed(rb);
}

TEST_CASE(
    "a rollback renaming an entry back writes its groups' members as refint "
    "leaves them, after the rename",
    "[rules]") {
  const Decision d = RollbackOfRenamedMember(kReconcilerRules);
  INFO(DecisionText(d));
  REQUIRE_FALSE(d.intents.empty());
  CHECK(d.intents[0].op == IntentOp::kRename);
  CHECK(d.intents[0].new_dn == PersonDn("jdoe"));
  for (const Intent& i : d.intents) {
    CHECK(i.add_values.empty());
    CHECK(i.delete_values.empty());
  }
  // Under rules version 10, in plan order, the group's member write came
  // first and named the DN the rename takes away.
  const Decision old = RollbackOfRenamedMember(10);
  INFO(DecisionText(old));
  REQUIRE_FALSE(old.intents.empty());
  CHECK(old.intents[0].kind == ObjectKind::kGroup);
  CHECK(old.intents[0].delete_values ==
        std::vector<Attribute>{{"member", {PersonDn("jsmith")}}});
}

TEST_CASE(
    "a rollback renames an entry back before it adds one at the DN it leaves",
    "[rules]") {
  for (std::uint32_t rules : {kReconcilerRules, 10u}) {
    Scenario s(Both("ldap_wins"));
    UnderRules(s, Both("ldap_wins"), rules);
    Linked(s);
    ObservedChange renamed =
        Set(Set(LJdoe(), "uid", {"jsmith"}), "mail", {"jsmith@example.com"});
    renamed.dn = PersonDn("jsmith");
    s.Feed(renamed);
    // At the point another entry was at jsmith's DN (deleted since).
    OperatorAction rb;
    rb.kind = ActionKind::kRollback;
    rb.to_seq = 2;
    rb.side_filter = "ldap";
    rb.targets = {ObjectTarget{Side::kLdap, ObjectKind::kAccount, "u-jsmith",
                               PersonDn("jsmith"), "example.com", "corp", true,
                               LdapPerson("u-jsmith", "jsmith", {}).attrs, ""},
                  ObjectTarget{Side::kLdap, ObjectKind::kAccount, "u-jdoe",
                               PersonDn("jdoe"), "example.com", "corp", true,
                               LJdoe().attrs, ""}};
    const Decision& d = s.Feed(rb);
    INFO("rules " << rules << ": " << DecisionText(d));
    REQUIRE(d.intents.size() >= 2);
    if (rules == kReconcilerRules) {
      CHECK(d.intents.front().op == IntentOp::kRename);
      CHECK(d.intents.back().op == IntentOp::kAdd);
    } else {
      CHECK(d.intents.front().op == IntentOp::kAdd);
    }
  }
}

// One way: jdoe's account removed by its administrator (drift), then jdoe
// renamed jsmith in LDAP, which makes jsmith@. A rollback to before both
// deletes jsmith@ (with its link) and renames the entry back; the entry's
// echo, under `rules`.
Decision EchoOfUnlinkedRenameBack(std::uint32_t rules) {
  Scenario s;
  UnderRules(s, ConnectorOptions{}, rules);
  Linked(s);
  s.Feed(MailDelete("jdoe@example.com"));
  const std::uint64_t point = s.seq();
  ObservedChange renamed = LJdoe();
  SetAttr(&renamed.attrs, "uid", {"jsmith"});
  SetAttr(&renamed.attrs, "mail", {"jsmith@example.com"});
  renamed.dn = PersonDn("jsmith");
  for (const Intent& i : s.Feed(renamed).intents) {
    s.Feed(OkOutcome(i));
    ObservedChange echo = MailObject(i.target_id, i.set);
    echo.origin_intent = i.id;
    s.Feed(echo);
  }
  REQUIRE(s.projection().GetObject(Side::kMail, ObjectKind::kAccount,
                                   "jsmith@example.com"));
  OperatorAction rb;
  rb.kind = ActionKind::kRollback;
  rb.to_seq = point;
  rb.side_filter = "both";
  rb.targets = {ObjectTarget{Side::kLdap, ObjectKind::kAccount, "u-jdoe",
                             PersonDn("jdoe"), "example.com", "corp", true,
                             LJdoe().attrs, ""},
                ObjectTarget{Side::kMail,
                             ObjectKind::kAccount,
                             "jsmith@example.com",
                             "jsmith@example.com",
                             "example.com",
                             "corp",
                             false,
                             {},
                             ""}};
  const std::vector<Intent> intents = s.Feed(rb).intents;
  REQUIRE(intents.size() == 3);
  for (const Intent& i : intents) s.Feed(OkOutcome(i));
  return s.Feed(LJdoe());
}

TEST_CASE(
    "one way: the echo of a rollback renaming back an entry it unlinked "
    "creates nothing",
    "[rules]") {
  const Decision d = EchoOfUnlinkedRenameBack(kReconcilerRules);
  INFO(DecisionText(d));
  CHECK(d.outcome == Outcome::kEcho);
  CHECK(d.intents.empty());
  // Under rules version 10 the moved address made it a change, and the
  // account its administrator had removed before the point was made again.
  const Decision old = EchoOfUnlinkedRenameBack(10);
  INFO(DecisionText(old));
  CHECK(old.rule == "create/ldap-to-mail");
}

// Both ways: LDAP group g lists uid=dan, whose entry does not exist (a
// late member), and a rollback's write taking dan out of g is pending when
// an entry and an account for dan are made. Returns the intents the
// account's arrival decided, under `rules`.
std::vector<Intent> LateMemberWhileRemoved(std::uint32_t rules) {
  Scenario s(Both("ldap_wins"));
  UnderRules(s, Both("ldap_wins"), rules);
  for (const Intent& i :
       s.Feed(LdapGroup("G-g", "g", {PersonDn("dan")}, {}, ChangeOp::kAdd))
           .intents) {
    s.Feed(OkOutcome(i));
    ObservedChange echo =
        MailObject(i.target_id, i.set, ObjectKind::kGroup, ChangeOp::kAdd);
    echo.origin_intent = i.id;
    s.Feed(echo);
  }
  const auto g =
      s.projection().GetObject(Side::kLdap, ObjectKind::kGroup, "G-g");
  REQUIRE(g);
  OperatorAction rb;
  rb.kind = ActionKind::kRollback;
  rb.to_seq = 1;
  rb.side_filter = "ldap";
  AttrList without = g->attrs;
  SetAttr(&without, "member", {});
  DropEmptyAttrs(&without);
  rb.targets = {ObjectTarget{Side::kLdap, ObjectKind::kGroup, "G-g", g->dn,
                             "example.com", "corp", true, without, ""}};
  const Decision& d = s.Feed(rb);
  INFO(DecisionText(d));
  REQUIRE(d.intents.size() == 1);
  // Before that write is made, dan's entry arrives and its account is made.
  const std::vector<Intent> adds =
      s.Feed(LdapPerson("u-dan", "dan", {}, ChangeOp::kAdd)).intents;
  std::vector<Intent> all = adds;
  for (const Intent& i : adds) {
    const Decision& o = s.Feed(OkOutcome(i));
    all.insert(all.end(), o.intents.begin(), o.intents.end());
  }
  return all;
}

TEST_CASE(
    "a member a pending write takes out of an LDAP group is not given to "
    "its mail group",
    "[rules][members]") {
  auto gives = [](const std::vector<Intent>& intents) {
    for (const Intent& i : intents)
      if (i.target == Side::kMail && i.kind == ObjectKind::kGroup &&
          !AttrValues(i.add_values, "members").empty())
        return true;
    return false;
  };
  CHECK_FALSE(gives(LateMemberWhileRemoved(kReconcilerRules)));
  CHECK(gives(LateMemberWhileRemoved(10)));
}

TEST_CASE("a mail rename follows an LDAP uid change", "[rules]") {
  Scenario s;
  Linked(s);
  ObservedChange c =
      Set(Set(LJdoe(), "uid", {"jsmith"}), "mail", {"jsmith@example.com"});
  c.dn = PersonDn("jsmith");
  const Intent r = Only(s.Feed(c));
  CHECK(r.op == IntentOp::kRename);
  CHECK(r.dn == "jdoe@example.com");
  CHECK(r.target_id == "jsmith@example.com");
  CHECK(r.new_dn == "jsmith@example.com");
  CHECK(
      s.projection().FindLinkByLdap(ObjectKind::kAccount, "u-jdoe")->mail_id ==
      "jsmith@example.com");
  // The old address is leaving: changes seen there wait for the rename.
  CHECK(s.Feed(Set(MJdoe(), "title", {"x"})).rule == "rename/pending");
  // What the rename reports names it (a delete that does not is the mail
  // administrator's: rename_test.cc).
  ObservedChange gone = MailDelete("jdoe@example.com");
  gone.origin_intent = r.id;
  CHECK(s.Feed(gone).rule == "echo/rename");
  s.Feed(OkOutcome(r));
  ObservedChange added = Set(MJdoe(), "title", {"x"});
  added.id = "jsmith@example.com";
  const Decision& d = s.Feed(added);
  INFO(DecisionText(d));
  CHECK(d.outcome != Outcome::kConflictOpen);
}

TEST_CASE("group members resolve through links and wait when unknown",
          "[rules]") {
  Scenario s;
  // The group is reported before its member.
  const Decision& g = s.Feed(LdapGroup("g-1", "staff", {PersonDn("jdoe")}));
  CHECK(Only(g).set.empty());
  CHECK(g.reason.find("members left out") != std::string::npos);
  CHECK(s.projection().WaitingFor(Side::kLdap, PersonDn("jdoe")) ==
        std::vector<std::string>{"g-1"});
  // The member arrives: it is created and added to the group.
  const Decision& m = s.Feed(LJdoe());
  INFO(DecisionText(m));
  REQUIRE(m.intents.size() == 2);
  CHECK(m.intents[0].op == IntentOp::kAdd);
  CHECK(m.intents[1].target_id == "staff@example.com");
  CHECK(m.intents[1].add_values == AttrList{{"members", {"jdoe@example.com"}}});
  CHECK(s.projection().WaitingFor(Side::kLdap, PersonDn("jdoe")).empty());
}

TEST_CASE("Active Directory: proxyAddresses, cn RDN, user class", "[rules]") {
  ConnectorOptions o;
  o.server_type = "activedirectory";
  o.direction = "both_ways";
  o.resolution = "ldap_wins";
  o.account_base_dn = "cn=Users,%D";
  Scenario s(o);
  ObservedChange c;
  c.side = Side::kLdap;
  c.source = "corp/dirsync";
  c.connector = "corp";
  c.domain = "example.com";
  c.id = "guid-1";
  c.dn = "CN=John Doe,CN=Users,DC=example,DC=com";
  c.full_image = true;
  c.attrs = {{"objectClass", {"top", "person", "organizationalPerson", "user"}},
             {"sAMAccountName", {"JDoe"}},
             {"givenName", {"John"}},
             {"proxyAddresses",
              {"SMTP:jdoe@example.com", "smtp:john@example.com", "X500:/o=x"}}};
  CanonicalizeAttrs(&c.attrs);
  const Intent add = Only(s.Feed(c));
  CHECK(add.target_id == "jdoe@example.com");
  CHECK(AttrValues(add.set, "aliases") ==
        std::vector<std::string>{"john@example.com"});
  // A mail account becomes a user under cn=Users, named by cn.
  const Intent u = Only(s.Feed(MailObject(
      "asmith@example.com",
      {{"lastName", {"Smith"}}, {"aliases", {"anna@example.com"}}})));
  CHECK(u.dn == "cn=asmith,cn=Users,dc=example,dc=com");
  CHECK(AttrValues(u.set, "objectClass") ==
        std::vector<std::string>{"organizationalPerson", "person", "top",
                                 "user"});
  CHECK(AttrValues(u.set, "sAMAccountName") ==
        std::vector<std::string>{"asmith"});
  CHECK(AttrValues(u.set, "proxyAddresses") ==
        std::vector<std::string>{"SMTP:asmith@example.com",
                                 "smtp:anna@example.com"});
}

TEST_CASE("decisions are pure: same inputs, same bytes; canonical inputs",
          "[rules]") {
  // The same history decided twice, once against ProjectionStore (as
  // intake does) and once in memory, gives the same bytes.
  auto history = [] {
    std::vector<EventBody> h;
    h.push_back(ConfigEvent(ConfigToml(Both("ldap_wins"))));
    h.push_back(LJdoe());
    h.push_back(MJdoe());
    h.push_back(Set(MJdoe(), "title", {"Mail"}));
    h.push_back(Set(LJdoe(), "title", {"Ldap"}));
    h.push_back(LdapGroup("g-1", "staff", {PersonDn("jdoe")}));
    return h;
  }();
  auto rules = [&] {
    auto cfg = ConfigFromEvent(std::get<ConfigChange>(history[0]));
    return RuleSet::Compile(std::move(cfg).value()).value();
  }();
  MemKvStore state, links;
  ProjectionStore store(&state, &links);
  InMemoryProjection mem;
  for (size_t k = 0; k < history.size(); ++k) {
    Event e;
    e.seq = k + 1;
    e.body = history[k];
    Decision a, b;
    StateDelta da, db;
    Reconcile(store, e, *rules, &a, &da);
    Reconcile(mem, e, *rules, &b, &db);
    CHECK(EncodeDecision(a) == EncodeDecision(b));
    REQUIRE(store.Apply(da).ok());
    mem.Apply(std::move(db));
  }
  // Attribute name case and value order do not matter.
  Scenario x, y;
  ObservedChange c = LJdoe();
  ObservedChange d = c;
  for (Attribute& a : d.attrs) {
    a.name = AsciiLower(a.name);
    std::reverse(a.values.begin(), a.values.end());
  }
  std::reverse(d.attrs.begin(), d.attrs.end());
  CHECK(EncodeDecision(x.Feed(c)) == EncodeDecision(y.Feed(d)));
}

}  // namespace dirledger::testing

namespace dirledger::testing {

TEST_CASE("a change reported by another connector than the domain's",
          "[rules]") {
  Scenario s;
  std::string toml = ConfigToml(ConnectorOptions{});
  toml +=
      "[[connector]]\nname = \"hr\"\nuris = [\"ldap://127.0.0.1:3891\"]\n"
      "account_base_dn = \"ou=hr,%D\"\n";
  s.Feed(ConfigEvent(toml));
  ObservedChange c = LJdoe();
  c.connector = "hr";
  CHECK(s.Feed(c).rule == "scope/other-connector");
}

TEST_CASE("deletes: both gone, unknown, caught up", "[rules]") {
  // One way: the mail account was deleted (drift); then the entry goes.
  Scenario s(OneWay("ldap_to_axigen"));
  Linked(s);
  s.Feed(MailDelete("jdoe@example.com"));
  const Decision& both = s.Feed(LdapDelete("u-jdoe", PersonDn("jdoe")));
  CHECK(both.rule == "delete/both-gone");
  CHECK_FALSE(s.projection().FindLinkByLdap(ObjectKind::kAccount, "u-jdoe"));

  // A second delete of an entry whose link stays (an open conflict).
  Scenario n(Both("no_change"));
  Linked(n);
  n.Feed(Set(MJdoe(), "title", {"Mail"}));
  CHECK(n.Feed(LdapDelete("u-jdoe", PersonDn("jdoe"))).outcome ==
        Outcome::kConflictOpen);
  CHECK(n.Feed(LdapDelete("u-jdoe", PersonDn("jdoe"))).rule ==
        "delete/unknown");

  // Both ways: a delete that failed is caught up at the next report.
  Scenario b(Both("ldap_wins"));
  Linked(b);
  const Intent del = Only(b.Feed(MailDelete("jdoe@example.com")));
  CHECK(del.target == Side::kLdap);
  b.Feed(FailedOutcome(del, "server busy"));
  const Decision& again = b.Feed(LJdoe());
  CHECK(again.rule == "delete/catch-up");
  CHECK(Only(again).op == IntentOp::kDelete);

  // One way, the non-authoritative side's object goes with its partner.
  Scenario a(OneWay("axigen_to_ldap"));
  Linked(a);
  const Intent d2 = Only(a.Feed(MailDelete("jdoe@example.com")));
  a.Feed(FailedOutcome(d2, "server busy"));
  const Decision& one = a.Feed(Set(LJdoe(), "title", {"x"}));
  CHECK(one.rule == "delete/catch-up");
}

TEST_CASE("catching up a failed write; values that already agree", "[rules]") {
  Scenario s(Both("ldap_wins"));
  Linked(s);
  const Intent i = Only(s.Feed(Set(LJdoe(), "title", {"Lead"})));
  s.Feed(FailedOutcome(i, "busy"));
  const Decision& d = s.Feed(MJdoe());  // reported again, unchanged
  CHECK(d.rule == "propagate/catch-up");
  CHECK(Only(d).target == Side::kMail);
  CHECK(Only(d).set == AttrList{{"title", {"Lead"}}});

  Scenario o(OneWay("ldap_to_axigen"));
  Linked(o);
  o.Feed(Set(MJdoe(), "title", {"Same"}));  // discarded
  const Decision& a = o.Feed(Set(LJdoe(), "title", {"Same"}));
  CHECK(a.rule == "change/agrees");
  CHECK(a.intents.empty());
  CHECK_FALSE(o.projection().FindDrift(ObjectKind::kAccount, "u-jdoe"));
}

TEST_CASE("a rename onto an address another live entry has is not made",
          "[rules]") {
  Scenario s;
  Linked(s);
  s.Feed(LdapPerson("u-anna", "anna", {{"sn", {"Berg"}}}));
  s.Feed(MailObject("anna@example.com", {{"lastName", {"Berg"}}}));
  ObservedChange c =
      Set(Set(Set(LJdoe(), "uid", {"anna"}), "mail", {"anna@example.com"}),
          "title", {"Lead"});
  c.dn = PersonDn("anna2");
  const Decision& d = s.Feed(c);
  INFO(DecisionText(d));
  CHECK(d.rule == "rename/address-taken");
  CHECK(Only(d).target_id == "jdoe@example.com");  // the title still goes
  CHECK(
      s.projection().FindLinkByLdap(ObjectKind::kAccount, "u-jdoe")->mail_id ==
      "jdoe@example.com");
}

}  // namespace dirledger::testing

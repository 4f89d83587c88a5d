// Replay: byte-for-byte comparison with recorded decisions, the first
// difference shown as text, --until, the config in force, errors; what-if
// under overrides; rollback planning.
#include "replay/replayer.h"

#include <catch2/catch.hpp>
#include <set>

#include "codecs/event_codec.h"
#include "replay/replay_test_util.h"
#include "replay/rollback_planner.h"
#include "replay/what_if.h"

namespace dirledger::testing {
namespace {

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

ConnectorOptions Both(const char* resolution) {
  ConnectorOptions o;
  o.direction = "both_ways";
  o.resolution = resolution;
  return o;
}

// A both_ways history with a conflict, a merge and a new account.
void History(Scenario& s) {
  s.Feed(LJdoe());
  s.Feed(MJdoe());
  s.Feed(Set(MJdoe(), "title", {"Mail"}));
  s.Feed(Set(LJdoe(), "title", {"Ldap"}));                          // conflict
  s.Feed(Set(Set(MJdoe(), "title", {"Mail"}), "lastName", {"D"}));  // merge
  s.Feed(LdapPerson("u-anna", "anna", {{"sn", {"Berg"}}}));
}

}  // namespace

TEST_CASE("replay reproduces recorded decisions byte for byte", "[replay]") {
  Scenario s(Both("ldap_wins"));
  History(s);
  Replayer r;
  for (size_t i = 0; i < s.events().size(); ++i)
    REQUIRE(r.Feed(s.events()[i], &s.decisions()[i]).ok());
  CHECK(r.differences() == 0);
  CHECK(r.events() == s.events().size());
  Replayer bytes;
  for (size_t i = 0; i < s.events().size(); ++i)
    REQUIRE(bytes
                .FeedEncoded(s.events()[i].seq, EncodeEvent(s.events()[i]),
                             EncodeDecision(s.decisions()[i]))
                .ok());
  CHECK(bytes.differences() == 0);
  CHECK(bytes.rules()->connector("corp") != nullptr);
}

TEST_CASE("replay reports the first difference with both decisions",
          "[replay]") {
  Scenario s(Both("ldap_wins"));
  History(s);
  std::vector<Decision> recorded = s.decisions();
  recorded[4].reason = "something else";
  recorded[5].intents.clear();
  Replayer r;
  for (size_t i = 0; i < s.events().size(); ++i)
    REQUIRE(r.Feed(s.events()[i], &recorded[i]).ok());
  CHECK(r.differences() == 2);
  REQUIRE(r.first_difference());
  const ReplayDifference& d = *r.first_difference();
  CHECK(d.seq == 5);
  CHECK(d.recorded.find("something else") != std::string::npos);
  CHECK(d.replayed.find("conflict/ldap_wins") != std::string::npos);
  CHECK(d.ToString().find("first difference at seq 5") != std::string::npos);
  // A record without its decision is a difference too.
  Replayer m;
  REQUIRE(m.Feed(s.events()[0], nullptr).ok());
  REQUIRE(m.first_difference());
  CHECK(m.first_difference()->recorded == "(no decision recorded)\n");
  // From bytes, the recorded decision is decoded only to show it.
  Replayer b;
  for (size_t i = 0; i < s.events().size(); ++i)
    REQUIRE(b.FeedEncoded(i + 1, EncodeEvent(s.events()[i]),
                          EncodeDecision(recorded[i]))
                .ok());
  REQUIRE(b.first_difference());
  CHECK(b.first_difference()->recorded.find("something else") !=
        std::string::npos);
}

TEST_CASE("replay compares recorded decisions as stored", "[replay]") {
  Scenario s(Both("ldap_wins"));
  History(s);
  std::vector<Decision> changed = s.decisions();
  changed[4].reason = "something else";
  Replayer r;
  for (size_t i = 0; i < s.events().size(); ++i) {
    std::string stored =
        EncodeDecision(i == 2 || i == 4 ? changed[i] : s.decisions()[i]);
    // Record 3's bytes differ from what the encoder writes for the same
    // decision (as an earlier program's may): trailing bytes the decoder
    // ignores. Decoded, they match.
    if (i == 2) stored.append(8, '\0');
    const std::string_view view(stored);
    REQUIRE(r.FeedStored(s.events()[i], &view).ok());
  }
  CHECK(r.differences() == 1);
  REQUIRE(r.first_difference());
  CHECK(r.first_difference()->seq == 5);
  CHECK(r.first_difference()->recorded.find("something else") !=
        std::string::npos);
  // None stored is a difference; bytes that do not decode are an error.
  Replayer m;
  REQUIRE(m.FeedStored(s.events()[0], nullptr).ok());
  REQUIRE(m.first_difference());
  CHECK(m.first_difference()->recorded == "(no decision recorded)\n");
  Replayer c;
  const std::string_view garbage = "not a flatbuffer";
  const Status bad = c.FeedStored(s.events()[0], &garbage);
  CHECK(bad.IsCorruption());
  CHECK(c.differences() == 0);
}

TEST_CASE("replay --until exposes the projection as of that sequence",
          "[replay]") {
  Scenario s(Both("ldap_wins"));
  History(s);
  Replayer r(ReplayOptions{3, {}, true});
  for (size_t i = 0; i < s.events().size() && !r.done(); ++i)
    REQUIRE(r.Feed(s.events()[i], &s.decisions()[i]).ok());
  CHECK(r.done());
  CHECK(r.last_seq() == 3);
  CHECK(r.differences() == 0);
  const ObjectState* m = r.projection().FindObject(
      Side::kMail, ObjectKind::kAccount, "jdoe@example.com");
  REQUIRE(m);
  CHECK(FirstValue(m->attrs, "title") == "Dev");
  CHECK_FALSE(
      r.projection().FindObject(Side::kLdap, ObjectKind::kAccount, "u-anna"));
  // Events after `until` are ignored.
  REQUIRE(r.Feed(s.events()[5], &s.decisions()[5]).ok());
  CHECK(r.last_seq() == 3);
}

TEST_CASE("replay errors name the record", "[replay]") {
  Replayer r;
  Event bad;
  bad.seq = 1;
  ConfigChange c;
  c.text = "[[connector]\nname=";
  c.path = "dirledger.toml";
  bad.body = c;
  Status s = r.Feed(bad, nullptr);
  REQUIRE_FALSE(s.ok());
  CHECK(s.message().find("log record 1") != std::string::npos);

  Replayer o(ReplayOptions{0, {{"shoe_size", "9"}}, false});
  Event cfg;
  cfg.seq = 1;
  cfg.body = ConfigEvent(ConfigToml(ConnectorOptions{}));
  Status e = o.Feed(cfg, nullptr);
  REQUIRE_FALSE(e.ok());
  CHECK(e.message().find("shoe_size") != std::string::npos);

  Replayer q;
  REQUIRE(q.Feed(cfg, nullptr).ok());
  CHECK_FALSE(q.Feed(cfg, nullptr).ok());  // seq 1 again
  Status corrupt = q.FeedEncoded(2, "not a flatbuffer", "");
  CHECK(corrupt.IsCorruption());
}

TEST_CASE("what-if: another conflict resolution", "[replay][whatif]") {
  Scenario s(Both("ldap_wins"));
  History(s);
  WhatIf w(WhatIfOptions{{{"conflict_resolution", "axigen_wins"}}, 0, 100});
  for (const Event& e : s.events()) REQUIRE(w.Feed(e).ok());
  WhatIfReport r = w.Finish();
  INFO(r.ToText());
  CHECK(r.events == s.events().size());
  CHECK(r.decisions_differing >= 1);
  REQUIRE_FALSE(r.decisions.empty());
  CHECK(r.decisions[0].seq == 5);
  CHECK(r.decisions[0].as_recorded.rule == "conflict/ldap_wins");
  CHECK(r.decisions[0].what_if.rule == "conflict/axigen_wins");
  // The LDAP entry would take the mail title instead.
  bool found = false;
  for (const ValueDiff& v : r.values)
    if (v.side == Side::kLdap && v.id == "u-jdoe") {
      found = true;
      CHECK(v.as_recorded == AttrList{{"title", {"Ldap"}}});
      CHECK(v.what_if == AttrList{{"title", {"Mail"}}});
    }
  CHECK(found);
  CHECK(r.ToText().find("decided differently") != std::string::npos);

  // Without overrides nothing differs.
  WhatIf same(WhatIfOptions{});
  for (const Event& e : s.events()) REQUIRE(same.Feed(e).ok());
  WhatIfReport n = same.Finish();
  CHECK(n.decisions_differing == 0);
  CHECK(n.values.empty());
}

TEST_CASE("what-if: one way instead of both ways", "[replay][whatif]") {
  Scenario s(Both("ldap_wins"));
  History(s);
  WhatIf w(WhatIfOptions{{{"direction", "ldap_to_axigen"}}, 0, 100});
  for (const Event& e : s.events()) REQUIRE(w.Feed(e).ok());
  WhatIfReport r = w.Finish();
  INFO(r.ToText());
  bool discarded = false;
  for (const DecisionDiff& d : r.decisions)
    if (d.what_if.outcome == Outcome::kDiscardedDirection) discarded = true;
  CHECK(discarded);
}

TEST_CASE("what-if on a sync's log: its own writes are counted apart",
          "[replay][whatif]") {
  // A one-way sync as `run` logs it: each LDAP person is propagated, the
  // mail write's outcome comes back, then the mail side reports the new
  // account, tagged with the intent that made it.
  Scenario s;
  std::uint64_t ldap_events = 0;
  std::set<std::uint64_t> own;
  for (const char* uid : {"ada", "bob", "cy"}) {
    const Decision& d = s.Feed(
        LdapPerson(std::string("u-") + uid, uid, {{"givenName", {uid}}}));
    ++ldap_events;
    REQUIRE(d.intents.size() == 1);
    const Intent intent = d.intents[0];
    s.Feed(OkOutcome(intent));
    own.insert(s.seq());
    ObservedChange echo =
        MailObject(std::string(uid) + "@example.com",
                   {{"firstName", {uid}}, {"lastName", {uid}}},
                   ObjectKind::kAccount, ChangeOp::kAdd);
    echo.origin_intent = intent.id;
    REQUIRE(s.Feed(echo).outcome == Outcome::kEcho);
    own.insert(s.seq());
  }
  for (const Event& e : s.events())
    CHECK(IsOwnWrite(e, s.decisions()[e.seq - 1]) == (own.count(e.seq) > 0));

  WhatIf w(WhatIfOptions{{{"direction", "axigen_to_ldap"}}, 0, 100});
  for (const Event& e : s.events()) REQUIRE(w.Feed(e).ok());
  WhatIfReport r = w.Finish();
  const std::string text = r.ToText();
  INFO(text);
  // The LDAP changes are decided otherwise (discarded by direction)...
  CHECK(r.decisions_differing == ldap_events);
  // ...and every outcome and echo of the recorded writes differs too, which
  // is counted apart, not shown, and not mistaken for what the operator
  // asked.
  CHECK(r.own_writes_differing == own.size());
  for (const DecisionDiff& d : r.decisions) {
    CHECK(d.own_write == (own.count(d.seq) > 0));
    if (!d.own_write) CHECK(d.what_if.outcome == Outcome::kDiscardedDirection);
  }
  CHECK(text.find(std::to_string(ldap_events) + " decided differently") !=
        std::string::npos);
  CHECK(text.find(std::to_string(own.size()) +
                  " decisions on dirledger's own writes") != std::string::npos);
  CHECK(text.find(" outcome ") == std::string::npos);
}

TEST_CASE("rollback plan: what changed since SEQ, object by object",
          "[replay][rollback]") {
  Scenario s;  // ldap_to_axigen
  s.Feed(LJdoe());
  const Intent add = s.decisions().back().intents.at(0);
  s.Feed(OkOutcome(add));
  s.Feed(MJdoe());
  const std::uint64_t mark = s.seq();
  // After the mark: a title change, a new account, jdoe's mail deleted.
  s.Feed(Set(LJdoe(), "title", {"Lead"}));
  s.Feed(OkOutcome(s.decisions().back().intents.at(0)));
  s.Feed(Set(MJdoe(), "title", {"Lead"}));
  s.Feed(LdapPerson("u-anna", "anna", {{"sn", {"Berg"}}}));

  Replayer then(ReplayOptions{mark, {}, false});
  Replayer now(ReplayOptions{0, {}, false});
  for (const Event& e : s.events()) {
    REQUIRE(then.Feed(e, nullptr).ok());
    REQUIRE(now.Feed(e, nullptr).ok());
  }
  auto plan = PlanRollback(ListerOf(then.projection()),
                           ListerOf(now.projection()), mark, RollbackFilter{});
  REQUIRE(plan.ok());
  INFO(plan->ToText());
  CHECK(plan->modifies == 2);  // jdoe on both sides
  CHECK(plan->deletes == 1);   // anna on LDAP (mail side still pending)
  CHECK(plan->adds == 0);
  CHECK(plan->ToText().find("title [Lead] -> [Dev]") != std::string::npos);

  auto mail_only =
      PlanRollback(ListerOf(then.projection()), ListerOf(now.projection()),
                   mark, RollbackFilter{"mail", "", {}, {}, {}});
  REQUIRE(mail_only.ok());
  CHECK(mail_only->objects.size() == 1);
  auto other_domain =
      PlanRollback(ListerOf(then.projection()), ListerOf(now.projection()),
                   mark, RollbackFilter{"both", "elsewhere.org", {}, {}, {}});
  REQUIRE(other_domain.ok());
  CHECK(other_domain->objects.empty());
  CHECK_FALSE(PlanRollback(ListerOf(then.projection()),
                           ListerOf(now.projection()), mark,
                           RollbackFilter{"sideways", "", {}, {}, {}})
                  .ok());

  // Carried out: the reconciler writes the targets back; the echoes are
  // ours; the sides end as they were at the mark.
  const Decision& d = s.Feed(plan->Action("alice", "rollback --to 4"));
  CHECK(d.outcome == Outcome::kRolledBack);
  CHECK(d.intents.size() == 3);
  const std::vector<Intent> intents = d.intents;
  for (const Intent& i : intents) s.Feed(OkOutcome(i));
  CHECK(s.Feed(LJdoe()).outcome == Outcome::kEcho);
  CHECK(s.Feed(MJdoe()).outcome == Outcome::kEcho);

  // A rollback is itself reversible: rolling back to just before it
  // restores what it undid.
  Replayer before(ReplayOptions{d.seq - 1, {}, false});
  Replayer after(ReplayOptions{0, {}, false});
  for (const Event& e : s.events()) {
    REQUIRE(before.Feed(e, nullptr).ok());
    REQUIRE(after.Feed(e, nullptr).ok());
  }
  auto undo =
      PlanRollback(ListerOf(before.projection()), ListerOf(after.projection()),
                   d.seq - 1, RollbackFilter{});
  REQUIRE(undo.ok());
  INFO(undo->ToText());
  CHECK(undo->modifies == 2);
  CHECK(undo->adds == 1);  // anna's entry comes back
}

TEST_CASE(
    "rollback plan: an entry created again under its DN is the same entry",
    "[replay][rollback]") {
  // Then: u-old at uid=jdoe. Now: u-new at the same DN (deleted and added
  // again since), and with another title.
  auto entry = [](std::string id, std::string title) {
    ObjectState o;
    o.side = Side::kLdap;
    o.kind = ObjectKind::kAccount;
    o.id = std::move(id);
    o.dn = "uid=jdoe,ou=people,dc=example,dc=com";
    o.domain = "example.com";
    o.connector = "corp";
    o.attrs = {
        {"sn", {"Doe"}}, {"title", {std::move(title)}}, {"uid", {"jdoe"}}};
    return o;
  };
  auto lister = [](std::vector<ObjectState> objects) -> ObjectLister {
    return [objects](Side side,
                     const std::function<bool(const ObjectState&)>& fn) {
      for (const ObjectState& o : objects)
        if (o.side == side && !fn(o)) break;
      return Status::Ok();
    };
  };
  auto same =
      PlanRollback(lister({entry("u-old", "Dev")}),
                   lister({entry("u-new", "Dev")}), 7, RollbackFilter{});
  REQUIRE(same.ok());
  INFO(same->ToText());
  CHECK(same->objects.empty());
  CHECK(same->adds + same->deletes + same->modifies == 0);

  auto changed =
      PlanRollback(lister({entry("u-old", "Dev")}),
                   lister({entry("u-new", "Lead")}), 7, RollbackFilter{});
  REQUIRE(changed.ok());
  INFO(changed->ToText());
  REQUIRE(changed->objects.size() == 1);
  CHECK(changed->modifies == 1);
  CHECK(changed->adds == 0);
  CHECK(changed->deletes == 0);
  const PlannedObject& p = changed->objects[0];
  CHECK(p.step == RollbackStep::kModify);
  CHECK(p.target.id == "u-new");
  CHECK(p.attributes == std::vector<std::string>{"title"});
  CHECK(changed->ToText().find("title [Lead] -> [Dev]") != std::string::npos);
}

}  // namespace dirledger::testing

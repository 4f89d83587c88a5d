// Deletes that wait (rules 3, docs/rules.md "Deletes that wait"): a delete
// taken in service mode with delete_delay_s waits in its source's window;
// the deletes seen within one delay are counted together and held whole
// over delete_threshold; a re-add cancels a waiting delete; a Release
// decides the deletes that are due. Everything is decided from the events
// (their logged time and recorded delay), so replaying the log decides the
// same.
#include <catch2/catch.hpp>

#include "codecs/event_codec.h"
#include "replay/decision_text.h"
#include "replay/replay_test_util.h"

namespace dirledger::testing {
namespace {

constexpr std::int64_t kT0 = 1'700'000'000'000'000;  // a time, in us
constexpr std::int64_t kSecond = 1'000'000;
constexpr std::uint32_t kDelay = 3;

ConnectorOptions Threshold(const char* t) {
  ConnectorOptions o;
  o.delete_threshold = t;
  return o;
}

std::string Uid(int i) { return "user" + std::to_string(i); }
std::string Id(int i) { return "u-" + Uid(i); }

ObservedChange Person(int i, ChangeOp op = ChangeOp::kAdd) {
  return LdapPerson(Id(i), Uid(i), {{"sn", {"Person " + std::to_string(i)}}},
                    op);
}

// `n` people added on LDAP and created on the mail side (outcomes fed),
// as `dirledger run` leaves them after its refresh.
void Synced(Scenario& s, int n) {
  for (int i = 0; i < n; ++i) {
    const Decision& d = s.Feed(Person(i), kT0);
    REQUIRE(d.intents.size() == 1);
    const Intent add = d.intents[0];  // `d` moves with the next Feed
    WriteOutcome o;
    o.intent_id = add.id;
    o.ok = true;
    o.side = Side::kMail;
    o.target_id = add.target_id;
    s.Feed(o, kT0);
    ObservedChange echo = MailObject(o.target_id, add.set);
    echo.origin_intent = o.intent_id;
    s.Feed(echo, kT0);
  }
  REQUIRE(s.projection().pending_count() == 0);
}

// A persist-mode change as SourceIntake stamps it in service mode.
ObservedChange Stamped(ObservedChange c, std::uint64_t known = 100) {
  c.delete_delay_s = kDelay;
  if (c.op == ChangeOp::kDelete) {
    c.source_known = known;
    c.attrs.clear();
  }
  return c;
}

ObservedChange Delete(int i) { return Stamped(Person(i, ChangeOp::kDelete)); }

OperatorAction Release(const std::string& window) {
  OperatorAction a;
  a.kind = ActionKind::kRelease;
  a.actor = "dirledger";
  a.hold_id = window;
  return a;
}

// The source's window of waiting deletes (or the hold it became).
std::optional<HoldState> Window(const Scenario& s) {
  const auto ids = s.projection().WaitingFor(
      Side::kLdap,
      "delete-window:" + std::string(LdapPerson("x", "x", {}).source));
  if (ids.empty()) return std::nullopt;
  return s.projection().GetHold(ids.front());
}

std::size_t DeleteIntents(const Decision& d) {
  std::size_t n = 0;
  for (const Intent& i : d.intents) n += i.op == IntentOp::kDelete;
  return n;
}

}  // namespace

TEST_CASE("a delete taken with a delay waits and is decided when due",
          "[rules][delay]") {
  Scenario s(Threshold("20"));
  Synced(s, 5);
  const Decision& d = s.Feed(Delete(1), kT0 + 10 * kSecond);
  INFO(DecisionText(d));
  CHECK(d.outcome == Outcome::kDelayed);
  CHECK(d.rule == "delete/delayed");
  CHECK(d.intents.empty());
  // Nothing changes yet: the entry and its link stay until it is due.
  CHECK(s.projection().GetObject(Side::kLdap, ObjectKind::kAccount, Id(1)));
  const auto w = Window(s);
  REQUIRE(w);
  CHECK(w->status == HoldStatus::kWaiting);
  REQUIRE(w->due_us.size() == 1);
  CHECK(w->due_us[0] == kT0 + 13 * kSecond);

  // Not due yet: a release decides nothing.
  const Decision& early = s.Feed(Release(w->hold.hold_id), kT0 + 12 * kSecond);
  CHECK(early.rule == "release/none");
  CHECK(early.intents.empty());
  // Due: decided as the delete it was.
  const Decision& due = s.Feed(Release(w->hold.hold_id), kT0 + 13 * kSecond);
  INFO(DecisionText(due));
  CHECK(due.outcome == Outcome::kReleased);
  CHECK(DeleteIntents(due) == 1);
  CHECK(due.intents[0].target_id == Uid(1) + "@example.com");
  CHECK(s.projection().GetHold(w->hold.hold_id)->status ==
        HoldStatus::kReleased);
  CHECK_FALSE(Window(s));
}

TEST_CASE(
    "a delete that waits keeps where the entry remains: due, its groups "
    "list it there",
    "[rules][delay]") {
  Scenario s;
  Synced(s, 3);
  s.Feed(LdapGroup("G-g", "g", {PersonDn(Uid(1)), PersonDn(Uid(2))}), kT0);
  const std::string out = "uid=user1,ou=elsewhere,dc=example,dc=com";
  ObservedChange moved = Delete(1);
  moved.remains_at = out;
  CHECK(s.Feed(moved, kT0 + 10 * kSecond).outcome == Outcome::kDelayed);
  const auto w = Window(s);
  REQUIRE(w);
  REQUIRE(w->hold.deletes.size() == 1);
  CHECK(w->hold.deletes[0].remains_at == out);
  const Decision& due = s.Feed(Release(w->hold.hold_id), kT0 + 13 * kSecond);
  INFO(DecisionText(due));
  CHECK(DeleteIntents(due) == 1);
  auto g = s.projection().GetObject(Side::kLdap, ObjectKind::kGroup, "G-g");
  REQUIRE(g);
  CHECK(AttrValues(g->attrs, "member") ==
        std::vector<std::string>{out, PersonDn(Uid(2))});
}

TEST_CASE("deletes within one delay over the threshold are held whole",
          "[rules][delay]") {
  Scenario s(Threshold("20"));
  Synced(s, 40);
  // 30 deletes within a second (one ldapdelete of 30 entries).
  std::string hold_id;
  for (int i = 0; i < 30; ++i) {
    const Decision& d = s.Feed(Delete(i), kT0 + 100 * kSecond + i * 30000);
    INFO(i << ": " << DecisionText(d));
    CHECK(d.intents.empty());
    if (i < 20) CHECK(d.outcome == Outcome::kDelayed);
    if (i == 20) {
      CHECK(d.rule == "hold/open");
      hold_id = Window(s)->hold.hold_id;
    }
    if (i > 20) CHECK(d.rule == "hold/join");
  }
  // One hold of all 30, nothing deleted; a release finds nothing waiting.
  const auto h = s.projection().GetHold(hold_id);
  REQUIRE(h);
  CHECK(h->status == HoldStatus::kOpen);
  CHECK(h->hold.deletes.size() == 30);
  CHECK(s.projection().pending_count() == 0);
  CHECK(s.Feed(Release(hold_id), kT0 + 200 * kSecond).intents.empty());

  // A delete after the burst (more than the delay after its last one)
  // starts a new window.
  const Decision& later = s.Feed(Delete(35), kT0 + 200 * kSecond);
  CHECK(later.outcome == Outcome::kDelayed);
  CHECK(Window(s)->hold.hold_id != hold_id);

  // Approve: today's path, each held delete decided as a delete.
  OperatorAction approve;
  approve.kind = ActionKind::kApprove;
  approve.hold_id = hold_id;
  const Decision& a = s.Feed(approve, kT0 + 300 * kSecond);
  INFO(DecisionText(a));
  CHECK(a.outcome == Outcome::kReleased);
  CHECK(DeleteIntents(a) == 30);
}

TEST_CASE("a percentage threshold counts the source's objects at the delete",
          "[rules][delay]") {
  Scenario s(Threshold("\"10%\""));
  Synced(s, 12);
  // 10% of 12 known objects is 1: the second delete holds both.
  CHECK(s.Feed(Stamped(Person(0, ChangeOp::kDelete), 12), kT0 + kSecond)
            .outcome == Outcome::kDelayed);
  const Decision& d =
      s.Feed(Stamped(Person(1, ChangeOp::kDelete), 12), kT0 + 2 * kSecond);
  CHECK(d.rule == "hold/open");
  CHECK(Window(s)->hold.deletes.size() == 2);
}

TEST_CASE("deletes more than the delay apart are not counted together",
          "[rules][delay]") {
  Scenario s(Threshold("2"));
  Synced(s, 6);
  // One delete every 2 s with a 3 s delay: at most two within one delay.
  for (int i = 0; i < 6; ++i) {
    const std::int64_t t = kT0 + 10 * kSecond + i * 2 * kSecond;
    const auto w = Window(s);
    if (w) s.Feed(Release(w->hold.hold_id), t);
    const Decision& d = s.Feed(Delete(i), t);
    INFO(i << ": " << DecisionText(d));
    CHECK(d.outcome == Outcome::kDelayed);
  }
}

TEST_CASE("a re-add of an object whose delete waits cancels it",
          "[rules][delay]") {
  Scenario s(Threshold("20"));
  Synced(s, 3);
  // syncrepl: moved out of the base (delete), then back (add, same id).
  s.Feed(Delete(1), kT0 + 10 * kSecond);
  REQUIRE(Window(s)->hold.deletes.size() == 1);
  const Decision& back = s.Feed(Stamped(Person(1)), kT0 + 11 * kSecond);
  INFO(DecisionText(back));
  CHECK(back.intents.empty());
  CHECK(back.reason.find("is cancelled") != std::string::npos);
  CHECK_FALSE(Window(s));  // nothing waits: the window is done
  // Nothing is due any more; the link and the mail account stay.
  CHECK(s.projection().FindLinkByLdap(ObjectKind::kAccount, Id(1)));
  CHECK(s.projection().pending_count() == 0);

  // A re-add cancels only its own delete.
  s.Feed(Delete(0), kT0 + 20 * kSecond);
  s.Feed(Delete(2), kT0 + 20 * kSecond);
  s.Feed(Stamped(Person(2)), kT0 + 21 * kSecond);
  const auto w = Window(s);
  REQUIRE(w);
  REQUIRE(w->hold.deletes.size() == 1);
  CHECK(w->hold.deletes[0].id == Id(0));
  const Decision& due = s.Feed(Release(w->hold.hold_id), kT0 + 30 * kSecond);
  CHECK(DeleteIntents(due) == 1);
}

TEST_CASE("a re-add takes its delete out of the hold its burst became",
          "[rules][delay]") {
  Scenario s(Threshold("1"));
  Synced(s, 3);
  s.Feed(Delete(0), kT0 + kSecond);
  CHECK(s.Feed(Delete(1), kT0 + kSecond).rule == "hold/open");
  s.Feed(Stamped(Person(1)), kT0 + 2 * kSecond);
  const auto w = Window(s);
  REQUIRE(w);
  CHECK(w->status == HoldStatus::kOpen);
  REQUIRE(w->hold.deletes.size() == 1);
  CHECK(w->hold.deletes[0].id == Id(0));
}

TEST_CASE("without a delay, or under rules 2, deletes are decided at once",
          "[rules][delay]") {
  SECTION("no delay recorded with the delete") {
    Scenario s(Threshold("20"));
    Synced(s, 2);
    const Decision& d = s.Feed(Person(1, ChangeOp::kDelete), kT0);
    CHECK(DeleteIntents(d) == 1);
  }
  SECTION("a log recorded under rules 2") {
    ConnectorOptions o = Threshold("20");
    Scenario s(o);
    FeedConfig(s, o, 2);
    Synced(s, 2);
    const Decision& d = s.Feed(Delete(1), kT0);
    CHECK(DeleteIntents(d) == 1);
    CHECK_FALSE(Window(s));
    OperatorAction r = Release("hold-1");
    CHECK(s.Feed(r, kT0).rule == "record/operator");
  }
}

TEST_CASE("replaying the log decides the delays exactly as they were",
          "[rules][delay]") {
  Scenario s(Threshold("5"));
  Synced(s, 12);
  // A small burst released, a re-add, a burst held, a late joiner.
  s.Feed(Delete(0), kT0 + 10 * kSecond);
  s.Feed(Delete(1), kT0 + 11 * kSecond);
  s.Feed(Stamped(Person(1)), kT0 + 12 * kSecond);
  s.Feed(Release(Window(s)->hold.hold_id), kT0 + 13 * kSecond);
  for (int i = 2; i < 10; ++i) s.Feed(Delete(i), kT0 + 40 * kSecond);
  s.Feed(Delete(10), kT0 + 42 * kSecond);

  // The events as the log stores them, replayed from nothing.
  ReplayOptions options;
  options.compare = true;
  Replayer again(options);
  for (size_t i = 0; i < s.events().size(); ++i) {
    Event stored;
    const Event& e = s.events()[i];
    REQUIRE(DecodeEvent(EncodeEvent(e), e.seq, &stored).ok());
    CHECK(stored.time_us == e.time_us);
    REQUIRE(again.Feed(stored, &s.decisions()[i]).ok());
    CHECK(EncodeDecision(again.last_decision()) ==
          EncodeDecision(s.decisions()[i]));
  }
  CHECK(again.differences() == 0);
  const auto h = Window(s);
  REQUIRE(h);
  CHECK(h->status == HoldStatus::kOpen);
  CHECK(h->hold.deletes.size() == 9);
  CHECK(*again.projection().GetHold(h->hold.hold_id) == *h);
}

}  // namespace dirledger::testing

// Appearances: which objects that came to be known after a point were
// created after it, and a rollback plan that keeps the others.
#include "replay/appearances.h"

#include <catch2/catch.hpp>

#include "replay/replay_test_util.h"
#include "replay/rollback_planner.h"

namespace dirledger::testing {
namespace {

RefreshPhase Phase(PhaseKind kind, RefreshMode mode) {
  RefreshPhase p;
  p.source = "corp/syncrepl";
  p.connector = "corp";
  p.kind = kind;
  p.mode = mode;
  return p;
}

Appearances Classify(const Scenario& s, std::uint64_t point) {
  Appearances a(point);
  for (size_t i = 0; i < s.events().size(); ++i)
    a.Visit(s.events()[i], &s.decisions()[i]);
  return a;
}

// A first sync of two people who existed before dirledger ran, one of whose
// mail account dirledger makes; then a person created in LDAP, a resumed
// refresh with another, the mail source's first poll (what it holds) and an
// account created on the mail side after it.
void FeedFirstSyncThenChanges(Scenario* s) {
  s->Feed(Phase(PhaseKind::kBegin, RefreshMode::kFull));
  s->Feed(LdapPerson("u-old1", "old1", {}, ChangeOp::kAdd));
  const Intent add_old1 = s->decisions().back().intents.at(0);
  s->Feed(LdapPerson("u-old2", "old2", {}, ChangeOp::kAdd));
  s->Feed(Phase(PhaseKind::kEnd, RefreshMode::kFull));
  s->Feed(OkOutcome(add_old1));
  // Later, in persist mode.
  s->Feed(LdapPerson("u-new", "new", {}, ChangeOp::kAdd));
  // A resumed refresh (incremental at its start).
  s->Feed(Phase(PhaseKind::kBegin, RefreshMode::kIncremental));
  s->Feed(LdapPerson("u-new2", "new2", {}, ChangeOp::kAdd));
  s->Feed(Phase(PhaseKind::kEnd, RefreshMode::kPresent));
  s->Feed(MailObject("held@example.com", {{"firstName", {"H"}}},
                     ObjectKind::kAccount, ChangeOp::kAdd));
  s->Feed(MailObject("made@example.com", {{"firstName", {"M"}}},
                     ObjectKind::kAccount, ChangeOp::kAdd));
}

TEST_CASE("appearances: an initial refresh observes, later adds create",
          "[replay][rollback]") {
  Scenario s;  // ldap_to_axigen
  const std::uint64_t point = s.seq();
  FeedFirstSyncThenChanges(&s);

  const Appearances a = Classify(s, point);
  CHECK_FALSE(a.Created(Side::kLdap, "u-old1"));
  CHECK_FALSE(a.Created(Side::kLdap, "U-OLD2"));
  CHECK(a.Created(Side::kMail, "old1@example.com"));  // dirledger's add
  CHECK(a.Created(Side::kLdap, "u-new"));
  CHECK(a.Created(Side::kLdap, "u-new2"));
  CHECK_FALSE(a.Created(Side::kMail, "held@example.com"));
  CHECK_FALSE(a.Created(Side::kLdap, "u-never-seen"));
  // Before the mail source's first poll, its adds are what it held...
  CHECK_FALSE(a.Created(Side::kMail, "made@example.com"));
  // ...after it, they create.
  CHECK(Classify(s, s.seq() - 1).Created(Side::kMail, "made@example.com"));
}

TEST_CASE("appearances: resumed from any record's positions, as if whole",
          "[replay][rollback]") {
  // The positions after each record (a checkpoint keeps them; a rollback
  // starts from one) let the classification go on from there: through a
  // full refresh in progress, before and after the mail source's first
  // poll.
  Scenario s;
  FeedFirstSyncThenChanges(&s);
  const std::size_t n = s.events().size();
  const std::vector<std::pair<Side, std::string>> ids = {
      {Side::kLdap, "u-old1"},
      {Side::kLdap, "u-old2"},
      {Side::kMail, "old1@example.com"},
      {Side::kMail, "held@example.com"},
      {Side::kLdap, "u-new"},
      {Side::kLdap, "u-new2"},
      {Side::kMail, "made@example.com"}};
  bool some_refresh_open = false;
  for (std::size_t point = 0; point <= n; ++point) {
    const Appearances whole = Classify(s, point);
    Appearances tracker(UINT64_MAX);
    for (std::size_t c = 0; c <= point; ++c) {
      if (c > 0) tracker.Visit(s.events()[c - 1], &s.decisions()[c - 1]);
      some_refresh_open |= !tracker.Positions().in_full_refresh.empty();
      Appearances from(point);
      from.Resume(tracker.Positions());
      for (std::size_t i = c; i < n; ++i)
        from.Visit(s.events()[i], &s.decisions()[i]);
      for (const auto& [side, id] : ids) {
        INFO("point " << point << ", from " << c << ": " << id);
        CHECK(from.Created(side, id) == whole.Created(side, id));
      }
    }
  }
  CHECK(some_refresh_open);
}

TEST_CASE("appearances: a mail source's empty first poll counts as polled",
          "[replay][rollback]") {
  Scenario s;
  // The mail directory's first poll found nothing: an empty full refresh.
  RefreshPhase begin = Phase(PhaseKind::kBegin, RefreshMode::kFull);
  begin.source = "mail/embedded";
  begin.connector.clear();
  RefreshPhase end = begin;
  end.kind = PhaseKind::kEnd;
  const std::uint64_t before_poll = s.seq();
  s.Feed(begin);
  s.Feed(end);
  const std::uint64_t point = s.seq();
  s.Feed(MailObject("made@example.com", {{"firstName", {"M"}}},
                    ObjectKind::kAccount, ChangeOp::kAdd));
  // Made by an administrator after the point: created, a rollback deletes it.
  CHECK(Classify(s, point).Created(Side::kMail, "made@example.com"));
  // Without the poll before the point, the add is its first poll's.
  CHECK_FALSE(
      Classify(s, before_poll).Created(Side::kMail, "made@example.com"));
}

TEST_CASE("rollback plan: objects first observed after the point are kept",
          "[replay][rollback]") {
  Scenario s;
  const std::uint64_t point = s.seq();
  s.Feed(Phase(PhaseKind::kBegin, RefreshMode::kFull));
  s.Feed(LdapPerson("u-old", "old", {}, ChangeOp::kAdd));
  const Intent add_old = s.decisions().back().intents.at(0);
  s.Feed(Phase(PhaseKind::kEnd, RefreshMode::kFull));
  s.Feed(OkOutcome(add_old));
  s.Feed(LdapPerson("u-new", "new", {}, ChangeOp::kAdd));

  Replayer then(ReplayOptions{point, {}, false});
  for (const Event& e : s.events()) REQUIRE(then.Feed(e, nullptr).ok());
  const Appearances a = Classify(s, point);
  RollbackFilter filter;
  filter.created_after = [&a](Side side, std::string_view id) {
    return a.Created(side, id);
  };
  auto plan = PlanRollback(ListerOf(then.projection()),
                           ListerOf(s.projection()), point, filter);
  REQUIRE(plan.ok());
  INFO(plan->ToText());
  // u-old was there before the first sync: kept on LDAP. Its mail account
  // and u-new were created after the point: deleted.
  REQUIRE(plan->kept.size() == 1);
  CHECK(plan->kept[0].id == "u-old");
  CHECK(plan->deletes == 2);
  for (const PlannedObject& p : plan->objects) {
    CHECK(p.step == RollbackStep::kDelete);
    CHECK(p.target.id != "u-old");
  }
  CHECK(plan->ToText().find(PersonDn("old") + ": kept") != std::string::npos);
  CHECK(plan->ToText().find("1 kept") != std::string::npos);

  // Without the origins (every appearance a creation), u-old goes too.
  auto blind = PlanRollback(ListerOf(then.projection()),
                            ListerOf(s.projection()), point, RollbackFilter{});
  REQUIRE(blind.ok());
  CHECK(blind->deletes == 3);
}

TEST_CASE("rollback plan: a mail object dirledger renamed is renamed back",
          "[replay][rollback][rename]") {
  Scenario s;  // ldap_to_axigen
  s.Feed(LdapPerson("u-jdoe", "jdoe", {{"title", {"Dev"}}}));
  s.Feed(OkOutcome(s.decisions().back().intents.at(0)));
  const std::uint64_t point = s.seq();
  // Renamed twice in LDAP (uid jdoe -> jsmith -> jbrown), each time its
  // mail account with it, by dirledger.
  for (const char* uid : {"jsmith", "jbrown"}) {
    const Decision& d = s.Feed(LdapPerson("u-jdoe", uid, {{"title", {"Dev"}}}));
    INFO(DecisionText(d));
    REQUIRE(d.rule == "rename/ldap-to-mail");
    s.Feed(OkOutcome(d.intents.at(0)));
  }
  // The object the Renames made at jbrown@ comes back as an add naming the
  // last one: dirledger made it there.
  ObservedChange made = MailObject("jbrown@example.com", {{"title", {"Dev"}}});
  made.op = ChangeOp::kAdd;
  made.origin_intent = s.decisions()[s.decisions().size() - 2].intents.at(0).id;
  s.Feed(made);
  const Appearances a = Classify(s, point);
  CHECK(a.Created(Side::kMail, "jbrown@example.com"));
  CHECK(a.RenamedFrom(Side::kMail, "jbrown@example.com") == "jdoe@example.com");
  CHECK(a.RenamedFrom(Side::kMail, "JBROWN@example.com") == "jdoe@example.com");
  CHECK(a.RenamedFrom(Side::kMail, "jsmith@example.com").empty());
  CHECK(a.RenamedFrom(Side::kLdap, "u-jdoe").empty());
  // From a point after the first rename, it was jsmith.
  CHECK(Classify(s, point + 2).RenamedFrom(Side::kMail, "jbrown@example.com") ==
        "jsmith@example.com");

  Replayer then(ReplayOptions{point, {}, false});
  for (const Event& e : s.events()) REQUIRE(then.Feed(e, nullptr).ok());
  RollbackFilter filter;
  filter.created_after = [&a](Side side, std::string_view id) {
    return a.Created(side, id);
  };
  filter.renamed_from = [&a](Side side, std::string_view id) {
    return a.RenamedFrom(side, id);
  };
  auto plan = PlanRollback(ListerOf(then.projection()),
                           ListerOf(s.projection()), point, filter);
  REQUIRE(plan.ok());
  INFO(plan->ToText());
  CHECK(plan->renames == 1);
  CHECK(plan->adds == 0);
  CHECK(plan->deletes == 0);
  const PlannedObject* back = nullptr;
  for (const PlannedObject& p : plan->objects)
    if (p.target.side == Side::kMail) back = &p;
  REQUIRE(back);
  CHECK(back->step == RollbackStep::kRename);
  CHECK(back->target.id == "jdoe@example.com");
  CHECK(back->target.renamed_from == "jbrown@example.com");
  CHECK(plan->ToText().find("mail account jdoe@example.com: rename back from "
                            "jbrown@example.com") != std::string::npos);

  // Carried out: the LDAP entry is renamed back, and the mail account with
  // it, by one Rename that takes the values it had; the link moves along.
  const Decision& d = s.Feed(plan->Action("root", "rollback"));
  INFO(DecisionText(d));
  const Intent* rename = nullptr;
  for (const Intent& i : d.intents) {
    CHECK_FALSE((i.target == Side::kMail && i.op != IntentOp::kRename));
    if (i.target == Side::kMail) rename = &i;
  }
  REQUIRE(rename);
  CHECK(rename->dn == "jbrown@example.com");
  CHECK(rename->target_id == "jdoe@example.com");
  CHECK(rename->new_dn == "jdoe@example.com");
  CHECK(
      s.projection().FindLinkByLdap(ObjectKind::kAccount, "u-jdoe")->mail_id ==
      "jdoe@example.com");
  // Without the renames known, it is an add and a delete, as before.
  filter.renamed_from = nullptr;
  auto blind = PlanRollback(ListerOf(then.projection()),
                            ListerOf(s.projection()), point, filter);
  REQUIRE(blind.ok());
  CHECK(blind->renames == 0);
  CHECK(blind->adds == 1);
}

TEST_CASE(
    "rollback plan: a mail object renamed onto the address of one deleted "
    "since is renamed back, and the other added again after it",
    "[replay][rollback][rename]") {
  // jsmith's account at SEQ with the values jdoe's has after the rename,
  // or other ones (a modify, by address).
  const char* title = GENERATE("Dev", "Ops");
  INFO("jsmith's title at SEQ: " << title);
  Scenario s;  // ldap_to_axigen
  s.Feed(LdapPerson("u-jdoe", "jdoe", {{"title", {"Dev"}}}));
  s.Feed(OkOutcome(s.decisions().back().intents.at(0)));
  s.Feed(LdapPerson("u-jsmith", "jsmith", {{"title", {title}}}));
  s.Feed(OkOutcome(s.decisions().back().intents.at(0)));
  const std::uint64_t point = s.seq();
  // jsmith leaves LDAP, and its account goes; then jdoe is renamed jsmith.
  const Decision& gone = s.Feed(LdapDelete("u-jsmith", PersonDn("jsmith")));
  REQUIRE(gone.intents.size() == 1);
  s.Feed(OkOutcome(gone.intents.at(0)));
  const Decision& r =
      s.Feed(LdapPerson("u-jdoe", "jsmith", {{"title", {"Dev"}}}));
  REQUIRE(r.rule == "rename/ldap-to-mail");
  s.Feed(OkOutcome(r.intents.at(0)));

  const Appearances a = Classify(s, point);
  REQUIRE(a.RenamedFrom(Side::kMail, "jsmith@example.com") ==
          "jdoe@example.com");
  Replayer then(ReplayOptions{point, {}, false});
  for (const Event& e : s.events()) REQUIRE(then.Feed(e, nullptr).ok());
  RollbackFilter filter;
  filter.side = "mail";
  filter.renamed_from = [&a](Side side, std::string_view id) {
    return a.RenamedFrom(side, id);
  };
  auto plan = PlanRollback(ListerOf(then.projection()),
                           ListerOf(s.projection()), point, filter);
  REQUIRE(plan.ok());
  INFO(plan->ToText());
  CHECK(plan->renames == 1);
  CHECK(plan->adds == 1);
  CHECK(plan->modifies == 0);
  CHECK(plan->ToText().find("mail account jdoe@example.com: rename back from "
                            "jsmith@example.com") != std::string::npos);
  CHECK(plan->ToText().find("mail account jsmith@example.com: add") !=
        std::string::npos);

  // The rename back first, then the add of the address it frees.
  const Decision& d = s.Feed(plan->Action("root", "rollback"));
  INFO(DecisionText(d));
  REQUIRE(d.intents.size() == 2);
  CHECK(d.intents[0].op == IntentOp::kRename);
  CHECK(d.intents[0].dn == "jsmith@example.com");
  CHECK(d.intents[0].new_dn == "jdoe@example.com");
  CHECK(d.intents[1].op == IntentOp::kAdd);
  CHECK(d.intents[1].target_id == "jsmith@example.com");
  CHECK(AttrValues(d.intents[1].set, "title") ==
        std::vector<std::string>{title});
}

}  // namespace
}  // namespace dirledger::testing

// An LDAP rename whose address changes (docs/rules.md, section 7): the mail
// Rename carries the entry's field writes, no write makes an address an
// alias of itself, what the mail directory reports of the rename is its
// echo, and a mail side that cannot rename (Axigen) is told nothing it
// cannot do. Each against rules version 2, which decided otherwise.
#include <catch2/catch.hpp>

#include "codecs/rules_version.h"
#include "replay/decision_text.h"
#include "replay/intent_writes.h"
#include "replay/replay_test_util.h"

namespace dirledger::testing {
namespace {

// jdoe on both sides, linked, under the rules version `rules` and the
// [mail] table `mail`.
void LinkJdoe(Scenario& s, std::uint32_t rules, const std::string& mail = "",
              const ConnectorOptions& o = {}) {
  FeedConfig(s, o, rules, mail);
  s.Feed(LdapPerson("u-jdoe", "jdoe", {{"title", {"Dev"}}}));
  // Found in place with the entry's values (from rules version 5 one that
  // differs is written them: docs/rules.md section 4).
  s.Feed(MailObject("jdoe@example.com",
                    {{"lastName", {"jdoe"}}, {"title", {"Dev"}}}));
  REQUIRE(s.projection().FindLinkByLdap(ObjectKind::kAccount, "u-jdoe"));
  REQUIRE(s.projection().pending_count() == 0);
}

// modrdn uid=jdoe -> uid=jsmith: the entry keeps mail: jdoe@example.com.
ObservedChange Modrdn() {
  ObservedChange c = LdapPerson(
      "u-jdoe", "jsmith", {{"title", {"Dev"}}, {"mail", {"jdoe@example.com"}}});
  return c;
}

// jdoe linked under `direction` (and `resolution`), then renamed in LDAP:
// the mail Rename decided, not made yet.
Intent RenamePending(Scenario& s, const char* direction,
                     const char* resolution) {
  ConnectorOptions o;
  o.direction = direction;
  o.resolution = resolution;
  LinkJdoe(s, kReconcilerRules, "", o);
  const Decision& d = s.Feed(Modrdn());
  INFO(DecisionText(d));
  REQUIRE(d.intents.size() == 1);
  REQUIRE(d.intents[0].op == IntentOp::kRename);
  return d.intents[0];
}

TEST_CASE("an LDAP rename is one mail Rename carrying the entry's writes",
          "[rules][rename]") {
  Scenario s;
  LinkJdoe(s, kReconcilerRules);
  const Decision& d = s.Feed(Modrdn());
  INFO(DecisionText(d));
  CHECK(d.rule == "rename/ldap-to-mail");
  REQUIRE(d.intents.size() == 1);
  const Intent& r = d.intents[0];
  CHECK(r.op == IntentOp::kRename);
  CHECK(r.dn == "jdoe@example.com");
  CHECK(r.target_id == "jsmith@example.com");
  // The entry still lists its old address: at the new address that is an
  // alias (the entry says so); it is never written to the old address,
  // where it would be the object's own.
  CHECK(AttrValues(r.set, "aliases") ==
        std::vector<std::string>{"jdoe@example.com"});
  CHECK(
      s.projection().FindLinkByLdap(ObjectKind::kAccount, "u-jdoe")->mail_id ==
      "jsmith@example.com");

  // The outcome first, then what the mail directory reports: a group that
  // listed jdoe, the old address gone, the new one added. All echoes.
  const Intent rename = r;
  s.Feed(OkOutcome(rename));
  ObservedChange gone = MailDelete("jdoe@example.com");
  gone.origin_intent = rename.id;
  const Decision& g = s.Feed(gone);
  INFO(DecisionText(g));
  CHECK(g.rule == "echo/rename");
  CHECK(g.outcome == Outcome::kEcho);
  ObservedChange added = MailObject(
      "jsmith@example.com",
      {{"title", {"Dev"}},
       {"lastName", {"jsmith"}},  // the entry's sn, written with the rename
       {"aliases", {"jdoe@example.com"}}},
      ObjectKind::kAccount, ChangeOp::kAdd);
  added.origin_intent = rename.id;
  const Decision& a = s.Feed(added);
  INFO(DecisionText(a));
  CHECK(a.outcome == Outcome::kEcho);
  CHECK(s.projection().pending_count() == 0);
  // Nothing more to write: the entry reported again agrees.
  const Decision& again = s.Feed(Modrdn());
  INFO(DecisionText(again));
  CHECK(again.intents.empty());
}

TEST_CASE("a group's member renamed by a mail rename is its echo",
          "[rules][rename]") {
  Scenario s;
  LinkJdoe(s, kReconcilerRules);
  s.Feed(MailObject("staff@example.com", {{"members", {"jdoe@example.com"}}},
                    ObjectKind::kGroup));
  const Intent rename = s.Feed(Modrdn()).intents.at(0);
  ObservedChange group =
      MailObject("staff@example.com", {{"members", {"jsmith@example.com"}}},
                 ObjectKind::kGroup);
  group.origin_intent = rename.id;
  const Decision& g = s.Feed(group);
  INFO(DecisionText(g));
  CHECK(g.rule == "echo/rename");
  CHECK(g.outcome == Outcome::kEcho);
  // Another change of the group, naming the rename, is not.
  ObservedChange more =
      MailObject("staff@example.com",
                 {{"members", {"jsmith@example.com", "x@example.com"}}},
                 ObjectKind::kGroup);
  more.origin_intent = rename.id;
  CHECK(s.Feed(more).rule != "echo/rename");
}

// The mail administrator deletes jdoe@example.com before the Rename
// dirledger decided for the LDAP rename is made (no origin names it): the
// Rename is dropped, and the delete is decided against the renamed entry
// (rules version 10; before, it was the Rename's echo, the Rename failed
// with neither address there, and the entry went back to the old address).
TEST_CASE(
    "a mail object deleted before its Rename is made is deleted by "
    "its administrator",
    "[rules][rename]") {
  struct Case {
    const char* direction;
    const char* resolution;
    const char* rule;
    Side written;  // where the one intent goes
    IntentOp op;
  };
  for (const Case& k : {
           Case{"ldap_to_axigen", "", "create/ldap-to-mail", Side::kMail,
                IntentOp::kAdd},
           Case{"both_ways", "ldap_wins", "conflict/delete-modify/ldap_wins",
                Side::kMail, IntentOp::kAdd},
           Case{"both_ways", "axigen_wins",
                "conflict/delete-modify/axigen_wins", Side::kLdap,
                IntentOp::kDelete},
       }) {
    INFO(k.direction << " " << k.resolution);
    Scenario s;
    const Intent rename = RenamePending(s, k.direction, k.resolution);
    const Decision& d = s.Feed(MailDelete("jdoe@example.com"));
    INFO(DecisionText(d));
    CHECK(d.rule == k.rule);
    REQUIRE(d.intents.size() == 1);
    const Intent& i = d.intents.front();
    CHECK(i.target == k.written);
    CHECK(i.op == k.op);
    if (i.op == IntentOp::kAdd) CHECK(i.target_id == "jsmith@example.com");
    // The Rename is no longer pending: nothing applies it.
    CHECK_FALSE(s.projection().GetPending(rename.id));
    CHECK(s.projection().pending_count() == 1);
    const LinkState* l =
        s.projection().FindLinkByLdap(ObjectKind::kAccount, "u-jdoe");
    REQUIRE(l);
    CHECK(l->mail_id == "jsmith@example.com");
  }
  // Version 9 took it for the Rename's echo, and the Rename stayed.
  Scenario s;
  LinkJdoe(s, 9);
  const Intent rename = s.Feed(Modrdn()).intents.at(0);
  CHECK(s.Feed(MailDelete("jdoe@example.com")).rule == "echo/rename");
  CHECK(s.projection().GetPending(rename.id));
}

// The mail administrator gives jdoe@example.com an alias before the
// Rename, which writes the aliases, is made: the Rename would be refused
// (its expect no longer holds). It is planned again against the new values,
// the aliases decided as a change on both sides (rules version 10; before,
// rename/pending, and the Rename failed).
TEST_CASE("a Rename whose object changed meanwhile is planned again",
          "[rules][rename]") {
  struct Case {
    const char* direction;
    const char* resolution;
    const char* rule;
    bool rename_writes_aliases;  // else the entry takes the mail value
    bool ldap_write;
    bool conflict_open;
  };
  for (const Case& k : {
           Case{"ldap_to_axigen", "", "rename/replanned", true, false, false},
           Case{"both_ways", "ldap_wins", "rename/replanned", true, false,
                false},
           Case{"both_ways", "axigen_wins", "conflict/axigen_wins", false, true,
                false},
           Case{"both_ways", "no_change", "conflict/no_change", false, false,
                true},
       }) {
    INFO(k.direction << " " << k.resolution);
    Scenario s;
    const Intent rename = RenamePending(s, k.direction, k.resolution);
    REQUIRE(AttrValues(rename.set, "aliases") ==
            std::vector<std::string>{"jdoe@example.com"});
    const Decision& d = s.Feed(
        MailObject("jdoe@example.com", {{"lastName", {"jdoe"}},
                                        {"title", {"Dev"}},
                                        {"aliases", {"jdoe.x@example.com"}}}));
    INFO(DecisionText(d));
    CHECK(d.rule == k.rule);
    CHECK_FALSE(s.projection().GetPending(rename.id));
    const Intent* again = nullptr;
    const Intent* ldap = nullptr;
    for (const Intent& i : d.intents) {
      if (IsMailRename(i)) again = &i;
      if (i.target == Side::kLdap) ldap = &i;
    }
    REQUIRE(again);
    CHECK(again->dn == "jdoe@example.com");
    CHECK(again->target_id == "jsmith@example.com");
    CHECK(s.projection().GetPending(again->id));
    if (k.rename_writes_aliases) {
      CHECK(AttrValues(again->set, "aliases") ==
            std::vector<std::string>{"jdoe@example.com"});
      CHECK(AttrValues(again->expect, "aliases") ==
            std::vector<std::string>{"jdoe.x@example.com"});
    } else {
      CHECK_FALSE(FindAttr(again->set, "aliases"));
    }
    CHECK((ldap != nullptr) == k.ldap_write);
    if (ldap) {
      CHECK(ldap->op == IntentOp::kModify);
      CHECK(HasValueIgnoreCase(AttrValues(ldap->set, "mail"),
                               "jdoe.x@example.com"));
    }
    CHECK(d.outcome == (k.conflict_open ? Outcome::kConflictOpen
                        : k.ldap_write  ? Outcome::kConflictResolved
                                        : Outcome::kPropagated));
  }
  // Version 9 recorded the change and kept the Rename, which then failed.
  Scenario s;
  LinkJdoe(s, 9);
  const Intent rename = s.Feed(Modrdn()).intents.at(0);
  CHECK(s.Feed(MailObject("jdoe@example.com",
                          {{"lastName", {"jdoe"}},
                           {"title", {"Dev"}},
                           {"aliases", {"jdoe.x@example.com"}}}))
            .rule == "rename/pending");
  CHECK(s.projection().GetPending(rename.id));
}

TEST_CASE("rules version 2 still decides a rename as it did",
          "[rules][rename]") {
  Scenario s;
  LinkJdoe(s, 2);
  const Decision& d = s.Feed(Modrdn());
  INFO(DecisionText(d));
  REQUIRE(d.intents.size() == 2);
  // The field writes went first to the old address, where the old address
  // was made an alias of itself (the bug version 3 removes).
  CHECK(d.intents[0].op == IntentOp::kModify);
  CHECK(d.intents[0].target_id == "jdoe@example.com");
  CHECK(AttrValues(d.intents[0].set, "aliases") ==
        std::vector<std::string>{"jdoe@example.com"});
  CHECK(d.intents[1].op == IntentOp::kRename);
  CHECK(d.intents[1].set.empty());
}

TEST_CASE("with Axigen no Rename is asked: the decision says what was done",
          "[rules][rename]") {
  const std::string axigen =
      "[mail]\nkind = \"axigen\"\nhost = \"127.0.0.1\"\npassword_env = "
      "\"AXIGEN_PASSWORD\"\n";
  Scenario s;
  LinkJdoe(s, kReconcilerRules, axigen);
  ObservedChange c = Modrdn();
  SetAttr(&c.attrs, "title", {"Lead"});
  const Decision& d = s.Feed(c);
  INFO(DecisionText(d));
  CHECK(d.rule == "rename/not-renamable");
  CHECK(d.outcome == Outcome::kPropagated);
  CHECK(d.reason.find("keeps its address") != std::string::npos);
  REQUIRE(d.intents.size() == 1);
  const Intent& m = d.intents[0];
  CHECK(m.op == IntentOp::kModify);
  CHECK(m.target_id == "jdoe@example.com");
  CHECK(AttrValues(m.set, "title") == std::vector<std::string>{"Lead"});
  CHECK(FindAttr(m.set, "aliases") == nullptr);  // never its own address
  CHECK(
      s.projection().FindLinkByLdap(ObjectKind::kAccount, "u-jdoe")->mail_id ==
      "jdoe@example.com");
  // One way, the address not followed is drift.
  const DriftState* drift =
      s.projection().FindDrift(ObjectKind::kAccount, "u-jdoe");
  REQUIRE(drift);
  CHECK(std::find(drift->fields.begin(), drift->fields.end(), "address") !=
        drift->fields.end());

  // Under version 2 the Rename was asked (and failed on Axigen).
  Scenario old;
  LinkJdoe(old, 2, axigen);
  const Decision& o = old.Feed(c);
  INFO(DecisionText(o));
  CHECK(o.rule == "rename/ldap-to-mail");
}

}  // namespace
}  // namespace dirledger::testing

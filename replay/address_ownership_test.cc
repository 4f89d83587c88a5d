// Address ownership (docs/rules.md, section 8a; rules version 6): an LDAP
// entry's alias that is another object's address, or in a domain that is
// not configured (from rules version 7 also one another mail object holds
// as an alias), is not given to its mail object, is listed as a
// `refused_address` failure while the entry lists it, and is never taken
// out of the entry by a write from the mail side.
#include <catch2/catch.hpp>

#include "replay/replay_test_util.h"

namespace dirledger::testing {
namespace {

std::vector<FailureState> Failures(const Scenario& s) {
  std::vector<FailureState> out;
  (void)s.projection().ForEachFailure([&](const FailureState& f) {
    out.push_back(f);
    return true;
  });
  return out;
}

const Intent& Only(const Decision& d) {
  INFO(DecisionText(d));
  REQUIRE(d.intents.size() == 1);
  return d.intents.front();
}

std::vector<std::string> Aliases(const Intent& i) {
  return AttrValues(i.set, field::kAliases);
}

// uid=evil, whose `mail` names user2's address, a foreign domain's and one
// of its own.
ObservedChange Evil(std::vector<std::string> mail) {
  return LdapPerson("u-evil", "evil", {{"mail", std::move(mail)}});
}

// user2 synced: its mail account exists.
void SyncUser2(Scenario& s) {
  const Intent add = Only(s.Feed(LdapPerson("u-2", "user2", {})));
  s.Feed(OkOutcome(add));
}

}  // namespace

TEST_CASE(
    "address ownership: another object's address and foreign domains are "
    "not given, and listed until the entry drops them",
    "[rules][ownership]") {
  Scenario s;
  SyncUser2(s);
  const Decision& d =
      s.Feed(Evil({"evil@example.com", "user2@example.com",
                   "boss@othercorp.org", "evil.x@example.com"}));
  const Intent add = Only(d);
  CHECK(add.op == IntentOp::kAdd);
  CHECK(add.target_id == "evil@example.com");
  CHECK(Aliases(add) == std::vector<std::string>{"evil.x@example.com"});
  CHECK(d.reason.find("aliases not given to evil@example.com") !=
        std::string::npos);

  std::vector<FailureState> f = Failures(s);
  REQUIRE(f.size() == 1);
  CHECK(f[0].kind == FailureKind::kRefusedAddress);
  CHECK(FailureKindName(f[0].kind) == "refused_address");
  CHECK(f[0].side == Side::kLdap);
  CHECK(f[0].object == "u-evil");
  CHECK(f[0].dn == PersonDn("evil"));
  CHECK(f[0].message ==
        "aliases not given to evil@example.com: boss@othercorp.org (its "
        "domain othercorp.org is not a configured domain); "
        "user2@example.com (it is the address of mail account "
        "user2@example.com)");
  const std::uint64_t since = f[0].since_seq;
  s.Feed(OkOutcome(add));

  // The same claim again (a refresh, another field changed): the record
  // stays as it was, and nothing writes the refused aliases.
  const Decision& again =
      s.Feed(Evil({"evil@example.com", "user2@example.com",
                   "boss@othercorp.org", "evil.x@example.com"}));
  CHECK(again.intents.empty());
  f = Failures(s);
  REQUIRE(f.size() == 1);
  CHECK(f[0].since_seq == since);

  // One claim dropped: the record says what is left.
  s.Feed(
      Evil({"evil@example.com", "boss@othercorp.org", "evil.x@example.com"}));
  f = Failures(s);
  REQUIRE(f.size() == 1);
  CHECK(f[0].message ==
        "aliases not given to evil@example.com: boss@othercorp.org (its "
        "domain othercorp.org is not a configured domain)");
  CHECK(f[0].since_seq == since);  // the same failure, partly resolved
  // A new claim is a new failure.
  s.Feed(Evil({"evil@example.com", "boss@othercorp.org", "y@elsewhere.org",
               "evil.x@example.com"}));
  f = Failures(s);
  REQUIRE(f.size() == 1);
  CHECK(f[0].since_seq == s.seq());

  // The entry fixed: the record is gone; so it is when the entry goes.
  s.Feed(Evil({"evil@example.com", "evil.x@example.com"}));
  CHECK(Failures(s).empty());
  s.Feed(Evil({"evil@example.com", "x@elsewhere.org"}));
  CHECK(Failures(s).size() == 1);
  s.Feed(LdapDelete("u-evil", PersonDn("evil")));
  CHECK(Failures(s).empty());
}

TEST_CASE(
    "address ownership: the address of an LDAP entry not synced yet is "
    "refused too",
    "[rules][ownership]") {
  Scenario s;
  // user3 decided, its mail account not made yet.
  Only(s.Feed(LdapPerson("u-3", "user3", {})));
  const Intent add =
      Only(s.Feed(Evil({"evil@example.com", "user3@example.com"})));
  CHECK(Aliases(add).empty());
  std::vector<FailureState> f = Failures(s);
  REQUIRE(f.size() == 1);
  CHECK(f[0].message ==
        "aliases not given to evil@example.com: user3@example.com (it is the "
        "address of LDAP account " +
            PersonDn("user3") + ")");
}

TEST_CASE(
    "address ownership: both ways, a mail-side alias change keeps the "
    "entry's refused values",
    "[rules][ownership]") {
  ConnectorOptions o;
  o.direction = "both_ways";
  o.resolution = "ldap_wins";
  Scenario s(o);
  SyncUser2(s);
  const Intent add = Only(s.Feed(
      Evil({"evil@example.com", "user2@example.com", "boss@othercorp.org"})));
  s.Feed(OkOutcome(add));
  // The mail account reported as made (its echo), then an alias added there.
  s.Feed(MailObject("evil@example.com", {}));
  const Intent back = Only(s.Feed(
      MailObject("evil@example.com", {{"aliases", {"evil.y@example.com"}}})));
  CHECK(back.target == Side::kLdap);
  CHECK(AttrValues(back.set, "mail") ==
        std::vector<std::string>{"boss@othercorp.org", "evil.y@example.com",
                                 "evil@example.com", "user2@example.com"});
}

TEST_CASE("address ownership: under rules version 5 every alias is given",
          "[rules][ownership]") {
  Scenario s;
  FeedConfig(s, {}, 5);
  SyncUser2(s);
  const Intent add = Only(s.Feed(
      Evil({"evil@example.com", "user2@example.com", "boss@othercorp.org"})));
  CHECK(Aliases(add) ==
        std::vector<std::string>{"boss@othercorp.org", "user2@example.com"});
  CHECK(Failures(s).empty());
}

}  // namespace dirledger::testing

namespace dirledger::testing {
namespace {

// user2 synced with an alias of its own, its mail account reported (the
// alias index lists user2.a@example.com as user2's).
void SyncUser2WithAlias(Scenario& s) {
  const Intent add = Only(s.Feed(
      LdapPerson("u-2", "user2",
                 {{"mail", {"user2@example.com", "user2.a@example.com"}}})));
  CHECK(Aliases(add) == std::vector<std::string>{"user2.a@example.com"});
  s.Feed(OkOutcome(add));
  s.Feed(
      MailObject("user2@example.com", {{"aliases", {"user2.a@example.com"}}}));
}

}  // namespace

TEST_CASE(
    "address ownership: an alias another mail object holds as an alias is "
    "not given (rules version 7)",
    "[rules][ownership]") {
  Scenario s;
  SyncUser2WithAlias(s);
  REQUIRE(s.projection().FindIdsByAlias(ObjectKind::kAccount,
                                        "User2.A@example.com") ==
          std::vector<std::string>{"user2@example.com"});
  // Its own entry changed again: the alias is its own mail account's, not
  // refused (which would write it away).
  const Intent title = Only(
      s.Feed(LdapPerson("u-2", "user2",
                        {{"mail", {"user2@example.com", "user2.a@example.com"}},
                         {"title", {"Boss"}}})));
  CHECK(FindAttr(title.set, field::kAliases) == nullptr);
  s.Feed(OkOutcome(title));
  CHECK(Failures(s).empty());

  const Decision& d = s.Feed(
      Evil({"evil@example.com", "user2.a@example.com", "evil.x@example.com"}));
  const Intent add = Only(d);
  CHECK(add.op == IntentOp::kAdd);
  CHECK(Aliases(add) == std::vector<std::string>{"evil.x@example.com"});
  std::vector<FailureState> f = Failures(s);
  REQUIRE(f.size() == 1);
  CHECK(f[0].kind == FailureKind::kRefusedAddress);
  CHECK(f[0].object == "u-evil");
  CHECK(f[0].message ==
        "aliases not given to evil@example.com: user2.a@example.com (it is an "
        "alias of mail account user2@example.com)");
  s.Feed(OkOutcome(add));
  s.Feed(MailObject("evil@example.com", {{"aliases", {"evil.x@example.com"}}}));

  // The holder lets it go: the entry's next change gives it.
  const Intent drop = Only(s.Feed(LdapPerson("u-2", "user2", {})));
  CHECK(Aliases(drop).empty());
  s.Feed(OkOutcome(drop));
  s.Feed(MailObject("user2@example.com", {}));
  CHECK(s.projection()
            .FindIdsByAlias(ObjectKind::kAccount, "user2.a@example.com")
            .empty());
  const Intent give = Only(s.Feed(
      Evil({"evil@example.com", "user2.a@example.com", "evil.x@example.com"})));
  CHECK(Aliases(give) ==
        std::vector<std::string>{"evil.x@example.com", "user2.a@example.com"});
  CHECK(Failures(s).empty());
}

TEST_CASE(
    "address ownership: an alias of a mail object no entry is linked to is "
    "not given either",
    "[rules][ownership]") {
  Scenario s;
  // Made on the mail side only (one way from LDAP: it stays mail-only).
  s.Feed(MailObject("sales@example.com", {{"aliases", {"info@example.com"}}},
                    ObjectKind::kGroup));
  const Intent add =
      Only(s.Feed(Evil({"evil@example.com", "info@example.com"})));
  CHECK(Aliases(add).empty());
  std::vector<FailureState> f = Failures(s);
  REQUIRE(f.size() == 1);
  CHECK(f[0].message ==
        "aliases not given to evil@example.com: info@example.com (it is an "
        "alias of mail group sales@example.com)");
}

TEST_CASE(
    "address ownership: an account whose address another mail object holds "
    "as an alias waits, and is made when the alias is let go",
    "[rules][ownership]") {
  Scenario s;
  // evil was given user3@example.com as an alias before uid=user3 existed.
  const Intent evil =
      Only(s.Feed(Evil({"evil@example.com", "user3@example.com"})));
  CHECK(Aliases(evil) == std::vector<std::string>{"user3@example.com"});
  s.Feed(OkOutcome(evil));
  s.Feed(MailObject("evil@example.com", {{"aliases", {"user3@example.com"}}}));
  REQUIRE(s.projection().FindIdsByAlias(ObjectKind::kAccount,
                                        "user3@example.com") ==
          std::vector<std::string>{"evil@example.com"});

  // uid=user3 arrives: its account is not made (the mail directory would
  // refuse it whole); it waits, with a record saying why.
  const Decision& waits = s.Feed(LdapPerson("u-3", "user3", {}));
  INFO(DecisionText(waits));
  CHECK(waits.intents.empty());
  CHECK(waits.rule == "create/address-aliased");
  CHECK(s.projection().WaitingFor(Side::kLdap,
                                  "alias:account:user3@example.com") ==
        std::vector<std::string>{"u-3"});
  std::vector<FailureState> f = Failures(s);
  REQUIRE(f.size() == 1);
  CHECK(f[0].object == "u-3");
  CHECK(f[0].message ==
        "address user3@example.com not made yet: it is an alias of mail "
        "account evil@example.com; made once it is let go");
  // Reported again: the same record, still waiting.
  CHECK(s.Feed(LdapPerson("u-3", "user3", {})).intents.empty());
  REQUIRE(Failures(s).size() == 1);
  CHECK(Failures(s)[0].since_seq == f[0].since_seq);

  // evil's next change: user3's address is not its alias any more (it is
  // the address of LDAP account uid=user3), so it is written away; once
  // the mail side holds it no more, user3's account is made.
  const Intent drop = Only(s.Feed(
      Evil({"evil@example.com", "user3@example.com", "evil.x@example.com"})));
  CHECK(Aliases(drop) == std::vector<std::string>{"evil.x@example.com"});
  const Decision& done = s.Feed(OkOutcome(drop));
  INFO(DecisionText(done));
  const Intent add = Only(done);
  CHECK(add.op == IntentOp::kAdd);
  CHECK(add.target == Side::kMail);
  CHECK(add.target_id == "user3@example.com");
  CHECK(s.projection()
            .WaitingFor(Side::kLdap, "alias:account:user3@example.com")
            .empty());
  CHECK(s.projection().FindLinkByLdap(ObjectKind::kAccount, "u-3"));
  f = Failures(s);
  REQUIRE(f.size() == 1);  // evil's: its alias is refused now
  CHECK(f[0].object == "u-evil");
  CHECK(f[0].message ==
        "aliases not given to evil@example.com: user3@example.com (it is the "
        "address of LDAP account " +
            PersonDn("user3") + ")");
}

TEST_CASE(
    "address ownership: under rules version 6 an alias another mail object "
    "holds is given as before",
    "[rules][ownership]") {
  Scenario s;
  FeedConfig(s, {}, 6);
  SyncUser2WithAlias(s);
  const Intent add = Only(s.Feed(
      Evil({"evil@example.com", "user2.a@example.com", "user2@example.com"})));
  CHECK(Aliases(add) == std::vector<std::string>{"user2.a@example.com"});
  std::vector<FailureState> f = Failures(s);
  REQUIRE(f.size() == 1);
  CHECK(f[0].message ==
        "aliases not given to evil@example.com: user2@example.com (it is the "
        "address of mail account user2@example.com)");
  s.Feed(OkOutcome(add));
  const Intent more =
      Only(s.Feed(Evil({"evil@example.com", "user2.a@example.com",
                        "user2@example.com", "user3@example.com"})));
  s.Feed(OkOutcome(more));
  // An account whose address another object holds as an alias is created
  // (the mail directory refuses it).
  const Intent user3 = Only(s.Feed(LdapPerson("u-3", "user3", {})));
  CHECK(user3.op == IntentOp::kAdd);
  CHECK(user3.target_id == "user3@example.com");
}

}  // namespace dirledger::testing

// Address ownership (docs/rules.md, section 8a; rules version 6): an LDAP
// entry's alias that is another object's address, or in a domain that is
// not configured, is not given to its mail object, is listed as a
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
  ConfigChange c = ConfigEvent(ConfigToml({}));
  c.reconciler_rules = 5;
  s.Feed(c);
  SyncUser2(s);
  const Intent add = Only(s.Feed(
      Evil({"evil@example.com", "user2@example.com", "boss@othercorp.org"})));
  CHECK(Aliases(add) ==
        std::vector<std::string>{"boss@othercorp.org", "user2@example.com"});
  CHECK(Failures(s).empty());
}

}  // namespace dirledger::testing

// Every cell of direction x conflict resolution x situation (add, modify of
// the same field, modify of another field, delete, delete against modify,
// rename, group membership), from either side: the outcome, the rule and
// the intents (docs/rules.md lists the same rows).
#include <catch2/catch.hpp>

#include "replay/replay_test_util.h"

namespace dirledger::testing {
namespace {

struct Cfg {
  const char* direction;
  const char* resolution;  // "" unless both_ways
  const char* name;
};

const Cfg kL2A{"ldap_to_axigen", "", "ldap_to_axigen"};
const Cfg kA2L{"axigen_to_ldap", "", "axigen_to_ldap"};
const Cfg kLW{"both_ways", "ldap_wins", "both_ways/ldap_wins"};
const Cfg kAW{"both_ways", "axigen_wins", "both_ways/axigen_wins"};
const Cfg kNC{"both_ways", "no_change", "both_ways/no_change"};

ConnectorOptions Options(const Cfg& c) {
  ConnectorOptions o;
  o.direction = c.direction;
  o.resolution = c.resolution;
  return o;
}

ObservedChange Set(ObservedChange c, const std::string& name,
                   std::vector<std::string> values) {
  SetAttr(&c.attrs, name, std::move(values));
  return c;
}

ObservedChange LJdoe() {
  return LdapPerson("u-jdoe", "jdoe",
                    {{"givenName", {"John"}},
                     {"sn", {"Doe"}},
                     {"title", {"Dev"}},
                     {"telephoneNumber", {"111"}}});
}
ObservedChange MJdoe() {
  return MailObject("jdoe@example.com", {{"firstName", {"John"}},
                                         {"lastName", {"Doe"}},
                                         {"title", {"Dev"}},
                                         {"businessPhone", {"111"}}});
}
ObservedChange LAsmith() {
  return LdapPerson("u-asmith", "asmith", {{"sn", {"Smith"}}});
}
ObservedChange MAsmith() {
  return MailObject("asmith@example.com", {{"lastName", {"Smith"}}});
}
ObservedChange LStaff(std::vector<std::string> members) {
  return LdapGroup("g-staff", "staff", std::move(members));
}
ObservedChange MStaff(std::vector<std::string> members) {
  return MailObject("staff@example.com", {{"members", std::move(members)}},
                    ObjectKind::kGroup);
}

// jdoe and asmith, and the group staff (member jdoe), on both sides, linked
// and in agreement, nothing pending.
void SetUp(Scenario& s) {
  s.Feed(LJdoe());
  s.Feed(MJdoe());
  s.Feed(LAsmith());
  s.Feed(MAsmith());
  s.Feed(LStaff({PersonDn("jdoe")}));
  s.Feed(MStaff({"jdoe@example.com"}));
  const InMemoryProjection& p = s.projection();
  REQUIRE(p.FindLinkByLdap(ObjectKind::kAccount, "u-jdoe"));
  REQUIRE(p.FindLinkByLdap(ObjectKind::kAccount, "u-asmith"));
  REQUIRE(p.FindLinkByLdap(ObjectKind::kGroup, "g-staff"));
  REQUIRE(p.pending_count() == 0);
  REQUIRE(p.FindLinkByLdap(ObjectKind::kAccount, "u-jdoe")->agreed.size() == 4);
}

// "mail:modify title=[Lead]" per intent, in order; "-" when none.
std::string Intents(const Decision& d) {
  if (d.intents.empty()) return "-";
  std::string out;
  for (const Intent& i : d.intents) {
    if (!out.empty()) out += "; ";
    out +=
        std::string(SideName(i.target)) + ":" + std::string(IntentOpName(i.op));
    if (!i.set.empty() && i.op != IntentOp::kAdd) out += " " + AttrsText(i.set);
    if (!i.add_values.empty()) out += " +" + AttrsText(i.add_values);
    if (!i.delete_values.empty()) out += " -" + AttrsText(i.delete_values);
  }
  return out;
}

struct Expect {
  Outcome outcome;
  const char* rule;
  const char* intents;
};

void Check(const Cfg& cfg, const char* situation, const Decision& d,
           const Expect& e) {
  INFO(cfg.name << " / " << situation << "\n" << DecisionText(d));
  CHECK(OutcomeName(d.outcome) == OutcomeName(e.outcome));
  CHECK(d.rule == e.rule);
  CHECK(Intents(d) == e.intents);
}

using Situation = const Decision& (*)(Scenario&, Side);

const Decision& Add(Scenario& s, Side side) {
  if (side == Side::kLdap)
    return s.Feed(
        LdapPerson("u-bnew", "bnew", {{"sn", {"New"}}}, ChangeOp::kAdd));
  return s.Feed(MailObject("bnew@example.com", {{"lastName", {"New"}}},
                           ObjectKind::kAccount, ChangeOp::kAdd));
}

// The other side changes title to "Other" first, then `side` to "Lead",
// before the first change's write is applied. One way, when `side` is the
// target, that write is made impossible and planned again (rules version 7,
// replay/replan_test.cc).
const Decision& SameField(Scenario& s, Side side) {
  if (side == Side::kLdap) {
    s.Feed(Set(MJdoe(), "title", {"Other"}));
    return s.Feed(Set(LJdoe(), "title", {"Lead"}));
  }
  s.Feed(Set(LJdoe(), "title", {"Other"}));
  return s.Feed(Set(MJdoe(), "title", {"Lead"}));
}

// The other side changes title, then `side` the phone.
const Decision& OtherField(Scenario& s, Side side) {
  if (side == Side::kLdap) {
    s.Feed(Set(MJdoe(), "title", {"Other"}));
    return s.Feed(Set(LJdoe(), "telephoneNumber", {"222"}));
  }
  s.Feed(Set(LJdoe(), "title", {"Other"}));
  return s.Feed(Set(MJdoe(), "businessPhone", {"222"}));
}

const Decision& Delete(Scenario& s, Side side) {
  if (side == Side::kLdap)
    return s.Feed(LdapDelete("u-asmith", PersonDn("asmith")));
  return s.Feed(MailDelete("asmith@example.com"));
}

// The other side changes title, then `side` deletes.
const Decision& DeleteVsModify(Scenario& s, Side side) {
  if (side == Side::kLdap) {
    s.Feed(Set(MJdoe(), "title", {"Other"}));
    return s.Feed(LdapDelete("u-jdoe", PersonDn("jdoe")));
  }
  s.Feed(Set(LJdoe(), "title", {"Other"}));
  return s.Feed(MailDelete("jdoe@example.com"));
}

// As DeleteVsModify, staff listing asmith too: LDAP's refint drops jdoe
// (unreported).
const Decision& DeleteOneOfTwoVsModify(Scenario& s, Side side) {
  for (EventBody staff :
       {EventBody(LStaff({PersonDn("jdoe"), PersonDn("asmith")})),
        EventBody(MStaff({"asmith@example.com", "jdoe@example.com"}))}) {
    const std::vector<Intent> writes = s.Feed(std::move(staff)).intents;
    for (const Intent& i : writes) s.Feed(OkOutcome(i));
  }
  REQUIRE(s.projection().pending_count() == 0);
  return DeleteVsModify(s, side);
}

const Decision& Membership(Scenario& s, Side side) {
  if (side == Side::kLdap)
    return s.Feed(LStaff({PersonDn("jdoe"), PersonDn("asmith")}));
  return s.Feed(MStaff({"asmith@example.com", "jdoe@example.com"}));
}

void Table(const char* name, Situation situation, Side side,
           const std::vector<std::pair<Cfg, Expect>>& rows) {
  for (const auto& [cfg, expect] : rows) {
    Scenario s(Options(cfg));
    SetUp(s);
    Check(cfg, name, situation(s, side), expect);
  }
}

constexpr Outcome kProp = Outcome::kPropagated;
constexpr Outcome kDisc = Outcome::kDiscardedDirection;
constexpr Outcome kRes = Outcome::kConflictResolved;
constexpr Outcome kOpen = Outcome::kConflictOpen;

}  // namespace

TEST_CASE("add", "[rules][table]") {
  Table("add on LDAP", Add, Side::kLdap,
        {{kL2A, {kProp, "create/ldap-to-mail", "mail:add"}},
         {kA2L, {kDisc, "direction/axigen_to_ldap", "-"}},
         {kLW, {kProp, "create/ldap-to-mail", "mail:add"}},
         {kAW, {kProp, "create/ldap-to-mail", "mail:add"}},
         {kNC, {kProp, "create/ldap-to-mail", "mail:add"}}});
  Table("add on mail", Add, Side::kMail,
        {{kL2A, {kDisc, "direction/ldap_to_axigen", "-"}},
         {kA2L, {kProp, "create/mail-to-ldap", "ldap:add"}},
         {kLW, {kProp, "create/mail-to-ldap", "ldap:add"}},
         {kAW, {kProp, "create/mail-to-ldap", "ldap:add"}},
         {kNC, {kProp, "create/mail-to-ldap", "ldap:add"}}});
}

TEST_CASE("modify of the same field on both sides", "[rules][table]") {
  Table("same field, LDAP last", SameField, Side::kLdap,
        {{kL2A, {kProp, "propagate/ldap-to-mail", "mail:modify title=[Lead]"}},
         {kA2L, {kProp, "propagate/catch-up", "ldap:modify title=[Other]"}},
         {kLW, {kRes, "conflict/ldap_wins", "mail:modify title=[Lead]"}},
         {kAW, {kRes, "conflict/axigen_wins", "ldap:modify title=[Other]"}},
         {kNC, {kOpen, "conflict/no_change", "-"}}});
  Table("same field, mail last", SameField, Side::kMail,
        {{kL2A, {kProp, "propagate/catch-up", "mail:modify title=[Other]"}},
         {kA2L, {kProp, "propagate/mail-to-ldap", "ldap:modify title=[Lead]"}},
         {kLW, {kRes, "conflict/ldap_wins", "mail:modify title=[Other]"}},
         {kAW, {kRes, "conflict/axigen_wins", "ldap:modify title=[Lead]"}},
         {kNC, {kOpen, "conflict/no_change", "-"}}});
}

TEST_CASE("modify of different fields on both sides merges", "[rules][table]") {
  Table(
      "other field, LDAP last", OtherField, Side::kLdap,
      {{kL2A,
        {kProp, "propagate/ldap-to-mail", "mail:modify businessPhone=[222]"}},
       {kA2L, {kDisc, "direction/axigen_to_ldap", "-"}},
       {kLW,
        {kProp, "propagate/ldap-to-mail", "mail:modify businessPhone=[222]"}},
       {kAW,
        {kProp, "propagate/ldap-to-mail", "mail:modify businessPhone=[222]"}},
       {kNC,
        {kProp, "propagate/ldap-to-mail", "mail:modify businessPhone=[222]"}}});
  Table(
      "other field, mail last", OtherField, Side::kMail,
      {{kL2A, {kDisc, "direction/ldap_to_axigen", "-"}},
       {kA2L,
        {kProp, "propagate/mail-to-ldap", "ldap:modify telephoneNumber=[222]"}},
       {kLW,
        {kProp, "propagate/mail-to-ldap", "ldap:modify telephoneNumber=[222]"}},
       {kAW,
        {kProp, "propagate/mail-to-ldap", "ldap:modify telephoneNumber=[222]"}},
       {kNC,
        {kProp, "propagate/mail-to-ldap",
         "ldap:modify telephoneNumber=[222]"}}});
}

TEST_CASE("delete", "[rules][table]") {
  Table("delete on LDAP", Delete, Side::kLdap,
        {{kL2A, {kProp, "delete/ldap-to-mail", "mail:delete"}},
         {kA2L, {kDisc, "direction/axigen_to_ldap", "-"}},
         {kLW, {kProp, "delete/ldap-to-mail", "mail:delete"}},
         {kAW, {kProp, "delete/ldap-to-mail", "mail:delete"}},
         {kNC, {kProp, "delete/ldap-to-mail", "mail:delete"}}});
  Table("delete on mail", Delete, Side::kMail,
        {{kL2A, {kDisc, "direction/ldap_to_axigen", "-"}},
         {kA2L, {kProp, "delete/mail-to-ldap", "ldap:delete"}},
         {kLW, {kProp, "delete/mail-to-ldap", "ldap:delete"}},
         {kAW, {kProp, "delete/mail-to-ldap", "ldap:delete"}},
         {kNC, {kProp, "delete/mail-to-ldap", "ldap:delete"}}});
}

TEST_CASE("delete on one side against modify on the other", "[rules][table]") {
  Table("LDAP deletes, mail modified", DeleteVsModify, Side::kLdap,
        // jdoe is staff's only member: LDAP keeps the DN (a groupOfNames
        // must have a member, so refint cannot drop it), and the mail group
        // the address, a gone member on both sides (rules version 9); an
        // entry created again at the DN is the group's member already.
        {{kL2A, {kProp, "delete/ldap-to-mail", "mail:delete"}},
         // One way, the target's delete makes the source's pending write
         // impossible: the object is created again (rules version 9).
         {kA2L, {kProp, "create/mail-to-ldap", "ldap:add"}},
         {kLW, {kRes, "conflict/delete-modify/ldap_wins", "mail:delete"}},
         {kAW, {kRes, "conflict/delete-modify/axigen_wins", "ldap:add"}},
         {kNC, {kOpen, "conflict/delete-modify/no_change", "-"}}});
  Table("LDAP deletes one of two members, mail modified",
        DeleteOneOfTwoVsModify, Side::kLdap,
        // LDAP dropped jdoe from staff (refint, unreported); the mail
        // group loses the address of a deleted account, and an entry
        // created again is given back to the group (rules version 7).
        {{kL2A,
          {kProp, "delete/ldap-to-mail",
           "mail:delete; mail:modify -members=[jdoe@example.com]"}},
         {kA2L,
          {kProp, "create/mail-to-ldap",
           "ldap:add; ldap:modify "
           "+member=[uid=jdoe,ou=people,dc=example,dc=com]"}},
         {kLW,
          {kRes, "conflict/delete-modify/ldap_wins",
           "mail:delete; mail:modify -members=[jdoe@example.com]"}},
         {kAW,
          {kRes, "conflict/delete-modify/axigen_wins",
           "ldap:add; ldap:modify "
           "+member=[uid=jdoe,ou=people,dc=example,dc=com]"}},
         {kNC, {kOpen, "conflict/delete-modify/no_change", "-"}}});
  Table("mail deletes, LDAP modified", DeleteVsModify, Side::kMail,
        {{kL2A, {kProp, "create/ldap-to-mail", "mail:add"}},
         {kA2L, {kProp, "delete/mail-to-ldap", "ldap:delete"}},
         {kLW, {kRes, "conflict/delete-modify/ldap_wins", "mail:add"}},
         {kAW, {kRes, "conflict/delete-modify/axigen_wins", "ldap:delete"}},
         {kNC, {kOpen, "conflict/delete-modify/no_change", "-"}}});
}

TEST_CASE("rename on LDAP", "[rules][table]") {
  // A move to another DN keeps the address: nothing to write.
  auto moved = [](Scenario& s, Side) -> const Decision& {
    ObservedChange c = LJdoe();
    c.dn = "uid=jdoe,ou=staff,ou=people,dc=example,dc=com";
    return s.Feed(c);
  };
  Table("move", moved, Side::kLdap,
        {{kL2A, {Outcome::kNoChange, "rename/dn", "-"}},
         {kA2L, {Outcome::kNoChange, "rename/dn", "-"}},
         {kLW, {Outcome::kNoChange, "rename/dn", "-"}},
         {kAW, {Outcome::kNoChange, "rename/dn", "-"}},
         {kNC, {Outcome::kNoChange, "rename/dn", "-"}}});
  // A new uid is a new address: the mail account is renamed to follow.
  auto renamed = [](Scenario& s, Side) -> const Decision& {
    ObservedChange c =
        Set(Set(LJdoe(), "uid", {"jsmith"}), "mail", {"jsmith@example.com"});
    c.dn = PersonDn("jsmith");
    return s.Feed(c);
  };
  Table("new uid", renamed, Side::kLdap,
        {{kL2A, {kProp, "rename/ldap-to-mail", "mail:rename"}},
         {kA2L, {kDisc, "direction/axigen_to_ldap", "-"}},
         {kLW, {kProp, "rename/ldap-to-mail", "mail:rename"}},
         {kAW, {kProp, "rename/ldap-to-mail", "mail:rename"}},
         {kNC, {kProp, "rename/ldap-to-mail", "mail:rename"}}});
}

TEST_CASE("group membership", "[rules][table]") {
  Table("member added on LDAP", Membership, Side::kLdap,
        {{kL2A,
          {kProp, "propagate/ldap-to-mail",
           "mail:modify +members=[asmith@example.com]"}},
         {kA2L, {kDisc, "direction/axigen_to_ldap", "-"}},
         {kLW,
          {kProp, "propagate/ldap-to-mail",
           "mail:modify +members=[asmith@example.com]"}},
         {kAW,
          {kProp, "propagate/ldap-to-mail",
           "mail:modify +members=[asmith@example.com]"}},
         {kNC,
          {kProp, "propagate/ldap-to-mail",
           "mail:modify +members=[asmith@example.com]"}}});
  Table("member added on mail", Membership, Side::kMail,
        {{kL2A, {kDisc, "direction/ldap_to_axigen", "-"}},
         {kA2L,
          {kProp, "propagate/mail-to-ldap",
           "ldap:modify +member=[uid=asmith,ou=people,dc=example,dc=com]"}},
         {kLW,
          {kProp, "propagate/mail-to-ldap",
           "ldap:modify +member=[uid=asmith,ou=people,dc=example,dc=com]"}},
         {kAW,
          {kProp, "propagate/mail-to-ldap",
           "ldap:modify +member=[uid=asmith,ou=people,dc=example,dc=com]"}},
         {kNC,
          {kProp, "propagate/mail-to-ldap",
           "ldap:modify +member=[uid=asmith,ou=people,dc=example,dc=com]"}}});
}

TEST_CASE("members changed on both sides merge, whatever the resolution",
          "[rules][table]") {
  for (const Cfg& cfg : {kLW, kAW, kNC}) {
    Scenario s(Options(cfg));
    SetUp(s);
    // LDAP adds asmith; mail removes jdoe (and has not seen asmith).
    s.Feed(LStaff({PersonDn("jdoe"), PersonDn("asmith")}));
    const Decision& d = s.Feed(MStaff({}));
    Check(cfg, "members both sides", d,
          {kProp, "propagate/mail-to-ldap",
           "ldap:modify -member=[uid=jdoe,ou=people,dc=example,dc=com]"});
  }
}

}  // namespace dirledger::testing

#include <catch2/catch.hpp>

#include "codecs/projection_store.h"

namespace dirledger {
namespace {

ObjectState Person(std::string id, std::string dn, std::string address) {
  ObjectState o;
  o.side = Side::kLdap;
  o.id = std::move(id);
  o.dn = std::move(dn);
  o.address = std::move(address);
  o.source = "corp/syncrepl";
  o.attrs = {{"cn", {"A"}}};
  o.version = 3;
  return o;
}

}  // namespace

TEST_CASE("objects are found by id, DN and address; renames move the index",
          "[projection]") {
  MemKvStore state, links;
  ProjectionStore p(&state, &links);
  REQUIRE(p.Apply(PutObject{Person("u1", "uid=a,dc=x", "a@x.com")}).ok());
  CHECK(p.GetObject(Side::kLdap, ObjectKind::kAccount, "u1")->dn ==
        "uid=a,dc=x");
  CHECK(*p.FindIdByDn(Side::kLdap, "UID=A,DC=X") == "u1");
  CHECK(*p.FindIdByAddress(Side::kLdap, ObjectKind::kAccount, "A@x.com") ==
        "u1");
  REQUIRE(p.Apply(PutObject{Person("u1", "uid=b,dc=x", "b@x.com")}).ok());
  CHECK_FALSE(p.FindIdByDn(Side::kLdap, "uid=a,dc=x"));
  CHECK(*p.FindIdByDn(Side::kLdap, "uid=b,dc=x") == "u1");
  CHECK_FALSE(p.FindIdByAddress(Side::kLdap, ObjectKind::kAccount, "a@x.com"));
  REQUIRE(p.Apply(EraseObject{Side::kLdap, ObjectKind::kAccount, "u1"}).ok());
  CHECK_FALSE(p.GetObject(Side::kLdap, ObjectKind::kAccount, "u1"));
  CHECK_FALSE(p.FindIdByDn(Side::kLdap, "uid=b,dc=x"));
  // Nothing but nothing is left behind.
  CHECK(state.data().empty());
}

TEST_CASE("objects are listed by source", "[projection]") {
  MemKvStore state, links;
  ProjectionStore p(&state, &links);
  REQUIRE(p.Apply(PutObject{Person("u1", "uid=a", "")}).ok());
  REQUIRE(p.Apply(PutObject{Person("u2", "uid=b", "")}).ok());
  std::vector<std::string> ids;
  REQUIRE(p.ForEachObjectOfSource("corp/syncrepl", [&](Side, ObjectKind,
                                                       std::string_view id) {
             ids.emplace_back(id);
             return true;
           }).ok());
  CHECK(ids == std::vector<std::string>{"u1", "u2"});
}

TEST_CASE("links are found from both sides", "[projection]") {
  MemKvStore state, links;
  ProjectionStore p(&state, &links);
  LinkState l;
  l.ldap_id = "u1";
  l.mail_id = "a@x.com";
  l.agreed = {{"firstName", {"A"}}};
  REQUIRE(p.Apply(PutLink{l}).ok());
  CHECK(p.GetLinkByMail(ObjectKind::kAccount, "a@x.com")->ldap_id == "u1");
  CHECK(p.GetLinkByLdap(ObjectKind::kAccount, "u1")->agreed == l.agreed);
  CHECK_FALSE(p.GetLinkByLdap(ObjectKind::kGroup, "u1"));
  REQUIRE(p.Apply(EraseLink{ObjectKind::kAccount, "u1", "a@x.com"}).ok());
  CHECK(links.data().empty());
}

TEST_CASE("pending intents are indexed by target", "[projection]") {
  MemKvStore state, links;
  ProjectionStore p(&state, &links);
  PendingIntent pi;
  pi.intent.id = MakeIntentId(9, 0);
  pi.intent.target = Side::kMail;
  pi.intent.target_id = "a@x.com";
  pi.intent.set = {{"firstName", {"A"}}};
  pi.decided_seq = 9;
  REQUIRE(p.Apply(PutPending{pi}).ok());
  auto v = p.PendingFor(Side::kMail, ObjectKind::kAccount, "a@x.com");
  REQUIRE(v.size() == 1);
  CHECK(v[0].intent.set == pi.intent.set);
  REQUIRE(p.Apply(ErasePending{pi.intent.id}).ok());
  CHECK(p.PendingFor(Side::kMail, ObjectKind::kAccount, "a@x.com").empty());
  CHECK(state.data().empty());
}

TEST_CASE("a damaged record is reported, never returned", "[projection]") {
  MemKvStore state, links;
  ProjectionStore p(&state, &links);
  REQUIRE(p.Apply(PutObject{Person("u1", "uid=a", "")}).ok());
  std::string key = std::string("o") + "0" + "0" + "u1";
  REQUIRE(state.Put(key, "garbage").ok());
  CHECK_FALSE(p.GetObject(Side::kLdap, ObjectKind::kAccount, "u1"));
  CHECK(p.status().IsCorruption());
}

TEST_CASE("holds, conflicts and drift round-trip", "[projection]") {
  MemKvStore state, links;
  ProjectionStore p(&state, &links);
  HoldState h;
  h.hold.hold_id = "hold-7";
  h.hold.deletes = {
      ObjectRef{Side::kLdap, ObjectKind::kAccount, "u1", "uid=a", "x.com", ""},
      ObjectRef{Side::kLdap, ObjectKind::kAccount, "u2", "uid=b", "x.com",
                "uid=b,ou=out"}};
  h.seq = 7;
  REQUIRE(p.Apply(PutHold{h}).ok());
  REQUIRE(p.GetHold("hold-7")->hold.deletes.size() == 2);
  CHECK(p.GetHold("hold-7")->hold.deletes[0].remains_at.empty());
  CHECK(p.GetHold("hold-7")->hold.deletes[1].remains_at == "uid=b,ou=out");
  ConflictState c;
  c.ldap_id = "u1";
  c.fields = {"firstName"};
  REQUIRE(p.Apply(PutConflict{c}).ok());
  CHECK(p.GetConflict(ObjectKind::kAccount, "u1")->fields == c.fields);
  DriftState d;
  d.ldap_id = "u1";
  d.fields = {"lastName"};
  REQUIRE(p.Apply(PutDrift{d}).ok());
  CHECK(*p.GetDrift(ObjectKind::kAccount, "u1") == d);
  int n = 0;
  REQUIRE(p.ForEachHold([&](const HoldState&) { return ++n, true; }).ok());
  CHECK(n == 1);
}

}  // namespace dirledger

namespace dirledger {

TEST_CASE("groups wait for members by DN or address, case-insensitively",
          "[projection]") {
  MemKvStore state, links;
  ProjectionStore p(&state, &links);
  REQUIRE(p.Apply(PutWait{Side::kLdap, "UID=A,DC=X", "g2"}).ok());
  REQUIRE(p.Apply(PutWait{Side::kLdap, "uid=a,dc=x", "g1"}).ok());
  REQUIRE(p.Apply(PutWait{Side::kMail, "a@x.com", "staff@x.com"}).ok());
  CHECK(p.WaitingFor(Side::kLdap, "uid=A,dc=x") ==
        std::vector<std::string>{"g1", "g2"});
  CHECK(p.WaitingFor(Side::kMail, "A@X.com") ==
        std::vector<std::string>{"staff@x.com"});
  CHECK(p.WaitingFor(Side::kMail, "uid=a,dc=x").empty());
  REQUIRE(p.Apply(EraseWait{Side::kLdap, "uid=a,dc=x", "g1"}).ok());
  CHECK(p.WaitingFor(Side::kLdap, "uid=a,dc=x") ==
        std::vector<std::string>{"g2"});
}

}  // namespace dirledger

namespace dirledger {

TEST_CASE(
    "mail objects are found by the aliases they hold; the key says what it is",
    "[projection]") {
  MemKvStore state, links;
  ProjectionStore p(&state, &links);
  ObjectState m;
  m.side = Side::kMail;
  m.id = m.dn = m.address = "a@x.com";
  m.attrs = {{"aliases", {"Sales@x.com", "info@x.com"}}};
  REQUIRE(p.Apply(PutObject{m}).ok());
  CHECK(p.FindIdsByAlias(ObjectKind::kAccount, "sales@X.com") ==
        std::vector<std::string>{"a@x.com"});
  CHECK(p.FindIdsByAlias(ObjectKind::kGroup, "sales@x.com").empty());
  const std::string key = std::string("i10sales@x.com") + '\0' + "a@x.com";
  CHECK(state.data().count(key) == 1);
  CHECK(DescribeProjectionKey(key, false) ==
        "i10sales@x.com\\x00a@x.com (alias index: mail account sales@x.com "
        "held by a@x.com)");
  m.attrs = {{"aliases", {"info@x.com"}}};
  REQUIRE(p.Apply(PutObject{m}).ok());
  CHECK(p.FindIdsByAlias(ObjectKind::kAccount, "sales@x.com").empty());
  CHECK(p.FindIdsByAlias(ObjectKind::kAccount, "info@x.com") ==
        std::vector<std::string>{"a@x.com"});
  REQUIRE(
      p.Apply(EraseObject{Side::kMail, ObjectKind::kAccount, "a@x.com"}).ok());
  CHECK(p.FindIdsByAlias(ObjectKind::kAccount, "info@x.com").empty());
  CHECK(state.data().empty());
}

}  // namespace dirledger

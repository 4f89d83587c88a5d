#include "engine/syncrepl/entry_mapper.h"

#include <catch2/catch.hpp>

#include "codecs/secret_attributes.h"

namespace dirledger {
namespace {

std::shared_ptr<const RuleSet> Rules(bool group_sync) {
  Config c;
  ConnectorConfig corp;
  corp.name = "corp";
  corp.uris = {"ldap://127.0.0.1:3900"};
  corp.account_base_dn = "ou=people,%D";
  corp.group_sync = group_sync;
  corp.group_base_dn = "ou=groups,%D";
  c.connectors.push_back(corp);
  c.domains.push_back({"example.com", true, "corp"});
  auto r = RuleSet::Compile(c);
  REQUIRE(r.ok());
  return *r;
}

LdapEntry Person(const std::string& uid) {
  LdapEntry e;
  e.dn = "uid=" + uid + ",ou=people,dc=example,dc=com";
  e.attrs = {{"objectClass", {"inetOrgPerson"}},
             {"uid", {uid}},
             {"sn", {"Doe"}},
             {"givenName", {"Jane"}},
             {"entryUUID", {"0000"}}};
  return e;
}

}  // namespace

TEST_CASE("an entry in scope becomes a full-image change", "[syncrepl]") {
  EntryMapper m(Rules(false), "corp", "corp/syncrepl");
  MappedEntry out = m.Map("id-1", Person("jdoe"), false);
  REQUIRE(out.kind == MappedEntry::Kind::kChange);
  const ObservedChange& c = out.change;
  CHECK(c.side == Side::kLdap);
  CHECK(c.source == "corp/syncrepl");
  CHECK(c.connector == "corp");
  CHECK(c.domain == "example.com");
  CHECK(c.kind == ObjectKind::kAccount);
  CHECK(c.id == "id-1");
  CHECK(c.op == ChangeOp::kAdd);
  CHECK(c.full_image);
  CHECK(IsCanonical(c.attrs));
  CHECK(FindAttr(c.attrs, "entryUUID") == nullptr);
  CHECK(FirstValue(c.attrs, "sn") == "Doe");
  CHECK(m.Map("id-1", Person("jdoe"), true).change.op == ChangeOp::kModify);
}

TEST_CASE(
    "the image is the whole entry: unmapped attributes kept, secrets "
    "dropped",
    "[syncrepl][whole]") {
  Config c;
  ConnectorConfig corp;
  corp.name = "corp";
  corp.uris = {"ldap://127.0.0.1:3900"};
  corp.account_base_dn = "ou=people,%D";
  corp.secret_attributes = {"pinCode"};
  c.connectors.push_back(corp);
  c.domains.push_back({"example.com", true, "corp"});
  auto rules = RuleSet::Compile(c);
  REQUIRE(rules.ok());
  EntryMapper m(*rules, "corp", "corp/syncrepl");
  LdapEntry e = Person("jdoe");
  e.attrs.push_back({"employeeNumber", {"42"}});
  e.attrs.push_back({"description", {"on leave", "badge 7"}});
  e.attrs.push_back({"telephoneNumber", {"+1 555 0100"}});
  e.attrs.push_back({"userPassword", {"{SSHA}secret"}});
  e.attrs.push_back({"userPassword;binary", {"x"}});
  e.attrs.push_back({"sambaNTPassword", {"0123"}});
  e.attrs.push_back({"PINCODE", {"1234"}});
  MappedEntry out = m.Map("id-1", e, false);
  REQUIRE(out.kind == MappedEntry::Kind::kChange);
  const AttrList& a = out.change.attrs;
  CHECK(AttrValues(a, "employeeNumber") == std::vector<std::string>{"42"});
  CHECK(AttrValues(a, "description") ==
        std::vector<std::string>{"badge 7", "on leave"});
  CHECK(AttrValues(a, "telephoneNumber") ==
        std::vector<std::string>{"+1 555 0100"});
  CHECK(FindAttr(a, "userPassword") == nullptr);
  CHECK(FindAttr(a, "userPassword;binary") == nullptr);
  CHECK(FindAttr(a, "sambaNTPassword") == nullptr);
  CHECK(FindAttr(a, "pinCode") == nullptr);
  CHECK(FindAttr(a, "entryUUID") == nullptr);
  for (const Attribute& x : a) CHECK_FALSE(IsSecretAttribute(x.name));
}

TEST_CASE("entries out of scope are skipped", "[syncrepl]") {
  EntryMapper m(Rules(false), "corp", "corp/syncrepl");
  LdapEntry elsewhere = Person("x");
  elsewhere.dn = "uid=x,ou=other,dc=example,dc=com";
  CHECK(m.Map("id", elsewhere, false).kind == MappedEntry::Kind::kOutOfScope);
  LdapEntry group;
  group.dn = "cn=staff,ou=groups,dc=example,dc=com";
  group.attrs = {{"objectClass", {"groupOfNames"}}, {"cn", {"staff"}}};
  CHECK(m.Map("g", group, false).kind == MappedEntry::Kind::kOutOfScope);
  // With group sync, the group is in scope; the empty placeholder member
  // that keeps a groupOfNames valid is not a member.
  EntryMapper g(Rules(true), "corp", "corp/syncrepl");
  group.attrs.push_back({"member", {"", "uid=a,ou=people,dc=example,dc=com"}});
  MappedEntry out = g.Map("g", group, false);
  REQUIRE(out.kind == MappedEntry::Kind::kChange);
  CHECK(out.change.kind == ObjectKind::kGroup);
  CHECK(AttrValues(out.change.attrs, "member") ==
        std::vector<std::string>{"uid=a,ou=people,dc=example,dc=com"});
}

TEST_CASE("invalid entries become object errors naming the cause",
          "[syncrepl]") {
  EntryMapper m(Rules(false), "corp", "corp/syncrepl");
  LdapEntry bad = Person("jdoe");
  bad.problem = "attribute sn has a value that is not valid UTF-8";
  MappedEntry out = m.Map("id-2", bad, false);
  REQUIRE(out.kind == MappedEntry::Kind::kError);
  CHECK(out.error.id == "id-2");
  CHECK(out.error.dn == bad.dn);
  CHECK(out.error.message.find("not valid UTF-8") != std::string::npos);

  LdapEntry nameless = Person("jdoe");
  nameless.attrs.erase(nameless.attrs.begin() + 1);  // uid
  out = m.Map("id-3", nameless, false);
  REQUIRE(out.kind == MappedEntry::Kind::kError);
  CHECK(out.error.message.find("no uid value") != std::string::npos);

  // A name the mail side would refuse: an error here, not a failed write.
  for (const char* name : {"a,b", "x y", ".dot", "jos\xc3\xa9"}) {
    INFO(name);
    out = m.Map("id-4", Person(name), false);
    REQUIRE(out.kind == MappedEntry::Kind::kError);
    CHECK(out.error.message.find("does not make a mail address") !=
          std::string::npos);
    CHECK(out.error.message.find(std::string("uid \"") + name + "\"") !=
          std::string::npos);
  }
  CHECK(m.Map("id-5", Person("o+brien"), false).kind ==
        MappedEntry::Kind::kChange);
}

TEST_CASE("deletes carry what the log knows", "[syncrepl]") {
  EntryMapper m(Rules(false), "corp", "corp/syncrepl");
  ObjectState known;
  known.kind = ObjectKind::kAccount;
  known.id = "id-9";
  known.dn = "uid=gone,ou=people,dc=example,dc=com";
  known.domain = "example.com";
  ObservedChange d = m.Delete(known);
  CHECK(d.op == ChangeOp::kDelete);
  CHECK(d.id == "id-9");
  CHECK(d.dn == known.dn);
  CHECK(d.domain == "example.com");
  CHECK_FALSE(d.full_image);
}

}  // namespace dirledger

#include "replay/rules.h"

#include <algorithm>
#include <catch2/catch.hpp>

namespace dirledger {
namespace {

Config TwoDomains() {
  Config c;
  ConnectorConfig corp;
  corp.name = "corp";
  corp.uris = {"ldap://127.0.0.1:3890"};
  corp.account_base_dn = "uid=%u,ou=people,%D";
  corp.group_sync = true;
  corp.group_base_dn = "ou=groups,%D";
  c.connectors.push_back(corp);
  c.domains.push_back({"example.com", true, "corp"});
  c.domains.push_back({"eu.example.com", false, "corp"});
  return c;
}

AttrList Person(const char* uid) {
  return {{"objectClass", {"top", "inetOrgPerson"}}, {"uid", {uid}}};
}

}  // namespace

TEST_CASE("DNs normalize for suffix comparison", "[rules]") {
  CHECK(NormalizeDn("UID=A , OU=People,DC=Example, DC=com") ==
        "uid=a,ou=people,dc=example,dc=com");
  CHECK(NormalizeDn("cn=a\\, b,dc=x") == "cn=a\\, b,dc=x");
  CHECK(DnIsUnder("uid=a,ou=people,dc=x", "ou=people,dc=x"));
  CHECK_FALSE(DnIsUnder("uid=a,ou=xpeople,dc=x", "people,dc=x"));
  CHECK(DnIsUnder("dc=x", "dc=x"));
}

TEST_CASE("entries are classified by object class and base DN", "[rules]") {
  auto rules = RuleSet::Compile(TwoDomains());
  REQUIRE(rules.ok());
  const RuleSet& r = **rules;
  auto a = r.Classify("corp", "uid=Jdoe,ou=people,dc=example,dc=com",
                      Person("Jdoe"));
  REQUIRE(a);
  CHECK(a->kind == ObjectKind::kAccount);
  CHECK(a->domain == "example.com");
  CHECK(a->address == "jdoe@example.com");
  // The nested domain's base is more specific and wins.
  auto b = r.Classify("corp", "uid=x,ou=people,dc=eu,dc=example,dc=com",
                      Person("x"));
  REQUIRE(b);
  CHECK(b->domain == "eu.example.com");
  auto g = r.Classify("corp", "cn=staff,ou=groups,dc=example,dc=com",
                      {{"objectClass", {"groupOfNames"}}, {"cn", {"staff"}}});
  REQUIRE(g);
  CHECK(g->kind == ObjectKind::kGroup);
  CHECK_FALSE(
      r.Classify("corp", "uid=x,ou=other,dc=example,dc=com", Person("x")));
  CHECK_FALSE(r.Classify("corp", "cn=x,ou=people,dc=example,dc=com",
                         {{"objectClass", {"device"}}}));
  CHECK(r.connector("corp")->search_base == "dc=example,dc=com");
}

TEST_CASE("custom schema overrides the default map", "[rules]") {
  auto m = AttributeMap::WithCustomSchema(ServerType::kOpenLdap, R"(
[account]
name = "cn"
[account.fields]
firstName = "gn"
title = ""
mobilePhone = "cellPhone"
)",
                                          "schema.toml");
  REQUIRE(m.ok());
  CHECK(m->account.name_attribute == "cn");
  CHECK(m->account.AttributeFor("firstName") == "gn");
  CHECK(m->account.AttributeFor("title").empty());
  CHECK(m->account.FieldFor("CELLPHONE") == "mobilePhone");
  auto bad = AttributeMap::WithCustomSchema(
      ServerType::kOpenLdap, "[account.fields]\nshoeSize = \"x\"\n",
      "schema.toml");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("schema.toml:2") != std::string::npos);
  CHECK(bad.status().message().find("shoeSize") != std::string::npos);
}

TEST_CASE("AD computers are not accounts", "[rules]") {
  AttributeMap m = AttributeMap::Default(ServerType::kActiveDirectory);
  CHECK(m.account.Matches({"top", "person", "user"}));
  CHECK_FALSE(m.account.Matches({"top", "user", "computer"}));
}

TEST_CASE("a map's value attributes: aliases, members, fields; not the name",
          "[rules]") {
  const AttributeMap m = AttributeMap::Default(ServerType::kOpenLdap);
  const std::vector<std::string> account = m.account.ValueAttributes();
  REQUIRE_FALSE(account.empty());
  CHECK(account.front() == "mail");
  CHECK(std::find(account.begin(), account.end(), "mobile") != account.end());
  CHECK(std::find(account.begin(), account.end(), "uid") == account.end());
  CHECK(m.group.ValueAttributes() ==
        std::vector<std::string>{"member", "description"});
}

TEST_CASE("delete thresholds as count or percent", "[rules]") {
  ConnectorRules r;
  r.config.delete_threshold = 500;
  CHECK(r.DeleteThreshold(100000) == 500);
  r.config.delete_threshold_percent = 10;
  CHECK(r.DeleteThreshold(1000) == 100);
}

}  // namespace dirledger

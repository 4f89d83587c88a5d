#include <catch2/catch.hpp>

#include "engine/syncrepl/syncrepl_source.h"

namespace dirledger {
namespace {

Config Base() {
  Config c;
  ConnectorConfig corp;
  corp.name = "corp";
  corp.uris = {"ldap://127.0.0.1:3900"};
  corp.account_base_dn = "ou=people,%D";
  corp.group_base_dn = "ou=groups,%D";
  c.connectors.push_back(corp);
  c.domains.push_back({"example.com", true, "corp"});
  return c;
}

Result<std::unique_ptr<SyncreplSource>> Create(const Config& c) {
  auto rules = RuleSet::Compile(c);
  REQUIRE(rules.ok());
  return SyncreplSource::Create(*rules, "corp");
}

}  // namespace

TEST_CASE("the sync search follows the connector's map and scope",
          "[syncrepl]") {
  auto source = Create(Base());
  REQUIRE(source.ok());
  const SyncSearch& s = (*source)->search();
  CHECK(s.base == "ou=people,dc=example,dc=com");
  CHECK(s.filter == "(objectClass=inetOrgPerson)");
  CHECK(s.attributes.back() == "entryUUID");
  for (const std::string& a : s.attributes) CHECK_FALSE(IsSecretAttribute(a));
  // The whole entry is asked for, not only the mapped attributes.
  REQUIRE_FALSE(s.attributes.empty());
  CHECK(s.attributes.front() == "*");

  Config groups = Base();
  groups.connectors[0].group_sync = true;
  auto with_groups = Create(groups);
  REQUIRE(with_groups.ok());
  CHECK((*with_groups)->search().base == "dc=example,dc=com");
  CHECK((*with_groups)->search().filter ==
        "(|(objectClass=inetOrgPerson)(objectClass=groupOfNames))");
}

TEST_CASE("connectors syncrepl cannot serve are refused with a reason",
          "[syncrepl]") {
  Config ad = Base();
  ad.connectors[0].server_type = ServerType::kActiveDirectory;
  auto a = Create(ad);
  REQUIRE_FALSE(a.ok());
  CHECK(a.status().message().find("activedirectory") != std::string::npos);

  Config lonely = Base();
  lonely.domains.clear();
  auto l = Create(lonely);
  REQUIRE_FALSE(l.ok());
  CHECK(l.status().message().find("serves no domain") != std::string::npos);

  Config secret = Base();
  secret.connectors[0].custom_schema_file = "schema.toml";
  secret.connectors[0].custom_schema_text =
      "[account.fields]\noffice = \"userPassword\"\n";
  auto s = Create(secret);
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().message().find("userPassword") != std::string::npos);

  auto rules = RuleSet::Compile(Base());
  REQUIRE(rules.ok());
  CHECK_FALSE(SyncreplSource::Create(*rules, "nope").ok());
}

}  // namespace dirledger

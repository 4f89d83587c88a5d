#include "engine/ldap/ldap_mods.h"

#include <ldap.h>

#include <catch2/catch.hpp>

namespace dirledger {

TEST_CASE("modification lists become LDAPMod arrays", "[ldap][mods]") {
  LdapModList mods;
  mods.Append(ModOp::kReplace, "sn", {"Smith"});
  mods.Append(ModOp::kAdd, "member", {"cn=a", std::string("b\0c", 3)});
  mods.Append(ModOp::kReplace, "title", {});
  LDAPMod** m = mods.get();
  REQUIRE(m[0] != nullptr);
  CHECK(m[0]->mod_op == (LDAP_MOD_REPLACE | LDAP_MOD_BVALUES));
  CHECK(std::string(m[0]->mod_type) == "sn");
  CHECK(std::string(m[0]->mod_bvalues[0]->bv_val,
                    m[0]->mod_bvalues[0]->bv_len) == "Smith");
  CHECK(m[0]->mod_bvalues[1] == nullptr);
  CHECK(m[1]->mod_op == (LDAP_MOD_ADD | LDAP_MOD_BVALUES));
  CHECK(m[1]->mod_bvalues[1]->bv_len == 3);
  CHECK(m[2]->mod_bvalues == nullptr);
  CHECK(m[3] == nullptr);
  CHECK(mods.Describe() == "replace sn; add member (2 values); replace title");
}

TEST_CASE("an add list skips attributes without values", "[ldap][mods]") {
  LdapModList mods = LdapModList::ForAdd(
      {{"objectClass", {"inetOrgPerson"}}, {"title", {}}, {"sn", {"x"}}});
  CHECK(mods.size() == 2);
  CHECK(mods.Describe() == "add objectClass; add sn");
}

}  // namespace dirledger

#include "engine/ldap/ldap_filter.h"

#include <catch2/catch.hpp>

#include "engine/ldap/ldap_ops.h"

namespace dirledger {

TEST_CASE("filter values are escaped per RFC 4515", "[ldap][filter]") {
  CHECK(EscapeFilterValue("plain value") == "plain value");
  CHECK(EscapeFilterValue("a*(b)\\c") == "a\\2a\\28b\\29\\5cc");
  CHECK(EscapeFilterValue(std::string("nul\0byte", 8)) == "nul\\00byte");
  CHECK(EscapeFilterValue("tab\there") == "tab\\09here");
  // UTF-8 stays as it is; bytes of a non-UTF-8 value are all escaped.
  CHECK(EscapeFilterValue("J\xc3\xbcrgen") == "J\xc3\xbcrgen");
  CHECK(EscapeFilterValue("\xff\xfe"
                          "a") == "\\ff\\fea");
}

TEST_CASE("an injected filter stays a value", "[ldap][filter]") {
  CHECK(EqualityFilter("uid", "*)(uid=*") == "(uid=\\2a\\29\\28uid=\\2a)");
}

TEST_CASE("object class filters", "[ldap][filter]") {
  CHECK(ObjectClassFilter({"inetOrgPerson"}) == "(objectClass=inetOrgPerson)");
  CHECK(ObjectClassFilter({"inetOrgPerson", "groupOfNames"}) ==
        "(|(objectClass=inetOrgPerson)(objectClass=groupOfNames))");
  CHECK(ObjectClassFilter({"user"}, {"computer"}) ==
        "(&(objectClass=user)(!(objectClass=computer)))");
}

TEST_CASE("assertion filters state the expected prior values",
          "[ldap][filter]") {
  CHECK(AssertionFilter({}) == "(&)");
  CHECK(AssertionFilter({{"sn", {"Smith"}}}) == "(sn=Smith)");
  CHECK(AssertionFilter({{"sn", {"O(Brien)*"}}, {"title", {}}}) ==
        "(&(sn=O\\28Brien\\29\\2a)(!(title=*)))");
  CHECK(AssertionFilter({{"member", {"cn=a", "cn=b"}}}) ==
        "(&(member=cn=a)(member=cn=b))");
}

TEST_CASE("a DN splits into its first RDN and parent", "[ldap]") {
  CHECK(SplitFirstRdn("uid=a,ou=people,dc=x") ==
        std::pair<std::string, std::string>{"uid=a", "ou=people,dc=x"});
  CHECK(SplitFirstRdn("cn=Smith\\, John, ou=p") ==
        std::pair<std::string, std::string>{"cn=Smith\\, John", "ou=p"});
  CHECK(SplitFirstRdn("dc=x") ==
        std::pair<std::string, std::string>{"dc=x", ""});
}

TEST_CASE("RDN values are unescaped", "[ldap]") {
  auto rdn = RdnAttributes("cn=Smith\\, John+uid=js,ou=people,dc=x");
  REQUIRE(rdn.ok());
  REQUIRE(rdn->size() == 2);
  CHECK((*rdn)[0].name == "cn");
  CHECK((*rdn)[0].values[0] == "Smith, John");
  CHECK((*rdn)[1].values[0] == "js");
  CHECK_FALSE(RdnAttributes("not a dn").ok());
}

}  // namespace dirledger

#include "engine/ad_writer/ad_values.h"

#include <catch2/catch.hpp>

namespace dirledger {

TEST_CASE("DN-valued attributes compare as DNs, others bytewise",
          "[adwriter]") {
  CHECK(IsDnValued("member"));
  CHECK(IsDnValued("Manager"));
  CHECK_FALSE(IsDnValued("givenName"));
  CHECK(SameValues("member", {"CN=a, OU=People,DC=x", "CN=b,DC=x"},
                   {"cn=b,dc=x", "cn=a,ou=people,dc=x"}));
  CHECK_FALSE(SameValues("member", {"CN=a,DC=x"}, {"CN=c,DC=x"}));
  CHECK(
      SameValues("proxyAddresses", {"smtp:b", "SMTP:a"}, {"SMTP:a", "smtp:b"}));
  CHECK_FALSE(SameValues("givenName", {"alice"}, {"Alice"}));
  CHECK(SameValues("sn", {}, {}));
}

TEST_CASE("missing and present values, in the server's spelling",
          "[adwriter]") {
  const std::vector<std::string> have = {"CN=A,OU=People,DC=x", "CN=B,DC=x"};
  CHECK(MissingValues("member", {"cn=a,ou=people,dc=x", "CN=C,DC=x"}, have) ==
        std::vector<std::string>{"CN=C,DC=x"});
  CHECK(PresentValues("member", {"cn=a,ou=people,dc=x", "CN=C,DC=x"}, have) ==
        std::vector<std::string>{"CN=A,OU=People,DC=x"});
  CHECK(MissingValues("title", {"x"}, {}) == std::vector<std::string>{"x"});
}

TEST_CASE("unicodePwd is the quoted password in UTF-16LE", "[adwriter]") {
  CHECK(UnicodePwdValue("ab") == std::string("\"\0a\0b\0\"\0", 8));
  // U+00E9 and U+1F600 (a surrogate pair).
  CHECK(UnicodePwdValue("\xc3\xa9\xf0\x9f\x98\x80") ==
        std::string("\"\0\xe9\0\x3d\xd8\x00\xde\"\0", 10));
  CHECK_FALSE(UnicodePwdValue("\xff"));
  CHECK_FALSE(UnicodePwdValue("\xc3"));
}

TEST_CASE("a DN splits into its RDN and its parent", "[adwriter]") {
  CHECK(SplitDn("CN=a\\,b,OU=x,DC=y") ==
        std::make_pair(std::string("CN=a\\,b"), std::string("OU=x,DC=y")));
  CHECK(SplitDn("CN=a, OU=x") ==
        std::make_pair(std::string("CN=a"), std::string("OU=x")));
  CHECK(SplitDn("DC=y") == std::make_pair(std::string("DC=y"), std::string()));
}

TEST_CASE("values are shown shortened", "[adwriter]") {
  CHECK(ShowValues({}) == "[]");
  CHECK(ShowValues({"a", "b"}) == "[\"a\", \"b\"]");
  CHECK(ShowValues({"1", "2", "3", "4", "5", "6", "7"}) ==
        "[\"1\", \"2\", \"3\", \"4\", \"5\", ... (7 values)]");
}

}  // namespace dirledger

#include "codecs/ldif.h"

#include <catch2/catch.hpp>
#include <random>

namespace dirledger {

TEST_CASE("base64 round-trips every length", "[ldif]") {
  std::mt19937 rng(3);
  for (size_t n = 0; n < 70; ++n) {
    std::string s(n, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    auto d = Base64Decode(Base64Encode(s));
    REQUIRE(d.ok());
    CHECK(*d == s);
  }
  CHECK(Base64Encode("Man") == "TWFu");
  CHECK(Base64Encode("Ma") == "TWE=");
  CHECK_FALSE(Base64Decode("TW=u").ok());
  CHECK_FALSE(Base64Decode("TWF").ok());
  CHECK_FALSE(Base64Decode("T!Fu").ok());
}

TEST_CASE("unsafe values are base64 and long lines fold", "[ldif]") {
  std::string out;
  AppendLdifLine(&out, "cn", "plain");
  AppendLdifLine(&out, "cn", " leading space");
  AppendLdifLine(&out, "cn", "Jürgen");
  AppendLdifLine(&out, "description", std::string(200, 'x'));
  CHECK(out.find("cn: plain\n") != std::string::npos);
  CHECK(out.find("cn:: IGxlYWRpbmcgc3BhY2U=\n") != std::string::npos);
  CHECK(out.find("cn:: SsO8cmdlbg==\n") != std::string::npos);
  for (size_t p = 0, e; (e = out.find('\n', p)) != std::string::npos; p = e + 1)
    CHECK(e - p <= 76);
}

TEST_CASE("what the writer writes, the reader reads back", "[ldif]") {
  AttrList attrs = {{"objectClass", {"inetOrgPerson"}},
                    {"cn", {"Jürgen \"J\" O'Neil", " x"}},
                    {"jpegPhoto", {std::string("\xff\xd8\x00\x01", 4)}},
                    {"description", {std::string(300, 'd')}}};
  std::string text;
  AppendLdifEntry(&text, "uid=jo,ou=people,dc=example,dc=com", attrs);
  AppendLdifEntry(&text, "cn=a\\,b,dc=example,dc=com", {{"cn", {"a,b"}}});
  auto recs = ParseLdif(text);
  REQUIRE(recs.ok());
  REQUIRE(recs->size() == 2);
  CHECK((*recs)[0].attrs == attrs);
  CHECK((*recs)[1].dn == "cn=a\\,b,dc=example,dc=com");
}

TEST_CASE("change records", "[ldif]") {
  auto recs = ParseLdif(R"(version: 1
# a comment
 folded comment
dn: uid=a,dc=x
changetype: modify
replace: description
description: one
description: two
-
delete: mobile
-
add: mail
mail: a@x.com
-

dn: uid=b,dc=x
changetype: delete

dn: uid=c,dc=x
changetype: modrdn
newrdn: uid=d
deleteoldrdn: 1
newsuperior: ou=other,dc=x
)");
  REQUIRE(recs.ok());
  REQUIRE(recs->size() == 3);
  const LdifRecord& m = (*recs)[0];
  CHECK(m.change == LdifChange::kModify);
  REQUIRE(m.mods.size() == 3);
  CHECK(m.mods[0].attribute.values.size() == 2);
  CHECK(m.mods[1].op == LdifModification::Op::kDelete);
  CHECK(m.mods[1].attribute.values.empty());
  CHECK((*recs)[1].change == LdifChange::kDelete);
  CHECK((*recs)[2].new_superior == "ou=other,dc=x");
}

TEST_CASE("bad LDIF is an error naming the line", "[ldif]") {
  auto r = ParseLdif("dn: a\ncn: x\n\nnotdn: b\n");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("line 4") != std::string::npos);
  CHECK_FALSE(ParseLdif("dn: a\njpegPhoto:< file:///etc/shadow\n").ok());
  CHECK_FALSE(ParseLdif(" starts with continuation\n").ok());
  CHECK_FALSE(ParseLdif("dn: a\ncn:: !!!!\n").ok());
  CHECK_FALSE(ParseLdif("dn: a\nchangetype: frobnicate\n").ok());
}

}  // namespace dirledger

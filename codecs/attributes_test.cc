#include "codecs/attributes.h"

#include <catch2/catch.hpp>

namespace dirledger {

TEST_CASE("attribute names compare case-insensitively", "[attributes]") {
  CHECK(EqualsIgnoreCase("givenName", "GIVENNAME"));
  CHECK_FALSE(EqualsIgnoreCase("givenName", "givenNam"));
  CHECK(CompareIgnoreCase("a", "B") < 0);
  CHECK(CompareIgnoreCase("Sn", "cn") > 0);
}

TEST_CASE("canonical attribute lists are sorted, merged and deduplicated",
          "[attributes]") {
  AttrList attrs = {
      {"sn", {"b", "a", "b"}}, {"CN", {"x"}}, {"cn", {"w", "x"}}, {"mail", {}}};
  CanonicalizeAttrs(&attrs);
  REQUIRE(attrs.size() == 3);
  CHECK(attrs[0].name == "CN");
  CHECK(attrs[0].values == std::vector<std::string>{"w", "x"});
  CHECK(attrs[1].name == "mail");
  CHECK(attrs[2].values == std::vector<std::string>{"a", "b"});
  CHECK(IsCanonical(attrs));
  DropEmptyAttrs(&attrs);
  CHECK(attrs.size() == 2);
}

TEST_CASE("the same set in any order canonicalizes to the same bytes",
          "[attributes]") {
  AttrList a = {{"member", {"3", "1", "2"}}, {"cn", {"g"}}};
  AttrList b = {{"CN", {"g"}}, {"member", {"2", "3", "1", "1"}}};
  CanonicalizeAttrs(&a);
  CanonicalizeAttrs(&b);
  CHECK(a[1] == b[1]);
  CHECK(AttrValues(a, "cn") == AttrValues(b, "cn"));
}

TEST_CASE("SetAttr keeps a list canonical and removes on empty",
          "[attributes]") {
  AttrList attrs;
  SetAttr(&attrs, "sn", {"z"});
  SetAttr(&attrs, "cn", {"b", "a"});
  SetAttr(&attrs, "mail", {"m"});
  CHECK(IsCanonical(attrs));
  CHECK(FirstValue(attrs, "CN") == "a");
  SetAttr(&attrs, "MAIL", {});
  CHECK(FindAttr(attrs, "mail") == nullptr);
  CHECK(attrs.size() == 2);
}

TEST_CASE("values compare bytewise, binary values included", "[attributes]") {
  std::string bin("\x00\xff\x10", 3);
  AttrList a = {{"objectGUID", {bin}}};
  AttrList b = {{"objectguid", {std::string("\x00\xff\x11", 3)}}};
  CHECK(AttrDiffers(a, b, "objectGUID"));
  CHECK_FALSE(AttrDiffers(a, a, "OBJECTGUID"));
}

}  // namespace dirledger

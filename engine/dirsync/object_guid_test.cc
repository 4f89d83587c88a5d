#include "engine/dirsync/object_guid.h"

#include <catch2/catch.hpp>

namespace dirledger {
namespace {

std::string Bytes(std::initializer_list<int> b) {
  std::string out;
  for (int x : b) out += static_cast<char>(x);
  return out;
}

}  // namespace

TEST_CASE(
    "objectGUID bytes become the GUID string, first three fields little-endian",
    "[guid]") {
  const std::string b = Bytes({0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                               0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff});
  CHECK(FormatObjectGuid(b) == "33221100-5544-7766-8899-aabbccddeeff");
}

TEST_CASE("a GUID seen on Samba reads as Samba prints it", "[guid]") {
  // objectGUID:: 1fRbdyQVbUaAQghE+2x4ng== as returned by a Samba DC, whose
  // tools print 775bf4d5-1524-466d-8042-0844fb6c789e.
  const std::string b = Bytes({0xd5, 0xf4, 0x5b, 0x77, 0x24, 0x15, 0x6d, 0x46,
                               0x80, 0x42, 0x08, 0x44, 0xfb, 0x6c, 0x78, 0x9e});
  CHECK(FormatObjectGuid(b) == "775bf4d5-1524-466d-8042-0844fb6c789e");
  CHECK(ParseObjectGuid("775BF4D5-1524-466D-8042-0844FB6C789E") == b);
  CHECK(ParseObjectGuid("{775bf4d5-1524-466d-8042-0844fb6c789e}") == b);
}

TEST_CASE("GUID strings round-trip and bad ones are refused", "[guid]") {
  std::string b(16, '\0');
  for (int i = 0; i < 16; ++i) b[i] = static_cast<char>(i * 17 + 3);
  const std::optional<std::string> s = FormatObjectGuid(b);
  REQUIRE(s);
  CHECK(ParseObjectGuid(*s) == b);
  CHECK(IsObjectGuidString(*s));
  CHECK_FALSE(FormatObjectGuid(std::string(15, 'x')));
  CHECK_FALSE(FormatObjectGuid(""));
  CHECK_FALSE(ParseObjectGuid("775bf4d5-1524-466d-8042-0844fb6c789"));
  CHECK_FALSE(ParseObjectGuid("775bf4d5-1524-466d-8042+0844fb6c789e"));
  CHECK_FALSE(ParseObjectGuid("775bf4d5-1524-466d-8042-0844fb6c789g"));
  CHECK_FALSE(IsObjectGuidString("775BF4D5-1524-466D-8042-0844FB6C789E"));
}

}  // namespace dirledger

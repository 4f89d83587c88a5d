#include "engine/dirsync/dirsync_cursor.h"

#include <catch2/catch.hpp>

namespace dirledger {

TEST_CASE("a DirSync cursor round-trips with a binary server cookie",
          "[dirsync]") {
  DirSyncCursor c;
  c.nc_guid = "775bf4d5-1524-466d-8042-0844fb6c789e";
  c.fingerprint = 0x0123456789abcdefULL;
  c.server_cookie = std::string("MSDS\0\n\xff binary", 15);
  const std::string stored = EncodeDirSyncCursor(c);
  CHECK(stored.substr(0, 63) ==
        "dirsync1 775bf4d5-1524-466d-8042-0844fb6c789e 0123456789abcdef\n");
  Result<DirSyncCursor> back = DecodeDirSyncCursor(stored);
  REQUIRE(back.ok());
  CHECK(*back == c);
}

TEST_CASE("what is not a DirSync cursor is refused, naming why", "[dirsync]") {
  for (std::string_view bad :
       {std::string_view(""), std::string_view("MSDS\3\0\0\0raw server cookie"),
        std::string_view("dirsync1 775bf4d5-1524-466d-8042-0844fb6c789e 0123"),
        std::string_view("dirsync1 not-a-guid 0123456789abcdef\nx"),
        std::string_view("dirsync1 775bf4d5-1524-466d-8042-0844fb6c789e "
                         "0123456789abcdeX\nx"),
        std::string_view("dirsync1 775bf4d5-1524-466d-8042-0844fb6c789e "
                         "0123456789abcdef\n")}) {
    Result<DirSyncCursor> r = DecodeDirSyncCursor(bad);
    CHECK_FALSE(r.ok());
    CHECK(r.status().message().find("not a DirSync cursor") !=
          std::string::npos);
  }
}

TEST_CASE("the search fingerprint ignores attribute order and case only",
          "[dirsync]") {
  const std::uint64_t a = SearchFingerprint("DC=example,DC=test", "(f)",
                                            {"sn", "givenName", "member"});
  CHECK(a == SearchFingerprint("dc=example,dc=test", "(f)",
                               {"Member", "sn", "givenname"}));
  CHECK(a != SearchFingerprint("DC=example,DC=test", "(g)",
                               {"sn", "givenName", "member"}));
  CHECK(a != SearchFingerprint("DC=example,DC=test", "(f)",
                               {"sn", "givenName", "member", "title"}));
  CHECK(a != SearchFingerprint("DC=other,DC=test", "(f)",
                               {"sn", "givenName", "member"}));
  CHECK(a != SearchFingerprint("DC=example,DC=test", "(f)",
                               {"sn", "givenName", "member"},
                               "example.com\nou=people,dc=example,dc=test\n"));
}

}  // namespace dirledger

#include "engine/dirsync/dirsync_control.h"

#include <lber.h>
#include <ldap.h>

#include <catch2/catch.hpp>

namespace dirledger {
namespace {

std::string Hex(std::string_view s) {
  static const char* k = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out += k[c >> 4];
    out += k[c & 15];
  }
  return out;
}

// What libldap itself encodes for the same request.
std::string LibldapValue(int flags, std::string_view cookie) {
  LDAP* ld = nullptr;
  REQUIRE(ldap_initialize(&ld, "ldap://127.0.0.1:1") == LDAP_SUCCESS);
  berval c{cookie.size(), const_cast<char*>(cookie.data())};
  berval v{0, nullptr};
  REQUIRE(ldap_create_dirsync_value(ld, flags, 0, &c, &v) == LDAP_SUCCESS);
  std::string out(v.bv_val, v.bv_len);
  ber_memfree(v.bv_val);
  ldap_unbind_ext_s(ld, nullptr, nullptr);
  return out;
}

}  // namespace

TEST_CASE("INCREMENTAL_VALUES goes on the wire as a 4-byte negative INTEGER",
          "[dirsync]") {
  Result<std::string> v = EncodeDirSyncRequest(kDirSyncIncrementalValues, "");
  REQUIRE(v.ok());
  // SEQUENCE { INTEGER 0x80000000 (-2147483648), INTEGER 0, OCTET STRING "" }
  CHECK(Hex(*v) ==
        "300b"
        "020480000000"
        "020100"
        "0400");
  Result<std::string> w = EncodeDirSyncRequest(
      kDirSyncIncrementalValues | kDirSyncObjectSecurity, "ck");
  REQUIRE(w.ok());
  CHECK(Hex(*w) ==
        "300d"
        "020480000001"
        "020100"
        "0402636b");
}

TEST_CASE("the request is encoded exactly as libldap encodes it", "[dirsync]") {
  for (std::uint32_t flags :
       {0u, kDirSyncObjectSecurity, kDirSyncIncrementalValues,
        kDirSyncIncrementalValues | kDirSyncObjectSecurity |
            kDirSyncAncestorsFirstOrder | kDirSyncPublicDataOnly}) {
    const std::string cookie("MSDS\0\1\2binary", 13);
    Result<std::string> mine = EncodeDirSyncRequest(flags, cookie);
    REQUIRE(mine.ok());
    CHECK(Hex(*mine) == Hex(LibldapValue(static_cast<int>(flags), cookie)));
  }
  Result<std::string> none = EncodeDirSyncRequest(0, "");
  REQUIRE(none.ok());
  CHECK(Hex(*none) ==
        "3008"
        "020100"
        "020100"
        "0400");
}

TEST_CASE("the response control is parsed; garbage is Corruption",
          "[dirsync]") {
  // SEQUENCE { MoreResults 1, unused 0, CookieServer "abc" }
  const std::string more(
      "\x30\x0b\x02\x01\x01\x02\x01\x00\x04\x03"
      "abc",
      13);
  Result<DirSyncResponse> r = DecodeDirSyncResponse(more);
  REQUIRE(r.ok());
  CHECK(r->more_results);
  CHECK(r->cookie == "abc");
  const std::string done("\x30\x08\x02\x01\x00\x02\x01\x00\x04\x00", 10);
  r = DecodeDirSyncResponse(done);
  REQUIRE(r.ok());
  CHECK_FALSE(r->more_results);
  CHECK(r->cookie.empty());
  r = DecodeDirSyncResponse("not BER at all");
  CHECK(r.status().IsCorruption());
  r = DecodeDirSyncResponse(std::string("\x30\x03\x02\x01\x01", 5));
  CHECK(r.status().IsCorruption());
}

}  // namespace dirledger

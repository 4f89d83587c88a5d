#include "engine/syncrepl/sync_protocol.h"

#include <ldap.h>

#include <catch2/catch.hpp>

namespace dirledger {
namespace {

// BER of a refreshPresent / refreshDelete syncInfo value.
std::string Marker(ber_tag_t tag, const char* cookie,
                   int done /* -1: absent */) {
  BerElement* ber = ber_alloc_t(LBER_USE_DER);
  ber_printf(ber, "t{" /*}*/, tag);
  if (cookie) ber_printf(ber, "s", cookie);
  if (done >= 0) ber_printf(ber, "b", done);
  ber_printf(ber, /*{*/ "N}");
  berval out{};
  ber_flatten2(ber, &out, 0);
  std::string s(out.bv_val, out.bv_len);
  ber_free(ber, 1);
  return s;
}

}  // namespace

TEST_CASE("the sync request control encodes mode, cookie, reload hint",
          "[syncrepl][protocol]") {
  auto initial = EncodeSyncRequest(SyncMode::kRefreshOnly, "", false);
  REQUIRE(initial.ok());
  // SEQUENCE { ENUMERATED 1 }
  CHECK(*initial == std::string("\x30\x03\x0a\x01\x01", 5));
  auto resumed =
      EncodeSyncRequest(SyncMode::kRefreshAndPersist, "rid=000,csn=x", true);
  REQUIRE(resumed.ok());
  CHECK(*resumed == std::string("\x30\x15\x0a\x01\x03\x04\x0d"
                                "rid=000,csn=x"
                                "\x01\x01\xff",
                                23));
}

TEST_CASE("refresh markers tell present from delete", "[syncrepl][protocol]") {
  auto present = DecodeRefreshMarker(
      Marker(LDAP_TAG_SYNC_REFRESH_PRESENT, "rid=000,csn=1", 0));
  REQUIRE(present);
  CHECK(present->present);
  CHECK_FALSE(present->refresh_done);
  auto del =
      DecodeRefreshMarker(Marker(LDAP_TAG_SYNC_REFRESH_DELETE, nullptr, -1));
  REQUIRE(del);
  CHECK_FALSE(del->present);
  CHECK(del->refresh_done);  // DEFAULT TRUE
  CHECK_FALSE(DecodeRefreshMarker(std::string("\x80\x01x", 3)));  // newcookie
  CHECK_FALSE(DecodeRefreshMarker("garbage"));
}

TEST_CASE("entryUUIDs become RFC 4122 text", "[syncrepl][protocol]") {
  const std::string raw(
      "\x8e\x5f\x14\x08\x7a\x53\x10\x41\x87\xc3\xe1\xa1\x5c"
      "\x01\x3a\xb8",
      16);
  CHECK(UuidToText(raw) == "8e5f1408-7a53-1041-87c3-e1a15c013ab8");
  CHECK(UuidToText("8E5F1408-7A53-1041-87C3-E1A15C013AB8") ==
        "8e5f1408-7a53-1041-87c3-e1a15c013ab8");
  CHECK(UuidToText("short") == "");
  CHECK(UuidToText("8e5f1408x7a53-1041-87c3-e1a15c013ab8") == "");
}

}  // namespace dirledger

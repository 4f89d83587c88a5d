#include "engine/syncrepl/sync_protocol.h"

#include <ldap.h>

#include <cctype>

namespace dirledger {

Result<std::string> EncodeSyncRequest(SyncMode mode, std::string_view cookie,
                                      bool reload_hint) {
  BerElement* ber = ber_alloc_t(LBER_USE_DER);
  if (!ber) return Status::IOError("out of memory encoding a sync request");
  const ber_int_t m = mode == SyncMode::kRefreshOnly
                          ? LDAP_SYNC_REFRESH_ONLY
                          : LDAP_SYNC_REFRESH_AND_PERSIST;
  berval c{};
  c.bv_val = const_cast<char*>(cookie.data());
  c.bv_len = cookie.size();
  int rc = ber_printf(ber, "{e" /*}*/, m);
  if (rc >= 0 && !cookie.empty()) rc = ber_printf(ber, "O", &c);
  if (rc >= 0 && reload_hint) rc = ber_printf(ber, "b", 1);
  if (rc >= 0) rc = ber_printf(ber, /*{*/ "N}");
  berval out{};
  if (rc >= 0) rc = ber_flatten2(ber, &out, 0);
  std::string value;
  if (rc >= 0) value.assign(out.bv_val, out.bv_len);
  ber_free(ber, 1);
  if (rc < 0)
    return Status::IOError("encoding the sync request control failed");
  return value;
}

std::optional<RefreshMarker> DecodeRefreshMarker(std::string_view value) {
  berval bv{};
  bv.bv_val = const_cast<char*>(value.data());
  bv.bv_len = value.size();
  BerElement* ber = ber_init(&bv);
  if (!ber) return std::nullopt;
  std::optional<RefreshMarker> out;
  ber_len_t len = 0;
  const ber_tag_t tag = ber_peek_tag(ber, &len);
  if (tag == LDAP_TAG_SYNC_REFRESH_DELETE ||
      tag == LDAP_TAG_SYNC_REFRESH_PRESENT) {
    RefreshMarker m;
    m.present = tag == LDAP_TAG_SYNC_REFRESH_PRESENT;
    bool ok = ber_scanf(ber, "{" /*}*/) != LBER_ERROR;
    if (ok && ber_peek_tag(ber, &len) == LDAP_TAG_SYNC_COOKIE) {
      berval cookie{};
      ok = ber_scanf(ber, "m", &cookie) != LBER_ERROR;
    }
    if (ok && ber_peek_tag(ber, &len) == LDAP_TAG_REFRESHDONE) {
      ber_int_t done = 1;
      ok = ber_scanf(ber, "b", &done) != LBER_ERROR;
      m.refresh_done = done != 0;
    }
    if (ok) out = m;
  }
  ber_free(ber, 1);  // ber_init() copied the value
  return out;
}

std::string UuidToText(std::string_view raw) {
  static constexpr char kHex[] = "0123456789abcdef";
  if (raw.size() == 16) {
    std::string out;
    out.reserve(36);
    for (std::size_t i = 0; i < 16; ++i) {
      if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
      const auto b = static_cast<unsigned char>(raw[i]);
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 0xf]);
    }
    return out;
  }
  if (raw.size() == 36) {
    std::string out;
    for (std::size_t i = 0; i < 36; ++i) {
      const char c = raw[i];
      const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
      if (dash ? c != '-' : !std::isxdigit(static_cast<unsigned char>(c)))
        return "";
      out.push_back(
          static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
    return out;
  }
  return "";
}

}  // namespace dirledger

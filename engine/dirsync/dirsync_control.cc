#include "engine/dirsync/dirsync_control.h"

#include <lber.h>

#include <memory>

namespace dirledger {
namespace {

struct BerFree {
  void operator()(BerElement* ber) const { ber_free(ber, 1); }
};

}  // namespace

Result<std::string> EncodeDirSyncRequest(std::uint32_t flags,
                                         std::string_view cookie,
                                         std::int32_t max_bytes) {
  std::unique_ptr<BerElement, BerFree> ber(ber_alloc_t(LBER_USE_DER));
  if (!ber) return Status::IOError("DirSync control: out of memory");
  berval c;
  c.bv_val = const_cast<char*>(cookie.data());
  c.bv_len = cookie.size();
  // The flags as the C int libldap takes: bit 31 makes it negative, which
  // BER encodes in 4 bytes.
  const auto wire_flags = static_cast<ber_int_t>(flags);
  if (ber_printf(ber.get(), "{iiO}", wire_flags,
                 static_cast<ber_int_t>(max_bytes), &c) == -1)
    return Status::IOError("DirSync control: cannot encode the request");
  berval out;
  if (ber_flatten2(ber.get(), &out, 0) == -1)
    return Status::IOError("DirSync control: cannot encode the request");
  return std::string(out.bv_val, out.bv_len);
}

Result<DirSyncResponse> DecodeDirSyncResponse(std::string_view value) {
  berval v;
  v.bv_val = const_cast<char*>(value.data());
  v.bv_len = value.size();
  std::unique_ptr<BerElement, BerFree> ber(ber_init(&v));
  if (!ber) return Status::IOError("DirSync response: out of memory");
  ber_int_t more = 0;
  ber_int_t unused = 0;
  berval cookie{0, nullptr};
  if (ber_scanf(ber.get(), "{iio}", &more, &unused, &cookie) == LBER_ERROR)
    return Status::Corruption(
        "DirSync response control: not a DirSyncResponseValue (" +
        std::to_string(value.size()) + " bytes)");
  DirSyncResponse out;
  out.more_results = more != 0;
  if (cookie.bv_val) {
    out.cookie.assign(cookie.bv_val, cookie.bv_len);
    ber_memfree(cookie.bv_val);
  }
  return out;
}

}  // namespace dirledger

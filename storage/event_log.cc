// What every EventLog does the same way, over the methods each
// implementation provides.
#include "storage/event_log.h"

#include <random>

#include "codecs/event_codec.h"
#include "codecs/sha256.h"
#include "storage/log_record.h"

namespace dirledger {

std::string NewInstallationId() {
  std::random_device rd;
  std::string bytes;
  for (int i = 0; i < 4; ++i) {
    const std::uint32_t v = rd();
    bytes.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  return HexEncode(bytes);
}

Status EventLog::ReadEvent(std::uint64_t seq, Event* out) const {
  std::string raw;
  DIRLEDGER_RETURN_IF_ERROR(ReadRaw(seq, &raw));
  std::string_view payload;
  DIRLEDGER_RETURN_IF_ERROR(CheckedPayload(raw, seq, &payload, nullptr));
  return DecodeEvent(payload, seq, out);
}

}  // namespace dirledger

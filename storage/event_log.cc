// What every EventLog does the same way, over the methods each
// implementation provides.
#include "storage/event_log.h"

#include "codecs/event_codec.h"
#include "storage/log_record.h"

namespace dirledger {

Status EventLog::ReadEvent(std::uint64_t seq, Event* out) const {
  std::string raw;
  DIRLEDGER_RETURN_IF_ERROR(ReadRaw(seq, &raw));
  std::string_view payload;
  DIRLEDGER_RETURN_IF_ERROR(CheckedPayload(raw, seq, &payload, nullptr));
  return DecodeEvent(payload, seq, out);
}

}  // namespace dirledger

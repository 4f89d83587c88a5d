// What every EventLog does the same way, over the methods each
// implementation provides.
#include "storage/event_log.h"

#include <chrono>
#include <random>

#include "codecs/event_codec.h"
#include "codecs/sha256.h"
#include "storage/log_record.h"

namespace dirledger {
namespace {

class RealClock : public Clock {
 public:
  std::int64_t NowMicros() override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

}  // namespace

Clock* SystemClock() {
  static RealClock clock;
  return &clock;
}

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

Status EventLog::Scan(std::uint64_t from, std::uint64_t to,
                      const VisitFn& fn) const {
  Event event;
  Decision decision;
  Status decoded;
  DIRLEDGER_RETURN_IF_ERROR(
      ScanRecords(from, to,
                  [&](std::uint64_t seq, std::string_view payload,
                      const std::string_view* stored) {
                    decoded = DecodeEvent(payload, seq, &event);
                    if (decoded.ok() && stored)
                      decoded = DecodeDecision(*stored, seq, &decision);
                    if (!decoded.ok()) return false;
                    return fn(event, stored ? &decision : nullptr);
                  }));
  return decoded;
}

}  // namespace dirledger

#include "engine/hooks/hook_event.h"

#include <ctime>

namespace dirledger {
namespace {

std::string IsoTime(std::int64_t time_us) {
  const std::time_t secs = static_cast<std::time_t>(time_us / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec,
                static_cast<long long>(time_us % 1000000));
  return buf;
}

}  // namespace

nlohmann::json HookEventJson(const HookEvent& e) {
  nlohmann::json j;
  j["type"] = e.type;
  j["time"] = IsoTime(e.time_us);
  if (e.seq) j["seq"] = e.seq;
  auto put = [&](const char* key, const std::string& value) {
    if (!value.empty()) j[key] = value;
  };
  put("record", e.record);
  put("source", e.source);
  put("side", e.side);
  put("kind", e.kind);
  put("object", e.object);
  put("dn", e.dn);
  put("address", e.address);
  put("message", e.message);
  return j;
}

}  // namespace dirledger

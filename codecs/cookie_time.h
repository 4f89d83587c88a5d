// The time of the newest change a source's cursor covers, when the cursor
// says it: a syncrepl cookie carries the CSN of the newest change it covers
// ("rid=000,csn=20260105120000.123456Z#000000#000#000000"). `status` shows
// it as the newest change seen, and the service's metrics as a source's lag.
//
// Thread safety: pure function.
#ifndef DIRLEDGER_CODECS_COOKIE_TIME_H_
#define DIRLEDGER_CODECS_COOKIE_TIME_H_

#include <cstdint>
#include <string_view>

namespace dirledger {

// Microseconds since the epoch (whole seconds), or 0 when the cookie
// carries no time.
std::int64_t CookieChangeTimeUs(std::string_view cookie);

}  // namespace dirledger

#endif  // DIRLEDGER_CODECS_COOKIE_TIME_H_

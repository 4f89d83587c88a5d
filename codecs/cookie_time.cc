#include "codecs/cookie_time.h"

#include <cstdio>
#include <ctime>
#include <string>

namespace dirledger {

std::int64_t CookieChangeTimeUs(std::string_view cookie) {
  const size_t p = cookie.find("csn=");
  if (p == std::string_view::npos || cookie.size() < p + 4 + 15) return 0;
  // sscanf needs a terminated string; the CSN's date part is 14 digits.
  const std::string csn(cookie.substr(p + 4, 14));
  std::tm tm{};
  if (std::sscanf(csn.c_str(), "%4d%2d%2d%2d%2d%2d", &tm.tm_year, &tm.tm_mon,
                  &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
    return 0;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<std::int64_t>(timegm(&tm)) * 1000000;
}

}  // namespace dirledger

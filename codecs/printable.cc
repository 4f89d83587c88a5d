#include "codecs/printable.h"

#include <cstdio>

namespace dirledger {
namespace {

// The length of the valid UTF-8 sequence at s[i], or 0.
std::size_t Utf8Length(std::string_view s, std::size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  std::size_t n;
  if (c < 0x80)
    return 1;
  else if (c >= 0xc2 && c <= 0xdf)
    n = 2;
  else if (c >= 0xe0 && c <= 0xef)
    n = 3;
  else if (c >= 0xf0 && c <= 0xf4)
    n = 4;
  else
    return 0;
  if (i + n > s.size()) return 0;
  // No overlong forms, surrogates or code points past U+10FFFF.
  const auto c1 = static_cast<unsigned char>(s[i + 1]);
  if ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 > 0x9f) ||
      (c == 0xf0 && c1 < 0x90) || (c == 0xf4 && c1 > 0x8f))
    return 0;
  for (std::size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return 0;
  return n;
}

void AppendHex(std::string* out, const char* prefix, unsigned value,
               int digits) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%s%0*x", prefix, digits, value);
  *out += buf;
}

}  // namespace

std::string PrintableText(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (std::size_t i = 0; i < v.size();) {
    const auto c = static_cast<unsigned char>(v[i]);
    const std::size_t n = Utf8Length(v, i);
    if (n == 0) {
      AppendHex(&out, "\\x", c, 2);
      ++i;
      continue;
    }
    if (n == 1) {
      if (c == '\r')
        out += "\\r";
      else if (c == '\n')
        out += "\\n";
      else if (c == '\t')
        out += "\\t";
      else if (c < 0x20 || c == 0x7f)
        AppendHex(&out, "\\x", c, 2);
      else
        out += static_cast<char>(c);
    } else if (n == 2 && c == 0xc2 &&
               static_cast<unsigned char>(v[i + 1]) < 0xa0) {
      AppendHex(&out, "\\u", static_cast<unsigned char>(v[i + 1]), 4);
    } else {
      out.append(v.substr(i, n));
    }
    i += n;
  }
  return out;
}

}  // namespace dirledger

#include "codecs/printable.h"

#include <cstdio>

#include "codecs/utf8.h"

namespace dirledger {
namespace {

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
    const std::size_t n = Utf8SequenceLength(v, i);
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

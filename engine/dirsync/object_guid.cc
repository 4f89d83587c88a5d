#include "engine/dirsync/object_guid.h"

#include <array>

namespace dirledger {
namespace {

// Position in the 16 bytes of each byte of the string form, in string order:
// Data1..Data3 reversed (little-endian), Data4 as is.
constexpr std::array<int, kObjectGuidSize> kStringOrder = {
    3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};

// Byte (in string order) before which the string has a '-'.
bool DashBefore(std::size_t k) { return k == 4 || k == 6 || k == 8 || k == 10; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<std::string> FormatObjectGuid(std::string_view bytes) {
  if (bytes.size() != kObjectGuidSize) return std::nullopt;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (std::size_t k = 0; k < kObjectGuidSize; ++k) {
    if (DashBefore(k)) out += '-';
    const auto b = static_cast<unsigned char>(bytes[kStringOrder[k]]);
    out += kHex[b >> 4];
    out += kHex[b & 0xf];
  }
  return out;
}

std::optional<std::string> ParseObjectGuid(std::string_view text) {
  if (text.size() == 38 && text.front() == '{' && text.back() == '}')
    text = text.substr(1, 36);
  if (text.size() != 36) return std::nullopt;
  std::string out(kObjectGuidSize, '\0');
  std::size_t pos = 0;
  for (std::size_t k = 0; k < kObjectGuidSize; ++k) {
    if (DashBefore(k)) {
      if (text[pos] != '-') return std::nullopt;
      ++pos;
    }
    const int hi = HexValue(text[pos]);
    const int lo = HexValue(text[pos + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[kStringOrder[k]] = static_cast<char>((hi << 4) | lo);
    pos += 2;
  }
  return out;
}

bool IsObjectGuidString(std::string_view text) {
  if (text.size() != 36) return false;
  const std::optional<std::string> bytes = ParseObjectGuid(text);
  return bytes && *FormatObjectGuid(*bytes) == text;
}

}  // namespace dirledger

#include "engine/ad_writer/ad_values.h"

#include <algorithm>

#include "codecs/attributes.h"
#include "replay/rules.h"

namespace dirledger {
namespace {

std::string Key(std::string_view name, std::string_view value) {
  return IsDnValued(name) ? NormalizeDn(value) : std::string(value);
}

std::vector<std::string> Keys(std::string_view name,
                              const std::vector<std::string>& values) {
  std::vector<std::string> out;
  out.reserve(values.size());
  for (const std::string& v : values) out.push_back(Key(name, v));
  CanonicalizeValues(&out);
  return out;
}

}  // namespace

bool IsDnValued(std::string_view name) {
  for (std::string_view dn_attr :
       {"member", "manager", "secretary", "seeAlso", "managedBy"})
    if (EqualsIgnoreCase(name, dn_attr)) return true;
  return false;
}

bool SameValues(std::string_view name, std::vector<std::string> a,
                std::vector<std::string> b) {
  return Keys(name, a) == Keys(name, b);
}

std::vector<std::string> MissingValues(std::string_view name,
                                       const std::vector<std::string>& want,
                                       const std::vector<std::string>& have) {
  const std::vector<std::string> keys = Keys(name, have);
  std::vector<std::string> out;
  for (const std::string& v : want)
    if (!std::binary_search(keys.begin(), keys.end(), Key(name, v)))
      out.push_back(v);
  CanonicalizeValues(&out);
  return out;
}

std::vector<std::string> PresentValues(std::string_view name,
                                       const std::vector<std::string>& want,
                                       const std::vector<std::string>& have) {
  const std::vector<std::string> keys = Keys(name, want);
  std::vector<std::string> out;
  for (const std::string& v : have)
    if (std::binary_search(keys.begin(), keys.end(), Key(name, v)))
      out.push_back(v);
  CanonicalizeValues(&out);
  return out;
}

std::optional<std::string> UnicodePwdValue(std::string_view password) {
  const std::string quoted = "\"" + std::string(password) + "\"";
  std::string out;
  out.reserve(quoted.size() * 2);
  for (size_t i = 0; i < quoted.size();) {
    const auto c = static_cast<unsigned char>(quoted[i]);
    std::uint32_t cp;
    size_t n;
    if (c < 0x80) {
      cp = c;
      n = 0;
    } else if ((c & 0xe0) == 0xc0) {
      cp = c & 0x1f;
      n = 1;
    } else if ((c & 0xf0) == 0xe0) {
      cp = c & 0x0f;
      n = 2;
    } else if ((c & 0xf8) == 0xf0) {
      cp = c & 0x07;
      n = 3;
    } else {
      return std::nullopt;
    }
    if (quoted.size() - i <= n) return std::nullopt;
    for (size_t k = 1; k <= n; ++k) {
      const auto cc = static_cast<unsigned char>(quoted[i + k]);
      if ((cc & 0xc0) != 0x80) return std::nullopt;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return std::nullopt;
    auto put = [&](std::uint32_t u) {
      out += static_cast<char>(u & 0xff);
      out += static_cast<char>((u >> 8) & 0xff);
    };
    if (cp >= 0x10000) {
      cp -= 0x10000;
      put(0xd800 + (cp >> 10));
      put(0xdc00 + (cp & 0x3ff));
    } else {
      put(cp);
    }
    i += n + 1;
  }
  return out;
}

std::pair<std::string, std::string> SplitDn(std::string_view dn) {
  for (size_t i = 0; i < dn.size(); ++i) {
    if (dn[i] == '\\') {
      ++i;
      continue;
    }
    if (dn[i] == ',') {
      size_t rest = i + 1;
      while (rest < dn.size() && dn[rest] == ' ') ++rest;
      return {std::string(dn.substr(0, i)), std::string(dn.substr(rest))};
    }
  }
  return {std::string(dn), ""};
}

std::string ShowValues(const std::vector<std::string>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i == 5) {
      out += ", ... (" + std::to_string(values.size()) + " values)";
      break;
    }
    if (i > 0) out += ", ";
    out += "\"" + values[i] + "\"";
  }
  return out + "]";
}

}  // namespace dirledger

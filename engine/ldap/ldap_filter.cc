#include "engine/ldap/ldap_filter.h"

#include "codecs/utf8.h"

namespace dirledger {
namespace {

void AppendHexEscape(unsigned char c, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('\\');
  out->push_back(kHex[c >> 4]);
  out->push_back(kHex[c & 0xf]);
}

std::string Combine(char op, const std::vector<std::string>& filters) {
  if (filters.size() == 1) return filters[0];
  std::string out = "(";
  out += op;
  for (const std::string& f : filters) out += f;
  out += ')';
  return out;
}

}  // namespace

std::string EscapeFilterValue(std::string_view value) {
  const bool utf8 = IsValidUtf8(value);
  std::string out;
  out.reserve(value.size() + 8);
  for (char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '*' || c == '(' || c == ')' || c == '\\' || c < 0x20 ||
        c == 0x7f || (!utf8 && c >= 0x80)) {
      AppendHexEscape(c, &out);
    } else {
      out.push_back(ch);
    }
  }
  return out;
}

std::string EqualityFilter(std::string_view attr, std::string_view value) {
  std::string out = "(";
  out += attr;
  out += '=';
  out += EscapeFilterValue(value);
  out += ')';
  return out;
}

std::string PresenceFilter(std::string_view attr) {
  return "(" + std::string(attr) + "=*)";
}

std::string AndFilter(const std::vector<std::string>& filters) {
  return Combine('&', filters);
}

std::string OrFilter(const std::vector<std::string>& filters) {
  return Combine('|', filters);
}

std::string NotFilter(std::string_view filter) {
  return "(!" + std::string(filter) + ")";
}

std::string ObjectClassFilter(const std::vector<std::string>& classes,
                              const std::vector<std::string>& excluded) {
  std::vector<std::string> any;
  for (const std::string& c : classes)
    any.push_back(EqualityFilter("objectClass", c));
  std::vector<std::string> parts = {OrFilter(any)};
  for (const std::string& c : excluded)
    parts.push_back(NotFilter(EqualityFilter("objectClass", c)));
  return AndFilter(parts);
}

std::string AssertionFilter(const AttrList& expect) {
  std::vector<std::string> parts;
  for (const Attribute& a : expect) {
    if (a.values.empty()) {
      parts.push_back(NotFilter(PresenceFilter(a.name)));
      continue;
    }
    for (const std::string& v : a.values)
      parts.push_back(EqualityFilter(a.name, v));
  }
  if (parts.empty()) return "(&)";
  return AndFilter(parts);
}

}  // namespace dirledger

// Attributes and their canonical form. LDAP attribute names (and Axigen field
// names) compare case-insensitively; a value set is canonical when its values
// are sorted bytewise and deduplicated; an attribute list is canonical when it
// is sorted by lower-cased name with one entry per name. Canonical forms make
// decisions byte-for-byte reproducible, whatever order a server sent things.
//
// Values compare bytewise: a change of case in a value is a change.
//
// Thread safety: plain values and pure functions.
#ifndef DIRLEDGER_CODECS_ATTRIBUTES_H_
#define DIRLEDGER_CODECS_ATTRIBUTES_H_

#include <string>
#include <string_view>
#include <vector>

namespace dirledger {

struct Attribute {
  std::string name;
  std::vector<std::string> values;

  friend bool operator==(const Attribute&, const Attribute&) = default;
};

using AttrList = std::vector<Attribute>;

// ASCII lower-casing (attribute names are ASCII by RFC 4512).
std::string AsciiLower(std::string_view s);
constexpr char AsciiLowerChar(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// Case-insensitive comparisons, inline: they decide every attribute lookup.
// Bytes that are equal need no lower-casing; names compared mostly agree
// byte for byte or differ in their first letter.
inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a == b) return true;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i] != b[i] && AsciiLowerChar(a[i]) != AsciiLowerChar(b[i]))
      return false;
  return true;
}
// <0, 0, >0 comparing ASCII-lower-cased forms.
inline int CompareIgnoreCase(std::string_view a, std::string_view b) {
  const size_t n = a.size() < b.size() ? a.size() : b.size();
  for (size_t i = 0; i < n; ++i) {
    if (a[i] == b[i]) continue;
    const auto ca = static_cast<unsigned char>(AsciiLowerChar(a[i]));
    const auto cb = static_cast<unsigned char>(AsciiLowerChar(b[i]));
    if (ca != cb) return ca < cb ? -1 : 1;
  }
  if (a.size() == b.size()) return 0;
  return a.size() < b.size() ? -1 : 1;
}

// Sorts and deduplicates values bytewise.
void CanonicalizeValues(std::vector<std::string>* values);

// Sorts by lower-cased name, merges same-named attributes (keeping the first
// spelling of the name), canonicalizes every value set. Attributes without
// values are kept (in a replacement list they mean "remove").
void CanonicalizeAttrs(AttrList* attrs);

// Removes attributes that have no values.
void DropEmptyAttrs(AttrList* attrs);

// Case-insensitive lookup; binary search when `attrs` is canonical.
const Attribute* FindAttr(const AttrList& attrs, std::string_view name);
Attribute* FindAttr(AttrList* attrs, std::string_view name);
bool IsCanonical(const AttrList& attrs);

// Values of `name`, or an empty list.
const std::vector<std::string>& AttrValues(const AttrList& attrs,
                                           std::string_view name);
// First value of `name`, or "".
std::string_view FirstValue(const AttrList& attrs, std::string_view name);

// Sets `name` to `values` in a canonical list, keeping it canonical; empty
// `values` removes the attribute.
void SetAttr(AttrList* attrs, std::string_view name,
             std::vector<std::string> values);

// Whether the value sets of `name` differ between two canonical lists.
bool AttrDiffers(const AttrList& a, const AttrList& b, std::string_view name);

}  // namespace dirledger

#endif  // DIRLEDGER_CODECS_ATTRIBUTES_H_

#include "codecs/attributes.h"

#include <algorithm>
#include <utility>

namespace dirledger {
namespace {

const std::vector<std::string>& EmptyValues() {
  static const std::vector<std::string> kEmpty;
  return kEmpty;
}

}  // namespace

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = AsciiLowerChar(c);
  return out;
}

void CanonicalizeValues(std::vector<std::string>* values) {
  if (values->size() < 2) return;
  std::sort(values->begin(), values->end());
  values->erase(std::unique(values->begin(), values->end()), values->end());
}

void CanonicalizeAttrs(AttrList* attrs) {
  std::stable_sort(attrs->begin(), attrs->end(),
                   [](const Attribute& a, const Attribute& b) {
                     return CompareIgnoreCase(a.name, b.name) < 0;
                   });
  // Merge runs of equal names into the first of the run.
  size_t out = 0;
  for (size_t i = 0; i < attrs->size(); ++i) {
    if (out > 0 && EqualsIgnoreCase((*attrs)[out - 1].name, (*attrs)[i].name)) {
      auto& dst = (*attrs)[out - 1].values;
      auto& src = (*attrs)[i].values;
      dst.insert(dst.end(), std::make_move_iterator(src.begin()),
                 std::make_move_iterator(src.end()));
      continue;
    }
    if (out != i) (*attrs)[out] = std::move((*attrs)[i]);
    ++out;
  }
  attrs->resize(out);
  for (Attribute& a : *attrs) CanonicalizeValues(&a.values);
}

void DropEmptyAttrs(AttrList* attrs) {
  attrs->erase(
      std::remove_if(attrs->begin(), attrs->end(),
                     [](const Attribute& a) { return a.values.empty(); }),
      attrs->end());
}

bool IsCanonical(const AttrList& attrs) {
  for (size_t i = 0; i < attrs.size(); ++i) {
    if (i > 0 && CompareIgnoreCase(attrs[i - 1].name, attrs[i].name) >= 0)
      return false;
    const auto& v = attrs[i].values;
    for (size_t j = 1; j < v.size(); ++j)
      if (!(v[j - 1] < v[j])) return false;
  }
  return true;
}

const Attribute* FindAttr(const AttrList& attrs, std::string_view name) {
  auto it = std::lower_bound(attrs.begin(), attrs.end(), name,
                             [](const Attribute& a, std::string_view n) {
                               return CompareIgnoreCase(a.name, n) < 0;
                             });
  if (it != attrs.end() && EqualsIgnoreCase(it->name, name)) return &*it;
  // Not canonical (or not found): fall back to a linear scan.
  for (const Attribute& a : attrs)
    if (EqualsIgnoreCase(a.name, name)) return &a;
  return nullptr;
}

Attribute* FindAttr(AttrList* attrs, std::string_view name) {
  return const_cast<Attribute*>(FindAttr(std::as_const(*attrs), name));
}

const std::vector<std::string>& AttrValues(const AttrList& attrs,
                                           std::string_view name) {
  const Attribute* a = FindAttr(attrs, name);
  return a ? a->values : EmptyValues();
}

std::string_view FirstValue(const AttrList& attrs, std::string_view name) {
  const auto& v = AttrValues(attrs, name);
  return v.empty() ? std::string_view() : std::string_view(v.front());
}

void SetAttr(AttrList* attrs, std::string_view name,
             std::vector<std::string> values) {
  CanonicalizeValues(&values);
  auto it = std::lower_bound(attrs->begin(), attrs->end(), name,
                             [](const Attribute& a, std::string_view n) {
                               return CompareIgnoreCase(a.name, n) < 0;
                             });
  const bool found = it != attrs->end() && EqualsIgnoreCase(it->name, name);
  if (values.empty()) {
    if (found) attrs->erase(it);
    return;
  }
  if (found) {
    it->values = std::move(values);
  } else {
    attrs->insert(it, Attribute{std::string(name), std::move(values)});
  }
}

bool AttrDiffers(const AttrList& a, const AttrList& b, std::string_view name) {
  return AttrValues(a, name) != AttrValues(b, name);
}

}  // namespace dirledger

#include "replay/intent_writes.h"

#include <algorithm>

namespace dirledger {

bool HasValueIgnoreCase(const std::vector<std::string>& values,
                        std::string_view v) {
  return std::any_of(values.begin(), values.end(), [&](const std::string& x) {
    return EqualsIgnoreCase(x, v);
  });
}

std::vector<std::string> ValuesNotIn(const std::vector<std::string>& values,
                                     const std::vector<std::string>& other) {
  std::vector<std::string> out;
  for (const std::string& v : values)
    if (!HasValueIgnoreCase(other, v)) out.push_back(v);
  return out;
}

namespace {

void AddAndDelete(const Intent& intent, AttrList* attrs) {
  for (const Attribute& a : intent.add_values) {
    std::vector<std::string> values = AttrValues(*attrs, a.name);
    bool changed = false;
    for (const std::string& v : a.values)
      if (!HasValueIgnoreCase(values, v)) {
        values.push_back(v);
        changed = true;
      }
    if (changed) SetAttr(attrs, a.name, std::move(values));
  }
  for (const Attribute& a : intent.delete_values) {
    const Attribute* cur = FindAttr(*attrs, a.name);
    if (!cur) continue;
    std::vector<std::string> values;
    for (const std::string& v : cur->values)
      if (!HasValueIgnoreCase(a.values, v)) values.push_back(v);
    if (values.size() != cur->values.size())
      SetAttr(attrs, a.name, std::move(values));
  }
}

}  // namespace

void ApplyWrites(const Intent& intent, AttrList* attrs) {
  for (const Attribute& a : intent.set) SetAttr(attrs, a.name, a.values);
  AddAndDelete(intent, attrs);
}

void ApplyWritesWhereExpected(const Intent& intent, AttrList* attrs) {
  for (const Attribute& a : intent.set) {
    const Attribute* e = FindAttr(intent.expect, a.name);
    if (e && AttrValues(*attrs, a.name) != e->values) continue;
    SetAttr(attrs, a.name, a.values);
  }
  AddAndDelete(intent, attrs);
}

bool WritesVisible(const Intent& intent, const AttrList* attrs) {
  if (intent.op == IntentOp::kDelete) return attrs == nullptr;
  if (!attrs) return false;
  for (const Attribute& a : intent.set)
    if (AttrValues(*attrs, a.name) != a.values) return false;
  for (const Attribute& a : intent.add_values) {
    const auto& cur = AttrValues(*attrs, a.name);
    for (const std::string& v : a.values)
      if (!HasValueIgnoreCase(cur, v)) return false;
  }
  for (const Attribute& a : intent.delete_values) {
    const auto& cur = AttrValues(*attrs, a.name);
    for (const std::string& v : a.values)
      if (HasValueIgnoreCase(cur, v)) return false;
  }
  return true;
}

bool ExpectHolds(const Intent& intent, const AttrList* attrs) {
  if (intent.op == IntentOp::kAdd || IsMailRename(intent))
    return attrs == nullptr;
  if (!attrs) return false;
  for (const Attribute& a : intent.expect)
    if (AttrValues(*attrs, a.name) != a.values) return false;
  return true;
}

}  // namespace dirledger

#include "engine/ldap/write_plan.h"

#include <algorithm>

#include "engine/ldap/ldap_filter.h"
#include "replay/rules.h"

namespace dirledger {
namespace {

bool Listed(const std::vector<std::string>& names, std::string_view name) {
  return std::any_of(names.begin(), names.end(), [&](const std::string& n) {
    return EqualsIgnoreCase(n, name);
  });
}

// The comparable form of the values of `attribute`: normalized, sorted,
// deduplicated, without the placeholder.
std::vector<std::string> Key(const ValueRules& rules,
                             std::string_view attribute,
                             const std::vector<std::string>& values) {
  const bool ci = Listed(rules.case_insensitive, attribute);
  const bool dn = Listed(rules.dn_valued, attribute);
  const bool keep_one = !rules.keep_one_attribute.empty() &&
                        EqualsIgnoreCase(rules.keep_one_attribute, attribute);
  std::vector<std::string> out;
  out.reserve(values.size());
  for (const std::string& v : values) {
    if (keep_one && v == rules.placeholder_value) continue;
    out.push_back(dn ? NormalizeDn(v) : ci ? AsciiLower(v) : v);
  }
  CanonicalizeValues(&out);
  return out;
}

bool Contains(const ValueRules& rules, std::string_view attribute,
              const std::vector<std::string>& values, const std::string& v) {
  const std::vector<std::string> k = Key(rules, attribute, values);
  const std::vector<std::string> one = Key(rules, attribute, {v});
  return one.empty() || std::binary_search(k.begin(), k.end(), one[0]);
}

std::string Quote(const std::vector<std::string>& values) {
  if (values.empty()) return "(none)";
  std::string out;
  for (const std::string& v : values) {
    if (!out.empty()) out += ", ";
    out += "\"" + (v.size() > 80 ? v.substr(0, 77) + "..." : v) + "\"";
  }
  return out;
}

const std::vector<std::string>& Values(const AttrList& attrs,
                                       std::string_view name) {
  static const std::vector<std::string> kNone;
  for (const Attribute& a : attrs)
    if (EqualsIgnoreCase(a.name, name)) return a.values;
  return kNone;
}

const Attribute* Find(const AttrList& attrs, std::string_view name) {
  for (const Attribute& a : attrs)
    if (EqualsIgnoreCase(a.name, name)) return &a;
  return nullptr;
}

}  // namespace

bool SameValues(const ValueRules& rules, std::string_view attribute,
                const std::vector<std::string>& a,
                const std::vector<std::string>& b) {
  return Key(rules, attribute, a) == Key(rules, attribute, b);
}

std::vector<std::string> ExpectMismatches(const ValueRules& rules,
                                          const AttrList& current,
                                          const AttrList& expect) {
  std::vector<std::string> out;
  for (const Attribute& e : expect) {
    const auto& cur = Values(current, e.name);
    if (!SameValues(rules, e.name, cur, e.values))
      out.push_back(e.name + ": expected " + Quote(e.values) + ", found " +
                    Quote(cur));
  }
  return out;
}

WritePlan PlanModify(const ValueRules& rules, const AttrList& current,
                     const Intent& intent) {
  WritePlan plan;
  AttrList asserted;
  // Whether `name` may change: true when it is as expected (or nothing is
  // expected of it); records a conflict otherwise.
  auto may_change = [&](const std::string& name) {
    const Attribute* e = Find(intent.expect, name);
    if (!e) return true;
    const auto& cur = Values(current, name);
    if (!SameValues(rules, name, cur, e->values)) {
      plan.conflicts.push_back(name + ": expected " + Quote(e->values) +
                               ", found " + Quote(cur));
      return false;
    }
    if (!Find(asserted, name)) asserted.push_back(*e);
    return true;
  };
  const bool has_keep_one = !rules.keep_one_attribute.empty();
  auto is_keep_one = [&](std::string_view name) {
    return has_keep_one && EqualsIgnoreCase(rules.keep_one_attribute, name);
  };

  for (const Attribute& s : intent.set) {
    const auto& cur = Values(current, s.name);
    if (SameValues(rules, s.name, cur, s.values)) continue;
    if (!may_change(s.name)) continue;
    std::vector<std::string> values = s.values;
    if (is_keep_one(s.name) && Key(rules, s.name, values).empty())
      values = {rules.placeholder_value};
    plan.mods.Append(ModOp::kReplace, s.name, std::move(values));
  }
  // Value additions and removals, attribute by attribute.
  std::vector<std::string> names;
  for (const AttrList* l : {&intent.add_values, &intent.delete_values})
    for (const Attribute& a : *l)
      if (!Listed(names, a.name)) names.push_back(a.name);
  for (const std::string& name : names) {
    const auto& cur = Values(current, name);
    std::vector<std::string> to_add, to_delete;
    if (const Attribute* a = Find(intent.add_values, name))
      for (const std::string& v : a->values)
        if (!Contains(rules, name, cur, v) && !Contains(rules, name, to_add, v))
          to_add.push_back(v);
    if (const Attribute* d = Find(intent.delete_values, name)) {
      for (const std::string& v : d->values) {
        if (!Contains(rules, name, cur, v)) continue;
        // Delete the value as the entry spells it.
        for (const std::string& c : cur)
          if (Key(rules, name, {c}) == Key(rules, name, {v}))
            to_delete.push_back(c);
      }
    }
    if (to_add.empty() && to_delete.empty()) continue;
    if (!may_change(name)) continue;
    if (is_keep_one(name)) {
      // Keep the placeholder exactly when no real value is left.
      std::vector<std::string> after = Key(rules, name, cur);
      for (const std::string& v : Key(rules, name, to_delete))
        after.erase(std::remove(after.begin(), after.end(), v), after.end());
      const bool empty_after = after.empty() && to_add.empty();
      const bool has_placeholder =
          std::find(cur.begin(), cur.end(), rules.placeholder_value) !=
          cur.end();
      if (empty_after && !has_placeholder)
        to_add.push_back(rules.placeholder_value);
      if (!empty_after && has_placeholder)
        to_delete.push_back(rules.placeholder_value);
    }
    // Add first: a delete of the last value is then never transient.
    if (!to_add.empty()) plan.mods.Append(ModOp::kAdd, name, std::move(to_add));
    if (!to_delete.empty())
      plan.mods.Append(ModOp::kDelete, name, std::move(to_delete));
  }
  if (!plan.conflicts.empty()) {
    plan.mods = LdapModList();
    return plan;
  }
  plan.already_applied = plan.mods.empty();
  if (!asserted.empty()) plan.assertion = AssertionFilter(asserted);
  return plan;
}

std::vector<std::string> MissingFromEntry(const ValueRules& rules,
                                          const AttrList& current,
                                          const AttrList& desired) {
  std::vector<std::string> out;
  for (const Attribute& d : desired) {
    const auto& cur = Values(current, d.name);
    bool ok;
    if (EqualsIgnoreCase(d.name, "objectClass")) {
      ok = std::all_of(d.values.begin(), d.values.end(),
                       [&](const std::string& v) {
                         return Contains(rules, d.name, cur, v);
                       });
    } else {
      ok = SameValues(rules, d.name, cur, d.values);
    }
    if (!ok)
      out.push_back(d.name + ": intended " + Quote(d.values) + ", found " +
                    Quote(cur));
  }
  return out;
}

}  // namespace dirledger

#include "replay/image_plan.h"

#include <algorithm>
#include <utility>

namespace dirledger {
namespace {

bool NamesInOrder(const AttrList& attrs) {
  for (size_t i = 1; i < attrs.size(); ++i)
    if (CompareIgnoreCase(attrs[i - 1].name, attrs[i].name) > 0) return false;
  return true;
}

void SortSources(std::vector<ImagePlan::Source>* sources) {
  std::stable_sort(sources->begin(), sources->end(),
                   [](const ImagePlan::Source& a, const ImagePlan::Source& b) {
                     return CompareIgnoreCase(a.attribute, b.attribute) < 0;
                   });
}

}  // namespace

ImagePlan::ImagePlan(const ObjectMap& map)
    : aliases_prefix_(map.aliases_prefix) {
  // Field names are unique (a custom schema replaces a field of the same
  // name), and aliases and members are no contact fields.
  struct Entry {
    Field field;
    std::string ldap_attribute;
  };
  std::vector<Entry> entries;
  auto add = [&entries](std::string_view name, Role role,
                        const std::string& attribute) {
    Entry& e = entries.emplace_back();
    e.field.name = name;
    e.field.role = role;
    e.ldap_attribute = attribute;
  };
  for (const FieldMapping& f : map.fields)
    add(f.field, Role::kContact, f.attribute);
  if (!map.aliases_attribute.empty())
    add(field::kAliases, Role::kAliases, map.aliases_attribute);
  if (!map.members_attribute.empty())
    add(field::kMembers, Role::kMembers, map.members_attribute);
  std::stable_sort(entries.begin(), entries.end(),
                   [](const Entry& a, const Entry& b) {
                     return CompareIgnoreCase(a.field.name, b.field.name) < 0;
                   });
  entries.resize(std::min(entries.size(), kMaxFields));
  for (size_t i = 0; i < entries.size(); ++i) {
    const auto index = static_cast<std::uint8_t>(i);
    fields_.push_back(entries[i].field);
    ldap_sources_.push_back({std::move(entries[i].ldap_attribute), index});
    mail_sources_.push_back({entries[i].field.name, index});
  }
  SortSources(&ldap_sources_);
  SortSources(&mail_sources_);
}

void ImagePlan::Find(const AttrList& attrs, bool ldap, Found* found) const {
  found->fill(nullptr);
  const std::vector<Source>& sources = ldap ? ldap_sources_ : mail_sources_;
  if (!NamesInOrder(attrs)) {
    for (const Source& s : sources)
      if (const Attribute* a = FindAttr(attrs, s.attribute))
        (*found)[s.field] = &a->values;
    return;
  }
  // Both in canonical order: the first attribute not before a source's name
  // is the one FindAttr finds (the first of equal names).
  size_t i = 0;
  for (const Source& s : sources) {
    while (i < attrs.size()) {
      const int c = CompareIgnoreCase(attrs[i].name, s.attribute);
      if (c < 0) {
        ++i;
        continue;
      }
      if (c == 0) (*found)[s.field] = &attrs[i].values;
      break;
    }
  }
}

}  // namespace dirledger

#include "engine/dirsync/dirsync_entry.h"

#include <algorithm>
#include <utility>

#include "engine/dirsync/object_guid.h"

namespace dirledger {
namespace {

bool LessIgnoreCase(const std::string& a, const std::string& b) {
  return CompareIgnoreCase(a, b) < 0;
}

void AppendValues(AttrList* list, std::string_view name,
                  std::vector<std::string> values) {
  for (Attribute& a : *list) {
    if (EqualsIgnoreCase(a.name, name)) {
      a.values.insert(a.values.end(), std::make_move_iterator(values.begin()),
                      std::make_move_iterator(values.end()));
      return;
    }
  }
  list->push_back({std::string(name), std::move(values)});
}

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t n;  // continuation bytes
    std::uint32_t cp;
    if ((c & 0xe0) == 0xc0) {
      n = 1;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (s.size() - i <= n) return false;
    for (size_t k = 1; k <= n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    // Overlong forms, surrogates, beyond U+10FFFF.
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
        (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += n + 1;
  }
  return true;
}

// The attribute type and (unescaped) value of a DN's first RDN; nullopt for
// a multi-valued RDN or one that cannot be read.
std::optional<std::pair<std::string, std::string>> FirstRdn(
    std::string_view dn) {
  const size_t eq = dn.find('=');
  if (eq == std::string_view::npos || eq == 0) return std::nullopt;
  std::string type(dn.substr(0, eq));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  std::string value;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = eq + 1; i < dn.size(); ++i) {
    const char c = dn[i];
    if (c == ',') break;
    if (c == '+') return std::nullopt;
    if (c == '\\' && i + 1 < dn.size()) {
      const int h = hex(dn[i + 1]);
      const int l = i + 2 < dn.size() ? hex(dn[i + 2]) : -1;
      if (h >= 0 && l >= 0) {
        value += static_cast<char>((h << 4) | l);
        i += 2;
      } else {
        value += dn[i + 1];
        ++i;
      }
      continue;
    }
    value += c;
  }
  return std::make_pair(std::move(type), std::move(value));
}

}  // namespace

void AddEntryAttribute(DirSyncEntry* entry, std::string_view description,
                       std::vector<std::string> values) {
  const size_t semi = description.find(';');
  const std::string_view name = description.substr(0, semi);
  const std::string_view options = semi == std::string_view::npos
                                       ? std::string_view()
                                       : description.substr(semi);
  if (EqualsIgnoreCase(name, "objectGUID")) {
    const std::optional<std::string> guid =
        values.size() == 1 ? FormatObjectGuid(values[0]) : std::nullopt;
    entry->guid = guid.value_or("");
    return;
  }
  if (EqualsIgnoreCase(name, "isDeleted")) {
    entry->is_deleted = std::any_of(
        values.begin(), values.end(),
        [](const std::string& v) { return EqualsIgnoreCase(v, "TRUE"); });
    return;
  }
  if (EqualsIgnoreCase(name, "whenCreated")) {
    entry->created = !values.empty();
    return;
  }
  if (EqualsIgnoreCase(options, ";range=1-1")) {
    AppendValues(&entry->value_adds, name, std::move(values));
  } else if (EqualsIgnoreCase(options, ";range=0-0")) {
    AppendValues(&entry->value_deletes, name, std::move(values));
  } else {
    AppendValues(&entry->attrs, name, std::move(values));
  }
}

std::vector<std::string> DirSyncSearchAttributes(const AttributeMap& map,
                                                 bool group_sync) {
  AttributeMap m = map;
  if (!group_sync) m.group = m.account;
  std::vector<std::string> out = m.RequestedAttributes();
  for (const char* extra : {"objectGUID", "isDeleted", "whenCreated", "name"})
    out.push_back(extra);
  std::sort(out.begin(), out.end(), LessIgnoreCase);
  out.erase(std::unique(out.begin(), out.end(),
                        [](const std::string& a, const std::string& b) {
                          return EqualsIgnoreCase(a, b);
                        }),
            out.end());
  return out;
}

std::string DirSyncSearchFilter(const AttributeMap& map, bool group_sync) {
  auto kind_filter = [](const ObjectMap& m) {
    std::string any;
    for (const std::string& c : m.object_classes)
      any += "(objectClass=" + c + ")";
    if (m.object_classes.size() > 1) any = "(|" + any + ")";
    if (m.excluded_classes.empty()) return any;
    std::string out = "(&" + any;
    for (const std::string& c : m.excluded_classes)
      out += "(!(objectClass=" + c + "))";
    return out + ")";
  };
  std::string f = kind_filter(map.account);
  if (group_sync) f = "(|" + f + kind_filter(map.group) + ")";
  return f;
}

bool IsValidMailName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  if (name.front() == '.' || name.back() == '.') return false;
  static constexpr std::string_view kSpecials = "!#$%&'*+-/=?^_`{|}~.";
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                       (c >= '0' && c <= '9');
    if (!alnum && kSpecials.find(c) == std::string_view::npos) return false;
    if (c == '.' && i > 0 && name[i - 1] == '.') return false;
  }
  return true;
}

DirSyncEntryMapper::DirSyncEntryMapper(std::shared_ptr<const RuleSet> rules,
                                       std::string connector,
                                       std::string source)
    : rules_(std::move(rules)), source_(std::move(source)) {
  connector_ = rules_->connector(connector);
  mapped_ = connector_->map.RequestedAttributes();
  if (!connector_->config.group_sync) {
    AttributeMap accounts_only = connector_->map;
    accounts_only.group = accounts_only.account;
    mapped_ = accounts_only.RequestedAttributes();
  }
}

bool DirSyncEntryMapper::UnderSomeBase(std::string_view dn) const {
  const std::string ndn = NormalizeDn(dn);
  for (const DomainScope& s : connector_->domains) {
    if (!s.account_base.empty() && DnIsUnder(ndn, s.account_base)) return true;
    if (connector_->config.group_sync && !s.group_base.empty() &&
        DnIsUnder(ndn, s.group_base))
      return true;
  }
  return false;
}

AttrList DirSyncEntryMapper::Mapped(const AttrList& attrs,
                                    bool keep_empty) const {
  AttrList out;
  for (const Attribute& a : attrs) {
    auto it = std::lower_bound(mapped_.begin(), mapped_.end(), a.name,
                               LessIgnoreCase);
    if (it == mapped_.end() || !EqualsIgnoreCase(*it, a.name)) continue;
    if (a.values.empty() && !keep_empty) continue;
    out.push_back({*it, a.values});
  }
  CanonicalizeAttrs(&out);
  return out;
}

ObservedChange DirSyncEntryMapper::BaseChange(const DirSyncEntry& e) const {
  ObservedChange c;
  c.side = Side::kLdap;
  c.source = source_;
  c.connector = connector_->config.name;
  c.id = e.guid;
  c.dn = e.dn;
  return c;
}

std::optional<std::string> DirSyncEntryMapper::Invalid(
    const Classification& c, const AttrList& image,
    const ObservedChange& change) const {
  const ObjectMap& m = c.kind == ObjectKind::kAccount ? connector_->map.account
                                                      : connector_->map.group;
  if (c.name.empty())
    return std::string(KindName(c.kind)) + " has no " + m.name_attribute;
  if (!IsValidUtf8(c.name)) return m.name_attribute + " is not valid UTF-8";
  if (!IsValidMailName(c.name))
    return m.name_attribute + " \"" + c.name +
           "\" is not a valid mail name (letters, digits and "
           "!#$%&'*+-/=?^_`{|}~. only, at most 64, no leading, trailing or "
           "doubled dot)";
  if (AttrValues(image, m.name_attribute).size() > 1)
    return m.name_attribute + " has several values";
  for (const AttrList* list : {&change.attrs, &change.value_adds}) {
    for (const Attribute& a : *list)
      for (const std::string& v : a.values)
        if (!IsValidUtf8(v)) return a.name + " holds a value that is not UTF-8";
  }
  return std::nullopt;
}

EntryDecision DirSyncEntryMapper::Map(
    const DirSyncEntry& entry, bool full,
    const std::optional<ObjectState>& known) const {
  EntryDecision d;
  if (entry.guid.empty()) {
    d.action = EntryDecision::Action::kError;
    d.error.side = Side::kLdap;
    d.error.source = source_;
    d.error.connector = connector_->config.name;
    d.error.dn = entry.dn;
    d.error.message = "entry \"" + entry.dn +
                      "\" has no objectGUID of 16 bytes; it cannot be "
                      "tracked and is skipped";
    return d;
  }
  if (entry.is_deleted) {
    // In a full pass a tombstone is simply not present.
    if (full || !known) return d;
    d.action = EntryDecision::Action::kChange;
    d.change = BaseChange(entry);
    d.change.op = ChangeOp::kDelete;
    d.change.kind = known->kind;
    d.change.dn = known->dn;
    d.change.domain = known->domain;
    return d;
  }
  if (!full && !known) {
    // Worth reading whole only if its DN could be in scope: a modified
    // object elsewhere in the domain (DirSync sees them all) is not.
    if (UnderSomeBase(entry.dn))
      d.action = EntryDecision::Action::kNeedFullImage;
    return d;
  }

  // The object as it is now: the entry itself, or the known image with the
  // entry's changes applied.
  AttrList image;
  if (full) {
    image = entry.attrs;
    for (const Attribute& a : entry.value_adds)
      AppendValues(&image, a.name, a.values);
    DropEmptyAttrs(&image);
    CanonicalizeAttrs(&image);
  } else {
    image = known->attrs;
    CanonicalizeAttrs(&image);
    for (const Attribute& a : entry.attrs) {
      std::vector<std::string> v = a.values;
      CanonicalizeValues(&v);
      SetAttr(&image, a.name, std::move(v));
    }
    for (const Attribute& a : entry.value_deletes) {
      std::vector<std::string> v = AttrValues(image, a.name);
      std::erase_if(v, [&](const std::string& x) {
        return std::find(a.values.begin(), a.values.end(), x) != a.values.end();
      });
      SetAttr(&image, a.name, std::move(v));
    }
    for (const Attribute& a : entry.value_adds) {
      std::vector<std::string> v = AttrValues(image, a.name);
      v.insert(v.end(), a.values.begin(), a.values.end());
      CanonicalizeValues(&v);
      SetAttr(&image, a.name, std::move(v));
    }
  }
  const bool renamed = known && !SameDn(known->dn, entry.dn);
  // A mapped RDN attribute (a custom schema mapping cn) follows the DN:
  // DirSync never returns the RDN attribute itself.
  std::optional<Attribute> rdn_attr;
  if (full || renamed) {
    if (auto rdn = FirstRdn(entry.dn)) {
      auto it = std::lower_bound(mapped_.begin(), mapped_.end(), rdn->first,
                                 LessIgnoreCase);
      if (it != mapped_.end() && EqualsIgnoreCase(*it, rdn->first) &&
          !EqualsIgnoreCase(rdn->first, "objectClass") &&
          (renamed || AttrValues(image, rdn->first).empty())) {
        rdn_attr = Attribute{*it, {rdn->second}};
        SetAttr(&image, *it, {rdn->second});
      }
    }
  }

  std::optional<Classification> c;
  if (known && AttrValues(image, "objectClass").empty()) {
    // An image without classes (not one this source wrote): classify as the
    // kind the log knows.
    AttrList with_class = image;
    const ObjectMap& m = known->kind == ObjectKind::kAccount
                             ? connector_->map.account
                             : connector_->map.group;
    SetAttr(&with_class, "objectClass", {m.object_classes.front()});
    c = rules_->Classify(connector_->config.name, entry.dn, with_class);
  } else {
    c = rules_->Classify(connector_->config.name, entry.dn, image);
  }
  if (!c) {
    if (!known) return d;
    // The object left the scope (moved out of the base DNs): a delete that
    // names where it is (docs/rules.md section 8).
    d.action = EntryDecision::Action::kChange;
    d.change = BaseChange(entry);
    d.change.op = ChangeOp::kDelete;
    d.change.kind = known->kind;
    d.change.dn = known->dn;
    d.change.domain = known->domain;
    d.change.remains_at = entry.dn;
    return d;
  }
  d.in_scope = true;
  ObservedChange& ch = d.change;
  ch = BaseChange(entry);
  ch.kind = c->kind;
  ch.domain = c->domain;
  ch.op = known ? ChangeOp::kModify : ChangeOp::kAdd;
  ch.full_image = full;
  if (full) {
    ch.attrs = Mapped(image, false);
  } else {
    ch.attrs = Mapped(entry.attrs, true);
    if (rdn_attr) {
      ch.attrs.push_back(*rdn_attr);
      CanonicalizeAttrs(&ch.attrs);
    }
    ch.value_adds = Mapped(entry.value_adds, false);
    ch.value_deletes = Mapped(entry.value_deletes, false);
  }
  if (std::optional<std::string> why = Invalid(*c, image, ch)) {
    d.action = EntryDecision::Action::kError;
    d.error.side = Side::kLdap;
    d.error.source = source_;
    d.error.connector = connector_->config.name;
    d.error.id = entry.guid;
    d.error.dn = entry.dn;
    d.error.message = std::string(KindName(c->kind)) + " \"" + entry.dn +
                      "\" (objectGUID " + entry.guid + "): " + *why;
    return d;
  }
  if (!full && !renamed && ch.attrs.empty() && ch.value_adds.empty() &&
      ch.value_deletes.empty() && known->domain == ch.domain)
    return d;  // nothing dirledger maps changed
  d.action = EntryDecision::Action::kChange;
  return d;
}

}  // namespace dirledger

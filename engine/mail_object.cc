#include "engine/mail_object.h"

#include <algorithm>

#include "replay/attribute_map.h"

namespace dirledger {
namespace {

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '+' || c == '-';
}

bool IsLabelChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

// A short, printable rendering of untrusted input for error messages.
std::string Shown(std::string_view s) {
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size() && i < 80; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      static const char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > 80) out += "...";
  out += '"';
  return out;
}

bool ValidUtf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      len = 2;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
        (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += len;
  }
  return true;
}

Status CheckDomain(std::string_view d, std::string_view what) {
  if (d.empty())
    return Status::InvalidArgument(std::string(what) + ": the domain is empty");
  if (d.size() > kMaxDomainLength)
    return Status::InvalidArgument(std::string(what) +
                                   ": the domain is longer than 253 "
                                   "characters");
  std::size_t start = 0;
  while (start <= d.size()) {
    std::size_t dot = d.find('.', start);
    if (dot == std::string_view::npos) dot = d.size();
    std::string_view label = d.substr(start, dot - start);
    if (label.empty() || label.size() > 63)
      return Status::InvalidArgument(
          std::string(what) + ": domain labels must be 1 to 63 characters");
    for (char c : label) {
      if (!IsLabelChar(c))
        return Status::InvalidArgument(
            std::string(what) +
            ": a domain may hold only letters, digits, '-' and '.'");
    }
    if (label.front() == '-' || label.back() == '-')
      return Status::InvalidArgument(
          std::string(what) + ": a domain label may not start or end with '-'");
    start = dot + 1;
    if (dot == d.size()) break;
  }
  return Status::Ok();
}

const std::vector<std::string_view>& AccountFields() {
  static const std::vector<std::string_view> kFields = [] {
    std::vector<std::string_view> f = ContactFields();
    f.push_back(field::kAliases);
    return f;
  }();
  return kFields;
}

const std::vector<std::string_view>& GroupFields() {
  static const std::vector<std::string_view> kFields = {field::kDisplayName,
                                                        field::kMembers};
  return kFields;
}

std::string ValuesText(const std::vector<std::string>& v) {
  if (v.empty()) return "(none)";
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += ", ";
    out += Shown(s);
  }
  return out;
}

std::string Describe(ObjectKind kind, std::string_view address) {
  return std::string(KindName(kind)) + " " + std::string(address);
}

// Applies set / add_values / delete_values of `intent` to `attrs`.
Status ApplyChanges(const Intent& intent, std::string_view object,
                    AttrList* attrs) {
  for (const Attribute& a : intent.set) {
    auto name = CanonicalField(intent.kind, a.name);
    if (!name.ok()) return name.status().WithContext(object);
    std::vector<std::string> values = a.values;
    DIRLEDGER_RETURN_IF_ERROR(NormalizeValues(object, *name, &values));
    SetAttr(attrs, *name, std::move(values));
  }
  for (const Attribute& a : intent.add_values) {
    auto name = CanonicalField(intent.kind, a.name);
    if (!name.ok()) return name.status().WithContext(object);
    std::vector<std::string> values = AttrValues(*attrs, *name);
    for (const auto& v : a.values) values.push_back(v);
    DIRLEDGER_RETURN_IF_ERROR(NormalizeValues(object, *name, &values));
    SetAttr(attrs, *name, std::move(values));
  }
  for (const Attribute& a : intent.delete_values) {
    auto name = CanonicalField(intent.kind, a.name);
    if (!name.ok()) return name.status().WithContext(object);
    if (a.values.empty()) {
      SetAttr(attrs, *name, {});
      continue;
    }
    std::vector<std::string> gone = a.values;
    DIRLEDGER_RETURN_IF_ERROR(NormalizeValues(object, *name, &gone));
    std::vector<std::string> values = AttrValues(*attrs, *name);
    values.erase(std::remove_if(values.begin(), values.end(),
                                [&](const std::string& v) {
                                  return std::find(gone.begin(), gone.end(),
                                                   v) != gone.end();
                                }),
                 values.end());
    SetAttr(attrs, *name, std::move(values));
  }
  return Status::Ok();
}

Status CheckExpect(const Intent& intent, const MailObject& current) {
  std::vector<std::string> bad;
  std::string detail;
  for (const Attribute& e : intent.expect) {
    auto name = CanonicalField(intent.kind, e.name);
    if (!name.ok()) return name.status().WithContext(current.address);
    std::vector<std::string> want = e.values;
    DIRLEDGER_RETURN_IF_ERROR(NormalizeValues(current.address, *name, &want));
    CanonicalizeValues(&want);
    const auto& have = AttrValues(current.attrs, *name);
    if (have != want) {
      bad.push_back(*name);
      if (!detail.empty()) detail += "; ";
      detail += *name + " expected " + ValuesText(want) + ", found " +
                ValuesText(have);
    }
  }
  if (bad.empty()) return Status::Ok();
  std::string fields;
  for (const auto& f : bad) fields += (fields.empty() ? "" : ", ") + f;
  return Status::Conflict(Describe(current.kind, current.address) +
                          " changed since it was read: " + fields + " (" +
                          detail + ")");
}

}  // namespace

std::string_view MailObject::name() const {
  std::string_view a = address;
  return a.substr(0, a.find('@'));
}

std::string_view MailObject::domain() const {
  std::string_view a = address;
  const auto at = a.find('@');
  return at == std::string_view::npos ? std::string_view() : a.substr(at + 1);
}

Result<std::string> NormalizeDomain(std::string_view domain) {
  std::string d = AsciiLower(domain);
  DIRLEDGER_RETURN_IF_ERROR(CheckDomain(d, "domain " + Shown(domain)));
  return d;
}

Result<std::string> NormalizeAddress(std::string_view address) {
  const std::string what = "address " + Shown(address);
  const auto at = address.find('@');
  if (at == std::string_view::npos ||
      address.find('@', at + 1) != std::string_view::npos)
    return Status::InvalidArgument(what + ": must be name@domain");
  std::string a = AsciiLower(address);
  std::string_view name = std::string_view(a).substr(0, at);
  if (name.empty() || name.size() > kMaxNameLength)
    return Status::InvalidArgument(what +
                                   ": the name must be 1 to 64 characters");
  for (char c : name) {
    if (!IsNameChar(c))
      return Status::InvalidArgument(
          what + ": a name may hold only letters, digits and . _ + -");
  }
  if (name.front() == '.' || name.back() == '.')
    return Status::InvalidArgument(what +
                                   ": a name may not start or end with '.'");
  DIRLEDGER_RETURN_IF_ERROR(
      CheckDomain(std::string_view(a).substr(at + 1), what));
  return a;
}

const std::vector<std::string_view>& FieldsOf(ObjectKind kind) {
  return kind == ObjectKind::kAccount ? AccountFields() : GroupFields();
}

Result<std::string> CanonicalField(ObjectKind kind, std::string_view name) {
  for (std::string_view f : FieldsOf(kind)) {
    if (EqualsIgnoreCase(f, name)) return std::string(f);
  }
  std::string allowed;
  for (std::string_view f : FieldsOf(kind)) {
    if (!allowed.empty()) allowed += ", ";
    allowed += f;
  }
  return Status::InvalidArgument(
      "unknown " + std::string(KindName(kind)) + " field " + Shown(name) +
      "; " + std::string(KindName(kind)) + " fields are: " + allowed);
}

bool IsAddressField(std::string_view canonical_field) {
  return canonical_field == field::kAliases ||
         canonical_field == field::kMembers;
}

Status NormalizeValues(std::string_view object, std::string_view field,
                       std::vector<std::string>* values) {
  const std::string where = std::string(object) + ": " + std::string(field);
  if (IsAddressField(field)) {
    for (auto& v : *values) {
      auto a = NormalizeAddress(v);
      if (!a.ok()) return a.status().WithContext(where);
      v = std::move(a).value();
    }
    CanonicalizeValues(values);
    return Status::Ok();
  }
  CanonicalizeValues(values);
  if (values->size() > 1)
    return Status::InvalidArgument(where + " takes one value, got " +
                                   std::to_string(values->size()));
  for (const auto& v : *values) {
    if (v.size() > kMaxValueLength)
      return Status::InvalidArgument(where + ": value is " +
                                     std::to_string(v.size()) +
                                     " bytes, more than the 262144 allowed");
    if (!ValidUtf8(v))
      return Status::InvalidArgument(where + ": value is not valid UTF-8");
  }
  // An empty value means "no value".
  values->erase(std::remove(values->begin(), values->end(), std::string()),
                values->end());
  return Status::Ok();
}

Status NormalizeAttrs(ObjectKind kind, std::string_view object,
                      AttrList* attrs) {
  AttrList out;
  for (Attribute& a : *attrs) {
    auto name = CanonicalField(kind, a.name);
    if (!name.ok()) return name.status().WithContext(object);
    std::vector<std::string> values = std::move(a.values);
    if (const Attribute* prev = FindAttr(out, *name)) {
      values.insert(values.end(), prev->values.begin(), prev->values.end());
    }
    DIRLEDGER_RETURN_IF_ERROR(NormalizeValues(object, *name, &values));
    SetAttr(&out, *name, std::move(values));
  }
  *attrs = std::move(out);
  return Status::Ok();
}

std::vector<std::string> DifferingFields(const AttrList& a, const AttrList& b) {
  std::vector<std::string> names;
  for (const auto& x : a) names.push_back(x.name);
  for (const auto& x : b) names.push_back(x.name);
  std::sort(names.begin(), names.end(),
            [](const std::string& l, const std::string& r) {
              return CompareIgnoreCase(l, r) < 0;
            });
  names.erase(std::unique(names.begin(), names.end(),
                          [](const std::string& l, const std::string& r) {
                            return EqualsIgnoreCase(l, r);
                          }),
              names.end());
  std::vector<std::string> out;
  for (const auto& n : names) {
    if (AttrValues(a, n) != AttrValues(b, n)) out.push_back(n);
  }
  return out;
}

Result<ApplyPlan> PlanIntent(const Intent& intent,
                             const std::optional<MailObject>& current) {
  if (intent.target != Side::kMail)
    return Status::InvalidArgument(
        "intent " + std::to_string(intent.id) + " targets the " +
        std::string(SideName(intent.target)) + " side, not mail");
  auto address = NormalizeAddress(intent.target_id);
  if (!address.ok())
    return address.status().WithContext("intent " + std::to_string(intent.id));
  const std::string object = Describe(intent.kind, *address);
  if (current && current->kind != intent.kind)
    return Status::Conflict(object + ": the address belongs to a " +
                            std::string(KindName(current->kind)));

  ApplyPlan plan;
  plan.target.kind = intent.kind;
  plan.target.address = *address;
  switch (intent.op) {
    case IntentOp::kAdd: {
      DIRLEDGER_RETURN_IF_ERROR(
          ApplyChanges(intent, object, &plan.target.attrs));
      if (current) {
        if (current->attrs == plan.target.attrs) {
          plan.action = ApplyPlan::Action::kNothing;
          plan.description = object + " already exists as intended";
          return plan;
        }
        std::string fields;
        for (const auto& f : DifferingFields(current->attrs, plan.target.attrs))
          fields += (fields.empty() ? "" : ", ") + f;
        return Status::Conflict(object +
                                " already exists with other values: " + fields);
      }
      plan.action = ApplyPlan::Action::kCreate;
      plan.description = "created " + object;
      return plan;
    }
    case IntentOp::kModify: {
      if (!current) return Status::NotFound(object + " does not exist");
      plan.target.attrs = current->attrs;
      DIRLEDGER_RETURN_IF_ERROR(
          ApplyChanges(intent, object, &plan.target.attrs));
      if (plan.target.attrs == current->attrs) {
        plan.action = ApplyPlan::Action::kNothing;
        plan.description = object + " is already as intended";
        return plan;
      }
      DIRLEDGER_RETURN_IF_ERROR(CheckExpect(intent, *current));
      plan.action = ApplyPlan::Action::kUpdate;
      std::string fields;
      for (const auto& f : DifferingFields(current->attrs, plan.target.attrs))
        fields += (fields.empty() ? "" : ", ") + f;
      plan.description = "modified " + object + ": " + fields;
      return plan;
    }
    case IntentOp::kDelete: {
      if (!current) {
        plan.action = ApplyPlan::Action::kNothing;
        plan.description = object + " is already gone";
        return plan;
      }
      DIRLEDGER_RETURN_IF_ERROR(CheckExpect(intent, *current));
      plan.action = ApplyPlan::Action::kDelete;
      plan.description = "deleted " + object;
      return plan;
    }
    case IntentOp::kRename:
      return Status::InvalidArgument(
          object + ": a rename is planned with PlanRename, from " + intent.dn);
  }
  return Status::InvalidArgument(object + ": unknown intent operation");
}

Result<ApplyPlan> PlanRename(const Intent& intent,
                             const std::optional<MailObject>& at_old,
                             const std::optional<MailObject>& at_new) {
  if (intent.target != Side::kMail || intent.op != IntentOp::kRename)
    return Status::InvalidArgument("intent " + std::to_string(intent.id) +
                                   " is not a rename of a mail object");
  auto to = NormalizeAddress(intent.target_id);
  if (!to.ok())
    return to.status().WithContext("intent " + std::to_string(intent.id));
  auto from = NormalizeAddress(intent.dn);
  if (!from.ok())
    return from.status().WithContext("intent " + std::to_string(intent.id));
  const std::string what =
      "renaming " + Describe(intent.kind, *from) + " to " + *to;
  if (*from == *to)
    return Status::InvalidArgument(what + ": the addresses are the same");
  // What the object becomes: its values with the intent's writes, without
  // the new address among its aliases.
  auto renamed = [&](const MailObject& o) -> Result<MailObject> {
    MailObject t;
    t.kind = intent.kind;
    t.address = *to;
    t.attrs = o.attrs;
    DIRLEDGER_RETURN_IF_ERROR(ApplyChanges(intent, what, &t.attrs));
    if (t.kind == ObjectKind::kAccount) {
      std::vector<std::string> aliases = AttrValues(t.attrs, field::kAliases);
      std::erase(aliases, *to);
      SetAttr(&t.attrs, field::kAliases, std::move(aliases));
    }
    return t;
  };
  ApplyPlan plan;
  plan.target.kind = intent.kind;
  plan.target.address = *to;
  if (!at_old) {
    if (!at_new) return Status::NotFound(what + ": neither address exists");
    if (at_new->kind != intent.kind)
      return Status::Conflict(what + ": " + *to + " is the address of " +
                              Describe(at_new->kind, *to));
    // Renamed before (a crash between the write and its outcome): done
    // when it holds what the rename wrote.
    auto t = renamed(*at_new);
    if (!t.ok()) return t.status();
    if (t->attrs == at_new->attrs) {
      plan.action = ApplyPlan::Action::kNothing;
      plan.description =
          Describe(intent.kind, *to) + " is already renamed from " + *from;
      return plan;
    }
    return Status::Conflict(what + ": " + *from + " does not exist and " +
                            Describe(at_new->kind, *to) +
                            " holds other values");
  }
  if (at_old->kind != intent.kind)
    return Status::Conflict(what + ": the address belongs to a " +
                            std::string(KindName(at_old->kind)));
  if (at_new)
    return Status::Conflict(what + " refused: " + *to +
                            " is the address of another " +
                            std::string(KindName(at_new->kind)) + ", " +
                            Describe(at_new->kind, *to));
  DIRLEDGER_RETURN_IF_ERROR(CheckExpect(intent, *at_old));
  auto t = renamed(*at_old);
  if (!t.ok()) return t.status();
  plan.target = std::move(t).value();
  plan.action = ApplyPlan::Action::kRename;
  plan.renamed_from = *from;
  plan.description = "renamed " + Describe(intent.kind, *from) + " to " + *to;
  const auto changed = DifferingFields(at_old->attrs, plan.target.attrs);
  if (!changed.empty()) {
    std::string fields;
    for (const auto& f : changed) fields += (fields.empty() ? "" : ", ") + f;
    plan.description += ": " + fields;
  }
  return plan;
}

}  // namespace dirledger

#include "replay/attribute_map.h"

#include <algorithm>

// toml++ is used header-only, without exceptions: errors become Status.
#define TOML_HEADER_ONLY 1
#define TOML_EXCEPTIONS 0
#include <toml++/toml.h>

namespace dirledger {
namespace {

ObjectMap OpenLdapAccount() {
  ObjectMap m;
  m.object_classes = {"inetOrgPerson"};
  m.name_attribute = "uid";
  m.aliases_attribute = "mail";
  m.fields = {
      {"firstName", "givenName"},
      {"lastName", "sn"},
      {"displayName", "displayName"},
      {"company", "o"},
      {"department", "ou"},
      {"title", "title"},
      {"office", "physicalDeliveryOfficeName"},
      {"businessPhone", "telephoneNumber"},
      {"homePhone", "homePhone"},
      {"mobilePhone", "mobile"},
      {"fax", "facsimileTelephoneNumber"},
  };
  return m;
}

ObjectMap OpenLdapGroup() {
  ObjectMap m;
  m.object_classes = {"groupOfNames"};
  m.name_attribute = "cn";
  m.members_attribute = "member";
  m.fields = {{"displayName", "description"}};
  return m;
}

ObjectMap AdAccount() {
  ObjectMap m;
  m.object_classes = {"user"};
  m.excluded_classes = {"computer"};
  m.name_attribute = "sAMAccountName";
  m.aliases_attribute = "proxyAddresses";
  m.aliases_prefix = "smtp:";
  m.fields = {
      {"firstName", "givenName"},
      {"lastName", "sn"},
      {"displayName", "displayName"},
      {"company", "company"},
      {"department", "department"},
      {"title", "title"},
      {"office", "physicalDeliveryOfficeName"},
      {"businessPhone", "telephoneNumber"},
      {"homePhone", "homePhone"},
      {"mobilePhone", "mobile"},
      {"fax", "facsimileTelephoneNumber"},
  };
  return m;
}

ObjectMap AdGroup() {
  ObjectMap m;
  m.object_classes = {"group"};
  m.name_attribute = "sAMAccountName";
  m.members_attribute = "member";
  // AD groups have their own displayName (the address-book name);
  // description is free text.
  m.fields = {{"displayName", "displayName"}};
  return m;
}

bool Contains(const std::vector<std::string>& v, std::string_view s) {
  return std::any_of(v.begin(), v.end(), [&](const std::string& x) {
    return EqualsIgnoreCase(x, s);
  });
}

Status SchemaError(std::string_view path, const toml::node* node,
                   const std::string& msg) {
  std::string out(path.empty() ? "<custom schema>" : path);
  if (node && node->source().begin.line > 0)
    out += ":" + std::to_string(node->source().begin.line);
  return Status::InvalidArgument(out + ": " + msg);
}

Status ApplyOverrides(std::string_view path, std::string_view section,
                      const toml::table& t, ObjectMap* m) {
  for (const auto& [key, node] : t) {
    const std::string k(key.str());
    const std::string where = "[" + std::string(section) + "] " + k;
    if (k == "object_classes" || k == "excluded_classes") {
      const toml::array* a = node.as_array();
      if (!a) return SchemaError(path, &node, where + " must be a list");
      std::vector<std::string> v;
      for (const toml::node& e : *a) {
        if (!e.is_string())
          return SchemaError(path, &e, where + " must hold strings");
        v.push_back(e.as_string()->get());
      }
      if (k == "object_classes" && v.empty())
        return SchemaError(path, &node, where + " must not be empty");
      (k == "object_classes" ? m->object_classes : m->excluded_classes) = v;
      continue;
    }
    if (k == "fields") {
      const toml::table* ft = node.as_table();
      if (!ft)
        return SchemaError(path, &node,
                           where +
                               " must be a table of "
                               "field = \"attribute\"");
      for (const auto& [fk, fv] : *ft) {
        const std::string field(fk.str());
        const auto& known = ContactFields();
        if (std::none_of(known.begin(), known.end(), [&](std::string_view f) {
              return EqualsIgnoreCase(f, field);
            })) {
          std::string allowed;
          for (std::string_view f : known) {
            if (!allowed.empty()) allowed += ", ";
            allowed += f;
          }
          return SchemaError(path, &fv,
                             "[" + std::string(section) +
                                 ".fields] unknown field \"" + field +
                                 "\"; allowed: " + allowed);
        }
        if (!fv.is_string())
          return SchemaError(path, &fv,
                             "[" + std::string(section) + ".fields] " + field +
                                 " must be an attribute name "
                                 "(\"\" to stop syncing it)");
        const std::string attr = fv.as_string()->get();
        auto it = std::find_if(m->fields.begin(), m->fields.end(),
                               [&](const FieldMapping& f) {
                                 return EqualsIgnoreCase(f.field, field);
                               });
        if (attr.empty()) {
          if (it != m->fields.end()) m->fields.erase(it);
        } else if (it != m->fields.end()) {
          it->attribute = attr;
        } else {
          m->fields.push_back({field, attr});
        }
      }
      continue;
    }
    std::string* target = nullptr;
    if (k == "name") target = &m->name_attribute;
    if (k == "aliases") target = &m->aliases_attribute;
    if (k == "aliases_prefix") target = &m->aliases_prefix;
    if (k == "members") target = &m->members_attribute;
    if (!target)
      return SchemaError(path, &node,
                         where +
                             ": unknown key; allowed: object_classes, "
                             "excluded_classes, name, aliases, "
                             "aliases_prefix, members, fields");
    if (!node.is_string())
      return SchemaError(path, &node, where + " must be a string");
    *target = node.as_string()->get();
    if (k == "name" && target->empty())
      return SchemaError(path, &node, where + " must not be empty");
  }
  return Status::Ok();
}

}  // namespace

const std::vector<std::string_view>& ContactFields() {
  static const std::vector<std::string_view> kFields = {
      field::kFirstName,   field::kLastName,    field::kNickName,
      field::kDisplayName, field::kCompany,     field::kDepartment,
      field::kTitle,       field::kOffice,      field::kBusinessPhone,
      field::kHomePhone,   field::kMobilePhone, field::kFax};
  return kFields;
}

std::string_view ObjectMap::AttributeFor(std::string_view f) const {
  for (const FieldMapping& m : fields)
    if (EqualsIgnoreCase(m.field, f)) return m.attribute;
  return {};
}

std::string_view ObjectMap::FieldFor(std::string_view attribute) const {
  for (const FieldMapping& m : fields)
    if (EqualsIgnoreCase(m.attribute, attribute)) return m.field;
  return {};
}

bool ObjectMap::Matches(const std::vector<std::string>& classes) const {
  bool any = false;
  for (const std::string& c : classes) {
    if (Contains(excluded_classes, c)) return false;
    if (Contains(object_classes, c)) any = true;
  }
  return any;
}

AttributeMap AttributeMap::Default(ServerType type) {
  AttributeMap m;
  if (type == ServerType::kOpenLdap) {
    m.account = OpenLdapAccount();
    m.group = OpenLdapGroup();
  } else {
    m.account = AdAccount();
    m.group = AdGroup();
  }
  return m;
}

Result<AttributeMap> AttributeMap::WithCustomSchema(
    ServerType type, std::string_view schema_text,
    std::string_view schema_path) {
  AttributeMap m = Default(type);
  // toml++ only ever sees ASCII (see ToAsciiToml in codecs/config.h).
  Result<std::string> ascii = ToAsciiToml(schema_text, schema_path);
  if (!ascii.ok()) return ascii.status();
  toml::parse_result parsed = toml::parse(*ascii, std::string(schema_path));
  if (!parsed) {
    return Status::InvalidArgument(
        std::string(schema_path.empty() ? "<custom schema>" : schema_path) +
        ":" + std::to_string(parsed.error().source().begin.line) + ": " +
        std::string(parsed.error().description()));
  }
  for (const auto& [key, node] : parsed.table()) {
    const std::string k(key.str());
    if (k != "account" && k != "group")
      return SchemaError(
          schema_path, &node,
          "unknown section [" + k + "]; allowed: [account], [group]");
    const toml::table* t = node.as_table();
    if (!t) return SchemaError(schema_path, &node, k + " must be a table");
    DIRLEDGER_RETURN_IF_ERROR(ApplyOverrides(
        schema_path, k, *t, k == "account" ? &m.account : &m.group));
  }
  return m;
}

std::vector<std::string> ObjectMap::ValueAttributes() const {
  std::vector<std::string> out;
  for (const std::string* a : {&aliases_attribute, &members_attribute})
    if (!a->empty()) out.push_back(*a);
  for (const FieldMapping& f : fields) out.push_back(f.attribute);
  return out;
}

std::vector<std::string> AttributeMap::RequestedAttributes() const {
  std::vector<std::string> out = {"objectClass"};
  for (const ObjectMap* m : {&account, &group}) {
    if (!m->name_attribute.empty()) out.push_back(m->name_attribute);
    for (std::string& a : m->ValueAttributes()) out.push_back(std::move(a));
  }
  std::sort(out.begin(), out.end(),
            [](const std::string& a, const std::string& b) {
              return CompareIgnoreCase(a, b) < 0;
            });
  out.erase(std::unique(out.begin(), out.end(),
                        [](const std::string& a, const std::string& b) {
                          return EqualsIgnoreCase(a, b);
                        }),
            out.end());
  return out;
}

}  // namespace dirledger

#include "replay/ldap_entry.h"

#include "codecs/config.h"
#include "replay/attribute_map.h"
#include "replay/field_image.h"

namespace dirledger {
namespace {

const ObjectMap& MapOf(const ConnectorRules& c, ObjectKind kind) {
  return kind == ObjectKind::kAccount ? c.map.account : c.map.group;
}

// The template's first RDN, up to the first unescaped comma.
std::string_view FirstRdn(std::string_view templ) {
  for (size_t i = 0; i < templ.size(); ++i) {
    if (templ[i] == '\\') {
      ++i;
      continue;
    }
    if (templ[i] == ',') return templ.substr(0, i);
  }
  return templ;
}

bool HasClass(const std::vector<std::string>& classes, std::string_view c) {
  for (const std::string& x : classes)
    if (EqualsIgnoreCase(x, c)) return true;
  return false;
}

void SetIfAbsent(AttrList* attrs, std::string_view name,
                 std::vector<std::string> values) {
  if (!FindAttr(*attrs, name)) SetAttr(attrs, name, std::move(values));
}

// Makes sure the entry holds the value of its own RDN (LDAP requires it).
void AddRdnValue(std::string_view dn, AttrList* attrs) {
  std::string_view rdn = FirstRdn(dn);
  const size_t eq = rdn.find('=');
  if (eq == std::string_view::npos || rdn.find('+') != std::string_view::npos)
    return;
  std::string_view attr = rdn.substr(0, eq);
  std::string value;
  for (size_t i = eq + 1; i < rdn.size(); ++i) {
    if (rdn[i] == '\\' && i + 1 < rdn.size()) ++i;
    value += rdn[i];
  }
  std::vector<std::string> values = AttrValues(*attrs, attr);
  for (const std::string& v : values)
    if (EqualsIgnoreCase(v, value)) return;
  values.push_back(std::move(value));
  SetAttr(attrs, attr, std::move(values));
}

}  // namespace

std::string EscapeRdnValue(std::string_view value) {
  std::string out;
  for (size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    const bool special = c == ',' || c == '+' || c == '"' || c == '\\' ||
                         c == '<' || c == '>' || c == ';' || c == '=' ||
                         (i == 0 && (c == '#' || c == ' ')) ||
                         (i + 1 == value.size() && c == ' ');
    if (special) out += '\\';
    out += c;
  }
  return out;
}

std::string NewEntryDn(const ConnectorRules& connector, ObjectKind kind,
                       std::string_view name, std::string_view domain) {
  const ConnectorConfig& c = connector.config;
  std::string_view templ =
      kind == ObjectKind::kGroup && !c.group_base_dn.empty()
          ? c.group_base_dn
          : c.account_base_dn;
  const std::string_view first = FirstRdn(templ);
  if (first.find("%u") != std::string_view::npos ||
      first.find("%e") != std::string_view::npos)
    return ExpandVariables(templ, EscapeRdnValue(name), domain);
  const std::string rdn_attr = c.server_type == ServerType::kActiveDirectory
                                   ? std::string("cn")
                                   : MapOf(connector, kind).name_attribute;
  std::string dn = rdn_attr + "=" + EscapeRdnValue(name);
  const std::string base = ExpandVariables(templ, name, domain);
  if (!base.empty()) dn += "," + base;
  return dn;
}

NewEntry NewLdapEntry(const ConnectorRules& connector, ObjectKind kind,
                      std::string_view name, std::string_view domain,
                      const AttrList& image,
                      const std::vector<std::string>& member_dns) {
  const ObjectMap& map = MapOf(connector, kind);
  const bool ad = connector.config.server_type == ServerType::kActiveDirectory;
  const std::string address = AsciiLower(name) + "@" + AsciiLower(domain);
  NewEntry e;
  e.dn = NewEntryDn(connector, kind, name, domain);
  for (const FieldMapping& f : map.fields) {
    const auto& v = AttrValues(image, f.field);
    if (!v.empty()) SetAttr(&e.attrs, f.attribute, v);
  }
  if (!map.aliases_attribute.empty())
    SetAttr(
        &e.attrs, map.aliases_attribute,
        LdapAliasValues({}, AttrValues(image, field::kAliases), map, address));
  SetAttr(&e.attrs, map.name_attribute, {std::string(name)});
  std::vector<std::string> classes;
  if (kind == ObjectKind::kAccount) {
    if (ad) {
      classes = {"top", "person", "organizationalPerson", "user"};
      SetIfAbsent(&e.attrs, "userPrincipalName", {address});
    } else if (HasClass(map.object_classes, "inetOrgPerson")) {
      classes = {"inetOrgPerson", "organizationalPerson", "person", "top"};
    } else {
      classes = map.object_classes;
      classes.push_back("top");
    }
    if (HasClass(classes, "person")) {
      // person requires cn and sn.
      std::string cn(FirstValue(image, field::kDisplayName));
      if (cn.empty()) {
        cn = std::string(FirstValue(image, field::kFirstName));
        std::string_view last = FirstValue(image, field::kLastName);
        if (!cn.empty() && !last.empty()) cn += ' ';
        cn += last;
      }
      if (cn.empty() || ad) cn = std::string(name);
      SetIfAbsent(&e.attrs, "cn", {cn});
      std::string sn(FirstValue(image, field::kLastName));
      if (sn.empty()) sn = std::string(name);
      SetIfAbsent(&e.attrs, "sn", {sn});
    }
  } else {
    if (ad) {
      classes = {"top", "group"};
    } else if (HasClass(map.object_classes, "groupOfNames")) {
      classes = {"groupOfNames", "top"};
    } else {
      classes = map.object_classes;
      classes.push_back("top");
    }
    if (!map.members_attribute.empty()) {
      std::vector<std::string> members = member_dns;
      // groupOfNames must have a member: the group itself stands in.
      if (members.empty() && HasClass(classes, "groupOfNames"))
        members.push_back(e.dn);
      SetAttr(&e.attrs, map.members_attribute, std::move(members));
    }
    if (ad) SetIfAbsent(&e.attrs, "cn", {std::string(name)});
  }
  SetAttr(&e.attrs, "objectClass", std::move(classes));
  AddRdnValue(e.dn, &e.attrs);
  return e;
}

void LdapWrites(const AttrList& field_writes, const ObjectMap& map,
                const AttrList& current, std::string_view own_address,
                AttrList* set, AttrList* expect,
                const std::vector<std::string>& refused) {
  for (const Attribute& w : field_writes) {
    std::string attr;
    std::vector<std::string> values;
    if (EqualsIgnoreCase(w.name, field::kAliases)) {
      attr = map.aliases_attribute;
      values = LdapAliasValues(AttrValues(current, attr), w.values, map,
                               own_address, refused);
    } else {
      attr = std::string(map.AttributeFor(w.name));
      values = w.values;
    }
    if (attr.empty()) continue;
    CanonicalizeValues(&values);
    set->push_back(Attribute{attr, std::move(values)});  // empty: remove
    expect->push_back(Attribute{attr, AttrValues(current, attr)});
  }
  CanonicalizeAttrs(set);
  CanonicalizeAttrs(expect);
}

}  // namespace dirledger

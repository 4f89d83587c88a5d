#include "replay/field_image.h"

#include <catch2/catch.hpp>
#include <cctype>
#include <random>

#include "replay/in_memory_projection.h"

namespace dirledger {
namespace {

// The images as their definition states them: one lookup per field, then
// the canonical order. The planned walk must build exactly these.
AttrList ReferenceMailImage(const AttrList& attrs, const ObjectMap& map,
                            std::string_view own_address) {
  AttrList out;
  for (const FieldMapping& f : map.fields) {
    const auto& v = AttrValues(attrs, f.field);
    if (!v.empty()) out.push_back(Attribute{f.field, {v.front()}});
  }
  if (!map.aliases_attribute.empty()) {
    std::vector<std::string> aliases;
    for (const std::string& v : AttrValues(attrs, field::kAliases))
      if (!v.empty() && !EqualsIgnoreCase(v, own_address))
        aliases.push_back(AsciiLower(v));
    if (!aliases.empty())
      out.push_back(Attribute{std::string(field::kAliases), aliases});
  }
  if (!map.members_attribute.empty()) {
    std::vector<std::string> members;
    for (const std::string& v : AttrValues(attrs, field::kMembers))
      if (!v.empty()) members.push_back(AsciiLower(v));
    if (!members.empty())
      out.push_back(Attribute{std::string(field::kMembers), members});
  }
  CanonicalizeAttrs(&out);
  return out;
}

AttrList ReferenceLdapImage(const AttrList& attrs, std::string_view own_address,
                            const ObjectMap& map) {
  AttrList out;
  for (const FieldMapping& f : map.fields) {
    const auto& v = AttrValues(attrs, f.attribute);
    if (!v.empty()) out.push_back(Attribute{f.field, {v.front()}});
  }
  if (!map.aliases_attribute.empty()) {
    std::vector<std::string> aliases;
    for (const std::string& v : AttrValues(attrs, map.aliases_attribute)) {
      const std::string_view p = map.aliases_prefix;
      if (v.size() < p.size() || !EqualsIgnoreCase(v.substr(0, p.size()), p))
        continue;
      const std::string_view rest = std::string_view(v).substr(p.size());
      if (rest.empty() || EqualsIgnoreCase(rest, own_address)) continue;
      aliases.push_back(AsciiLower(rest));
    }
    if (!aliases.empty())
      out.push_back(Attribute{std::string(field::kAliases), aliases});
  }
  CanonicalizeAttrs(&out);
  return out;
}

// A random attribute list over `names` (any case, sometimes repeated,
// sometimes out of order, sometimes without values).
AttrList RandomAttrs(std::mt19937* rng, const std::vector<std::string>& names,
                     bool keep_order) {
  AttrList attrs;
  for (const std::string& n : names) {
    if ((*rng)() % 3 == 0) continue;
    std::string name = n;
    for (char& c : name)
      if (std::isalpha(static_cast<unsigned char>(c)) && (*rng)() % 4 == 0)
        c = static_cast<char>(c ^ 0x20);
    Attribute a{name, {}};
    const int values = static_cast<int>((*rng)() % 4);
    for (int k = 0; k < values; ++k)
      a.values.push_back(
          std::string((*rng)() % 2 ? "SMTP:" : "smtp:") +
          (k == 0 ? "Jdoe@Example.com" : "v" + std::to_string(k)));
    attrs.push_back(a);
    if ((*rng)() % 8 == 0) attrs.push_back(Attribute{n, {"dup"}});
  }
  if (keep_order) {
    CanonicalizeAttrs(&attrs);
  } else {
    std::shuffle(attrs.begin(), attrs.end(), *rng);
  }
  return attrs;
}

std::vector<ObjectMap> Maps() {
  std::vector<ObjectMap> maps = {
      AttributeMap::Default(ServerType::kOpenLdap).account,
      AttributeMap::Default(ServerType::kActiveDirectory).account,
      AttributeMap::Default(ServerType::kOpenLdap).group};
  // Two fields from one attribute, a field from the aliases attribute (as
  // a custom schema may map them).
  ObjectMap odd = maps[0];
  odd.fields.push_back({"nickName", "displayName"});
  for (FieldMapping& f : odd.fields)
    if (f.field == "fax") f.attribute = "mail";
  maps.push_back(odd);
  return maps;
}

}  // namespace

TEST_CASE("planned images equal one lookup per field", "[field_image]") {
  std::mt19937 rng(7);
  InMemoryProjection projection;
  StateReader state(projection);
  for (const ObjectMap& map : Maps()) {
    const ImagePlan plan(map);
    // (Members of LDAP groups resolve through the projection: with an
    // empty one none does, so the LDAP reference leaves them out.)
    std::vector<std::string> ldap_names = {"cn", "objectClass", "uid",
                                           map.aliases_attribute,
                                           map.members_attribute};
    std::vector<std::string> mail_names = {std::string(field::kAliases),
                                           std::string(field::kMembers), "zzz",
                                           "aaa"};
    for (const FieldMapping& f : map.fields) {
      ldap_names.push_back(f.attribute);
      mail_names.push_back(f.field);
    }
    ImageBuffer out;  // reused, and holding something to begin with
    out.Append("stale").values = {"x", "y"};
    for (int round = 0; round < 2000; ++round) {
      const bool sorted = round % 3 != 0;
      const AttrList ldap = RandomAttrs(&rng, ldap_names, sorted);
      LdapImage(ldap, "", "jdoe@example.com", plan, &state, nullptr, &out);
      CHECK(out.list() == ReferenceLdapImage(ldap, "jdoe@example.com", map));
      const AttrList mail = RandomAttrs(&rng, mail_names, sorted);
      MailImage(mail, plan, "jdoe@example.com", &out);
      CHECK(out.list() == ReferenceMailImage(mail, map, "jdoe@example.com"));
    }
  }
}

}  // namespace dirledger

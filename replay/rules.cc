#include "replay/rules.h"

#include <algorithm>
#include <cmath>

namespace dirledger {
namespace {

// The longest common suffix of normalized DNs, on RDN boundaries.
std::string CommonSuffix(const std::vector<std::string>& dns) {
  if (dns.empty()) return "";
  auto split = [](const std::string& dn) {
    std::vector<std::string> rdns;
    size_t start = 0;
    for (size_t i = 0; i <= dn.size(); ++i) {
      if (i == dn.size() || (dn[i] == ',' && (i == 0 || dn[i - 1] != '\\'))) {
        rdns.push_back(dn.substr(start, i - start));
        start = i + 1;
      }
    }
    return rdns;
  };
  std::vector<std::string> common = split(dns[0]);
  for (size_t k = 1; k < dns.size(); ++k) {
    std::vector<std::string> r = split(dns[k]);
    size_t n = 0;
    while (n < common.size() && n < r.size() &&
           common[common.size() - 1 - n] == r[r.size() - 1 - n])
      ++n;
    common.erase(common.begin(), common.end() - static_cast<long>(n));
  }
  std::string out;
  for (const std::string& rdn : common) {
    if (!out.empty()) out += ',';
    out += rdn;
  }
  return out;
}

// The base DN a template names: a leading RDN that holds the account
// (%u or %e, as in "uid=%u,ou=people,%D") is the entry's own RDN, not part
// of the base.
std::string BaseOf(std::string_view templ, std::string_view domain) {
  std::string_view t = templ;
  size_t comma = std::string_view::npos;
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] == '\\') {
      ++i;
      continue;
    }
    if (t[i] == ',') {
      comma = i;
      break;
    }
  }
  const std::string_view first = t.substr(0, comma);
  if (comma != std::string_view::npos &&
      (first.find("%u") != std::string_view::npos ||
       first.find("%e") != std::string_view::npos))
    t = t.substr(comma + 1);
  return NormalizeDn(ExpandVariables(t, "", domain));
}

}  // namespace

std::string NormalizeDn(std::string_view dn) {
  std::string out;
  out.reserve(dn.size());
  bool escaped = false;
  for (size_t i = 0; i < dn.size(); ++i) {
    char c = dn[i];
    if (escaped) {
      out += c;
      escaped = false;
      continue;
    }
    if (c == '\\') {
      out += c;
      escaped = true;
      continue;
    }
    if (c == ',' || c == '=' || c == '+') {
      while (!out.empty() && out.back() == ' ') out.pop_back();
      out += c;
      while (i + 1 < dn.size() && dn[i + 1] == ' ') ++i;
      continue;
    }
    out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  size_t lead = 0;
  while (lead < out.size() && out[lead] == ' ') ++lead;
  return out.substr(lead);
}

bool DnIsUnder(std::string_view dn, std::string_view base) {
  if (base.empty()) return true;
  if (dn.size() < base.size()) return false;
  if (dn.substr(dn.size() - base.size()) != base) return false;
  return dn.size() == base.size() || dn[dn.size() - base.size() - 1] == ',';
}

std::uint64_t ConnectorRules::DeleteThreshold(std::uint64_t known) const {
  if (config.delete_threshold_percent > 0)
    return static_cast<std::uint64_t>(std::floor(
        static_cast<double>(known) * config.delete_threshold_percent / 100.0));
  return config.delete_threshold;
}

Result<std::shared_ptr<const RuleSet>> RuleSet::Compile(Config config) {
  auto rules = std::make_shared<RuleSet>();
  AddressOwnership ownership;
  ownership.enforced = config.reconciler_rules >= 6;
  ownership.aliases_held = config.reconciler_rules >= 7;
  for (const DomainConfig& d : config.domains)
    ownership.domains.push_back(AsciiLower(d.name));
  std::sort(ownership.domains.begin(), ownership.domains.end());
  for (const ConnectorConfig& c : config.connectors) {
    ConnectorRules r;
    r.config = c;
    if (c.custom_schema_file.empty()) {
      r.map = AttributeMap::Default(c.server_type);
    } else {
      auto m =
          AttributeMap::WithCustomSchema(c.server_type, c.custom_schema_text,
                                         config.Resolve(c.custom_schema_file));
      if (!m.ok())
        return m.status().WithContext("connector \"" + c.name +
                                      "\": custom_schema_file");
      r.map = std::move(m).value();
    }
    std::vector<std::string> bases;
    for (const DomainConfig& d : config.domains) {
      if (d.connector != c.name) continue;
      DomainScope s;
      s.domain = AsciiLower(d.name);
      s.ldap_sync = d.ldap_sync;
      s.account_base = BaseOf(c.account_base_dn, s.domain);
      if (c.group_sync) s.group_base = BaseOf(c.group_base_dn, s.domain);
      bases.push_back(s.account_base);
      if (!s.group_base.empty()) bases.push_back(s.group_base);
      r.domains.push_back(std::move(s));
    }
    r.search_base = c.search_base.empty() ? CommonSuffix(bases)
                                          : NormalizeDn(c.search_base);
    r.account_plan = ImagePlan(r.map.account);
    r.group_plan = ImagePlan(r.map.group);
    r.account_plan.set_ownership(ownership);
    r.group_plan.set_ownership(ownership);
    rules->connectors_.push_back(std::move(r));
  }
  rules->config_ = std::move(config);
  return std::shared_ptr<const RuleSet>(std::move(rules));
}

const ConnectorRules* RuleSet::connector(std::string_view name) const {
  for (const ConnectorRules& c : connectors_)
    if (c.config.name == name) return &c;
  return nullptr;
}

const DomainScope* RuleSet::Scope(std::string_view connector,
                                  std::string_view domain) const {
  const ConnectorRules* c = this->connector(connector);
  if (!c) return nullptr;
  for (const DomainScope& s : c->domains)
    if (EqualsIgnoreCase(s.domain, domain)) return &s;
  return nullptr;
}

std::optional<Classification> RuleSet::Classify(std::string_view connector,
                                                std::string_view dn,
                                                const AttrList& attrs) const {
  const ConnectorRules* c = this->connector(connector);
  if (!c) return std::nullopt;
  const std::vector<std::string>& classes = AttrValues(attrs, "objectClass");
  Classification out;
  const ObjectMap* map = nullptr;
  if (c->map.account.Matches(classes)) {
    out.kind = ObjectKind::kAccount;
    map = &c->map.account;
  } else if (c->config.group_sync && c->map.group.Matches(classes)) {
    out.kind = ObjectKind::kGroup;
    map = &c->map.group;
  } else {
    return std::nullopt;
  }
  const std::string ndn = NormalizeDn(dn);
  // The most specific base wins when domains nest (a.example.com under
  // example.com).
  size_t best = 0;
  for (const DomainScope& s : c->domains) {
    const std::string& base =
        out.kind == ObjectKind::kAccount ? s.account_base : s.group_base;
    if (base.empty() || !DnIsUnder(ndn, base)) continue;
    if (out.domain.empty() || base.size() > best) {
      out.domain = s.domain;
      best = base.size();
    }
  }
  if (out.domain.empty()) return std::nullopt;
  out.name = std::string(FirstValue(attrs, map->name_attribute));
  if (!out.name.empty()) out.address = AsciiLower(out.name) + "@" + out.domain;
  return out;
}

}  // namespace dirledger

#include "engine/ldap/ldap_entry.h"

#include <ldap.h>

#include <algorithm>

#include "codecs/utf8.h"

namespace dirledger {

bool IsSecretAttribute(std::string_view name) {
  // An attribute description may carry options ("userPassword;binary").
  const std::string_view base = name.substr(0, name.find(';'));
  return EqualsIgnoreCase(base, "userPassword") ||
         EqualsIgnoreCase(base, "authPassword") ||
         EqualsIgnoreCase(base, "unicodePwd") ||
         EqualsIgnoreCase(base, "sambaNTPassword") ||
         EqualsIgnoreCase(base, "sambaLMPassword");
}

Result<LdapEntry> ReadEntry(LDAP* ld, LDAPMessage* msg,
                            const EntryReadOptions& options) {
  LdapEntry entry;
  BerElement* ber = nullptr;
  berval dn{};
  int rc = ldap_get_dn_ber(ld, msg, &ber, &dn);
  if (rc != LDAP_SUCCESS)
    return Status::InvalidArgument(std::string("undecodable search entry: ") +
                                   ldap_err2string(rc));
  entry.dn.assign(dn.bv_val, dn.bv_len);
  if (options.require_utf8 && !IsValidUtf8(entry.dn))
    entry.problem = "DN is not valid UTF-8";
  berval attr{};
  BerVarray vals = nullptr;
  for (rc = ldap_get_attribute_ber(ld, msg, ber, &attr, &vals);
       rc == LDAP_SUCCESS && attr.bv_val != nullptr;
       rc = ldap_get_attribute_ber(ld, msg, ber, &attr, &vals)) {
    std::string_view name(attr.bv_val, attr.bv_len);
    if (IsSecretAttribute(name)) {
      ber_memfree(vals);
      vals = nullptr;
      continue;
    }
    Attribute a;
    a.name.assign(name);
    const bool binary = std::any_of(
        options.binary_attributes.begin(), options.binary_attributes.end(),
        [&](const std::string& b) { return EqualsIgnoreCase(b, name); });
    std::size_t count = 0;
    for (BerVarray v = vals; v && v->bv_val; ++v) ++count;
    a.values.reserve(count);
    for (BerVarray v = vals; v && v->bv_val; ++v) {
      std::string_view value(v->bv_val, v->bv_len);
      if (entry.problem.empty()) {
        if (options.max_value_bytes && value.size() > options.max_value_bytes) {
          entry.problem = "attribute " + a.name + " has a value of " +
                          std::to_string(value.size()) +
                          " bytes, over the limit of " +
                          std::to_string(options.max_value_bytes);
        } else if (options.require_utf8 && !binary && !IsValidUtf8(value)) {
          entry.problem =
              "attribute " + a.name + " has a value that is not valid UTF-8";
        }
      }
      a.values.emplace_back(value);
    }
    ber_memfree(vals);
    vals = nullptr;
    entry.attrs.push_back(std::move(a));
  }
  ber_free(ber, 0);
  if (rc != LDAP_SUCCESS)
    return Status::InvalidArgument("undecodable attributes in entry \"" +
                                   entry.dn + "\": " + ldap_err2string(rc));
  return entry;
}

}  // namespace dirledger

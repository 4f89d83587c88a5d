#include "engine/ldap/ldap_entry.h"

#include <ldap.h>

#include <algorithm>

#include "codecs/utf8.h"

namespace dirledger {

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
    if (IsSecretAttribute(name, options.secret_attributes)) {
      ber_memfree(vals);
      vals = nullptr;
      continue;
    }
    Attribute a;
    a.name.assign(name);
    const auto named = [&](const std::vector<std::string>& names) {
      return std::any_of(names.begin(), names.end(), [&](const std::string& b) {
        return EqualsIgnoreCase(b, name);
      });
    };
    const bool binary = named(options.binary_attributes);
    const bool checked =
        options.checked_attributes.empty() || named(options.checked_attributes);
    std::size_t count = 0;
    bool oversized = false;
    for (BerVarray v = vals; v && v->bv_val; ++v) {
      ++count;
      if (options.max_value_bytes && v->bv_len > options.max_value_bytes)
        oversized = true;
    }
    if (!checked && oversized) {
      entry.left_out.push_back(a.name);
      ber_memfree(vals);
      vals = nullptr;
      continue;
    }
    a.values.reserve(count);
    for (BerVarray v = vals; v && v->bv_val; ++v) {
      std::string_view value(v->bv_val, v->bv_len);
      if (checked && entry.problem.empty()) {
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

#include "replay/address_ownership.h"

#include <algorithm>

#include "codecs/attributes.h"
#include "replay/attribute_map.h"

namespace dirledger {
namespace {

static_assert(kMailAliasesAttribute == field::kAliases,
              "the alias index lists the mail field aliases");

constexpr ObjectKind kKinds[] = {ObjectKind::kAccount, ObjectKind::kGroup};

// Whether mail object `mail_id` is the one linked to the LDAP entry (during
// a rename its old address may stay among its aliases).
bool LinkedTo(StateReader* state, ObjectKind kind, std::string_view mail_id,
              std::string_view own_id, std::string_view own_dn) {
  const LinkState* link = state->LinkByMail(kind, mail_id);
  if (!link) return false;
  if (!own_id.empty()) return link->ldap_id == own_id;
  const ObjectState* entry = state->Object(Side::kLdap, kind, link->ldap_id);
  return entry && EqualsIgnoreCase(entry->dn, own_dn);
}

}  // namespace

std::string AliasRefusal(const AddressOwnership& ownership, StateReader* state,
                         std::string_view alias, std::string_view own_id,
                         std::string_view own_dn,
                         std::string_view own_address) {
  if (!ownership.enforced || EqualsIgnoreCase(alias, own_address)) return "";
  const size_t at = alias.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == alias.size())
    return "it is not a mail address";
  const std::string domain = AsciiLower(alias.substr(at + 1));
  if (!std::binary_search(ownership.domains.begin(), ownership.domains.end(),
                          domain))
    return "its domain " + domain + " is not a configured domain";
  for (ObjectKind kind : kKinds) {
    const ObjectState* o = state->Object(Side::kMail, kind, alias);
    if (o && !LinkedTo(state, kind, alias, own_id, own_dn))
      return "it is the address of mail " + std::string(KindName(kind)) + " " +
             o->id;
  }
  if (ownership.aliases_held) {
    for (ObjectKind kind : kKinds)
      for (const std::string& holder : state->IdsByAlias(kind, alias))
        // The mail object at the entry's own address is its counterpart,
        // linked or not yet (an LDAP entry being created for it).
        if (!EqualsIgnoreCase(holder, own_address) &&
            !LinkedTo(state, kind, holder, own_id, own_dn))
          return "it is an alias of mail " + std::string(KindName(kind)) + " " +
                 holder;
  }
  for (ObjectKind kind : kKinds) {
    const std::string_view* id = state->IdByAddress(Side::kLdap, kind, alias);
    if (!id) continue;
    if (!own_id.empty() && *id == own_id) continue;
    const ObjectState* o = state->Object(Side::kLdap, kind, *id);
    if (o && !EqualsIgnoreCase(o->dn, own_dn))
      return "it is the address of LDAP " + std::string(KindName(kind)) + " " +
             o->dn;
  }
  return "";
}

std::string AddressWaitMessage(std::string_view own_address,
                               std::string_view reason) {
  return "address " + std::string(own_address) +
         " not made yet: " + std::string(reason) + "; made once it is let go";
}

std::string WithoutAddressWait(std::string_view message) {
  if (message.substr(0, 8) != "address ") return std::string(message);
  const size_t rest = message.find("; aliases not given to ");
  return rest == std::string_view::npos ? std::string()
                                        : std::string(message.substr(rest + 2));
}

std::string RefusalMessage(
    std::string_view own_address,
    const std::vector<std::pair<std::string, std::string>>& refused) {
  std::string out = "aliases not given to " + std::string(own_address) + ": ";
  for (size_t k = 0; k < refused.size(); ++k) {
    if (k > 0) out += "; ";
    out += refused[k].first + " (" + refused[k].second + ")";
  }
  return out;
}

}  // namespace dirledger

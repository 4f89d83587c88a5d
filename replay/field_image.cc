#include "replay/field_image.h"

#include <algorithm>
#include <optional>

#include "replay/intent_writes.h"
#include "replay/rules.h"

namespace dirledger {
namespace {

std::optional<std::string_view> StripPrefix(std::string_view v,
                                            std::string_view prefix) {
  if (prefix.empty()) return v;
  if (v.size() < prefix.size() ||
      !EqualsIgnoreCase(v.substr(0, prefix.size()), prefix))
    return std::nullopt;
  return v.substr(prefix.size());
}

// AD marks the primary address with an upper-case prefix ("SMTP:").
std::string AsciiUpperPrefix(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

void LowerInPlace(std::string* s) {
  for (char& c : *s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
}

// Sets `values` to the value `v` alone.
void SetOne(std::vector<std::string>* values, const std::string& v) {
  values->resize(1);
  (*values)[0].assign(v);
}

// Appends `v` to the first `*n` strings of `values`, reusing storage.
std::string& Append(std::vector<std::string>* values, size_t* n,
                    std::string_view v) {
  if (*n == values->size()) values->emplace_back();
  std::string& out = (*values)[(*n)++];
  out.assign(v);
  return out;
}

// Defined below, with the member resolution.
std::string KeptGoneMember(std::string_view dn, std::string_view group_id,
                           StateReader* state);

}  // namespace

void MailImage(const AttrList& attrs, const ImagePlan& plan,
               std::string_view own_address, ImageBuffer* out) {
  ImagePlan::Found found;
  plan.Find(attrs, /*ldap=*/false, &found);
  out->Clear();
  for (size_t k = 0; k < plan.fields().size(); ++k) {
    const ImagePlan::Field& f = plan.fields()[k];
    static const std::vector<std::string> kNone;
    const std::vector<std::string>& v = found[k] ? *found[k] : kNone;
    if (v.empty()) continue;
    Attribute& a = out->Append(f.name);
    if (f.role == ImagePlan::Role::kContact) {
      SetOne(&a.values, v.front());
      continue;
    }
    size_t n = 0;
    for (const std::string& x : v) {
      if (x.empty()) continue;
      if (f.role == ImagePlan::Role::kAliases &&
          EqualsIgnoreCase(x, own_address))
        continue;
      LowerInPlace(&Append(&a.values, &n, x));
    }
    a.values.resize(n);
    if (n == 0) {
      out->Truncate(out->list().size() - 1);
      continue;
    }
    CanonicalizeValues(&a.values);
  }
}

void LdapImage(const AttrList& attrs, std::string_view own_dn,
               std::string_view own_address, const ImagePlan& plan,
               StateReader* state, std::vector<std::string>* unresolved,
               ImageBuffer* out, RefusedAliases* refused,
               std::string_view own_id) {
  ImagePlan::Found found;
  plan.Find(attrs, /*ldap=*/true, &found);
  out->Clear();
  for (size_t k = 0; k < plan.fields().size(); ++k) {
    const ImagePlan::Field& f = plan.fields()[k];
    static const std::vector<std::string> kNone;
    const std::vector<std::string>& v = found[k] ? *found[k] : kNone;
    if (v.empty()) continue;
    Attribute& a = out->Append(f.name);
    size_t n = 0;
    switch (f.role) {
      case ImagePlan::Role::kContact:
        SetOne(&a.values, v.front());
        continue;
      case ImagePlan::Role::kAliases:
        for (const std::string& x : v) {
          auto stripped = StripPrefix(x, plan.aliases_prefix());
          if (!stripped || stripped->empty() ||
              EqualsIgnoreCase(*stripped, own_address))
            continue;
          std::string& alias = Append(&a.values, &n, *stripped);
          LowerInPlace(&alias);
          if (!plan.ownership().enforced) continue;
          std::string why = AliasRefusal(plan.ownership(), state, alias, own_id,
                                         own_dn, own_address);
          if (why.empty()) continue;
          if (refused) refused->emplace_back(alias, std::move(why));
          --n;  // left out of the image
        }
        if (refused) {
          std::sort(refused->begin(), refused->end());
          refused->erase(std::unique(refused->begin(), refused->end()),
                         refused->end());
        }
        break;
      case ImagePlan::Role::kMembers:
        for (const std::string& dn : v) {
          if (EqualsIgnoreCase(dn, own_dn)) continue;  // groupOfNames filler
          std::string address = MemberAddressOfDn(dn, state);
          if (address.empty()) address = KeptGoneMember(dn, own_id, state);
          if (address.empty()) {
            if (unresolved) unresolved->push_back(dn);
            continue;
          }
          Append(&a.values, &n, address);
        }
        break;
    }
    a.values.resize(n);
    if (n == 0) {
      out->Truncate(out->list().size() - 1);
      continue;
    }
    CanonicalizeValues(&a.values);
  }
}

AttrList MailImage(const AttrList& attrs, const ObjectMap& map,
                   std::string_view own_address) {
  ImageBuffer out;
  MailImage(attrs, ImagePlan(map), own_address, &out);
  return out.list();
}

AttrList LdapImage(const AttrList& attrs, std::string_view own_dn,
                   std::string_view own_address, const ObjectMap& map,
                   StateReader* state, std::vector<std::string>* unresolved) {
  ImageBuffer out;
  LdapImage(attrs, own_dn, own_address, ImagePlan(map), state, unresolved,
            &out);
  return out.list();
}

std::vector<std::string> RefusedAddresses(const AttrList& attrs,
                                          std::string_view own_dn,
                                          std::string_view own_address,
                                          const ImagePlan& plan,
                                          StateReader* state,
                                          std::string_view own_id) {
  std::vector<std::string> out;
  if (!plan.ownership().enforced) return out;
  ImageBuffer image;
  RefusedAliases refused;
  LdapImage(attrs, own_dn, own_address, plan, state, nullptr, &image, &refused,
            own_id);
  for (auto& [alias, why] : refused) out.push_back(std::move(alias));
  return out;
}

std::vector<std::string> DiffFields(const AttrList& a, const AttrList& b) {
  std::vector<std::string> out;
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    int c = i == a.size()   ? 1
            : j == b.size() ? -1
                            : CompareIgnoreCase(a[i].name, b[j].name);
    if (c < 0) {
      out.push_back(a[i++].name);
    } else if (c > 0) {
      out.push_back(b[j++].name);
    } else {
      if (a[i].values != b[j].values) out.push_back(a[i].name);
      ++i;
      ++j;
    }
  }
  return out;
}

// Whether the object (side, kind, id) exists once the intents pending on it
// are applied: a member must have a counterpart that is there to stay.
bool Alive(StateReader* state, Side side, ObjectKind kind,
           const std::string& id) {
  bool alive = state->Object(side, kind, id) != nullptr;
  std::vector<const PendingIntent*> pending;
  state->PendingFor(side, kind, id, &pending);
  for (const PendingIntent* p : pending) {
    if (p->applied) continue;
    if (p->intent.op == IntentOp::kDelete) alive = false;
    if (p->intent.op == IntentOp::kAdd ||
        (p->intent.op == IntentOp::kRename && side == Side::kMail))
      alive = true;
  }
  return alive;
}

std::string GoneDnKey(std::string_view dn) { return "gone:" + NormalizeDn(dn); }

std::string GoneAddressKey(std::string_view address) {
  return "gone:" + AsciiLower(address);
}

namespace {

// The address of the gone member at `dn` (no entry has it): "" when none,
// or when the address is another entry's now.
std::string GoneMemberAddress(std::string_view dn, StateReader* state) {
  for (const std::string& address :
       state->WaitingFor(Side::kLdap, GoneDnKey(dn))) {
    bool taken = false;
    for (ObjectKind kind : {ObjectKind::kAccount, ObjectKind::kGroup}) {
      const LinkState* link = state->LinkByMail(kind, address);
      if (!link) continue;
      const ObjectState* o = state->Object(Side::kLdap, kind, link->ldap_id);
      if (o && !SameDn(o->dn, dn)) taken = true;
    }
    if (!taken) return address;
  }
  return "";
}

// The gone member at `dn` (GoneMemberAddress) as a member of LDAP group
// `group_id`: only while the group's mail group lists its address still.
// The two sides then agree on it, and either side's removal reaches the
// other; it is never written to a mail group as a new member (the account
// is gone: a mail directory may refuse it). MemberDnOfAddress resolves the
// address to the DN for writes to LDAP, additions included.
std::string KeptGoneMember(std::string_view dn, std::string_view group_id,
                           StateReader* state) {
  if (group_id.empty()) return "";
  std::string address = GoneMemberAddress(dn, state);
  if (address.empty()) return "";
  const LinkState* link =
      state->LinkByLdap(ObjectKind::kGroup, std::string(group_id));
  if (!link) return "";
  const ObjectState* m =
      state->Object(Side::kMail, ObjectKind::kGroup, link->mail_id);
  if (!m || !HasValueIgnoreCase(AttrValues(m->attrs, field::kMembers), address))
    return "";
  return address;
}

}  // namespace

std::string MemberAddressOfDn(std::string_view dn, StateReader* state) {
  const std::string_view* found = state->IdByDn(Side::kLdap, dn);
  if (!found) return "";
  const std::string id(*found);
  for (ObjectKind kind : {ObjectKind::kAccount, ObjectKind::kGroup}) {
    const LinkState* link = state->LinkByLdap(kind, id);
    if (!link) continue;
    const std::string mail_id = link->mail_id;
    if (!Alive(state, Side::kLdap, kind, id) ||
        !Alive(state, Side::kMail, kind, mail_id))
      return "";
    return mail_id;
  }
  return "";
}

std::string MemberDnOfAddress(std::string_view address, StateReader* state,
                              bool linked_only) {
  for (ObjectKind kind : {ObjectKind::kAccount, ObjectKind::kGroup}) {
    const LinkState* link = state->LinkByMail(kind, address);
    if (link && link->mail_id == address) {
      if (const ObjectState* o =
              state->Object(Side::kLdap, kind, link->ldap_id))
        return o->dn;
    }
  }
  for (ObjectKind kind : {ObjectKind::kAccount, ObjectKind::kGroup}) {
    if (const std::string_view* id =
            state->IdByAddress(Side::kLdap, kind, address)) {
      const LinkState* link =
          linked_only ? state->LinkByLdap(kind, *id) : nullptr;
      if (link && !EqualsIgnoreCase(link->mail_id, address)) continue;
      if (const ObjectState* o = state->Object(Side::kLdap, kind, *id))
        return o->dn;
    }
  }
  for (ObjectKind kind : {ObjectKind::kAccount, ObjectKind::kGroup}) {
    const ObjectState* m = state->Object(Side::kMail, kind, address);
    if (m && m->creating_intent != 0)
      if (const PendingIntent* p = state->Pending(m->creating_intent))
        return p->intent.dn;
  }
  for (const std::string& dn :
       state->WaitingFor(Side::kMail, GoneAddressKey(address)))
    if (!state->IdByDn(Side::kLdap, dn)) return dn;
  return "";
}

std::vector<std::string> LdapAliasValues(
    const std::vector<std::string>& current,
    const std::vector<std::string>& aliases, const ObjectMap& map,
    std::string_view own_address, const std::vector<std::string>& refused) {
  std::vector<std::string> out;
  bool has_primary = false;
  for (const std::string& v : current) {
    auto stripped = StripPrefix(v, map.aliases_prefix);
    if (!stripped) {
      out.push_back(v);  // not an address value (X500:, ...): kept
    } else if (EqualsIgnoreCase(*stripped, own_address)) {
      out.push_back(v);
      has_primary = true;
    } else if (std::any_of(refused.begin(), refused.end(),
                           [&](const std::string& r) {
                             return EqualsIgnoreCase(r, *stripped);
                           })) {
      out.push_back(v);  // not in the image (rules version 6): kept
    }
  }
  if (!has_primary && !own_address.empty())
    out.push_back(AsciiUpperPrefix(map.aliases_prefix) +
                  std::string(own_address));
  for (const std::string& a : aliases) out.push_back(map.aliases_prefix + a);
  CanonicalizeValues(&out);
  return out;
}

}  // namespace dirledger

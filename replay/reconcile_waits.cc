// Objects waiting in the projection (WaitingFor) for something to become
// known: groups for members that could not be resolved when they were
// decided, LDAP entries for a mail address another entry still held; and
// the LDAP groups listing each member DN (rules version 7)
// (docs/rules.md, "Group membership" and "Linking").
#include <algorithm>
#include <charconv>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "replay/address_ownership.h"
#include "replay/field_image.h"
#include "replay/intent_writes.h"
#include "replay/ldap_entry.h"
#include "replay/reconcile_internal.h"

namespace dirledger {
namespace {

// The connector of LDAP group `g` when its membership goes to the mail
// side (its domain synced, group_sync on, the direction taking LDAP's
// changes); null otherwise.
const ConnectorRules* GroupSyncFromLdap(DecisionBuilder& b,
                                        const ObjectState& g) {
  const ConnectorRules* cr = b.rules.connector(g.connector);
  const DomainScope* scope =
      cr ? b.rules.Scope(g.connector, g.domain) : nullptr;
  if (!scope || !scope->ldap_sync || !cr->config.group_sync ||
      !Propagates(cr->config.direction, Side::kLdap))
    return nullptr;
  return cr;
}

Intent MemberAdd(Side target, const std::string& target_id,
                 const std::string& dn, const std::string& domain,
                 const std::string& connector, const std::string& attribute,
                 const std::string& value, const std::string& source_id) {
  Intent i;
  i.target = target;
  i.kind = ObjectKind::kGroup;
  i.op = IntentOp::kModify;
  i.target_id = target_id;
  i.dn = dn;
  i.domain = domain;
  i.connector = connector;
  i.add_values.push_back(Attribute{attribute, {value}});
  i.source_id = source_id;
  return i;
}

// One way from mail: the mail object `mail` (field image `there`) is the
// authority over the LDAP entry `x` (field image `image`) that takes its
// address: the entry is written the mail object's values, as at a first
// meeting (docs/rules.md section 4). Member addresses without a known entry
// are left out; the mail group waits for them.
Intent MailValuesToEntry(DecisionBuilder& b, const ObjectState& x,
                         const ObjectMap& map, const ImagePlan& plan,
                         const AttrList& image, const ObjectState& mail,
                         const AttrList& there) {
  Intent i;
  i.target = Side::kLdap;
  i.kind = x.kind;
  i.op = IntentOp::kModify;
  i.target_id = x.id;
  i.dn = x.dn;
  i.domain = x.domain;
  i.connector = x.connector;
  i.source_id = mail.id;
  i.expected_version = x.version;
  AttrList fields;
  for (const std::string& f : DiffFields(image, there))
    if (!EqualsIgnoreCase(f, field::kMembers))
      fields.push_back(Attribute{f, AttrValues(there, f)});
  LdapWrites(fields, map, x.attrs, x.address, &i.set, &i.expect,
             RefusedAddresses(x.attrs, x.dn, x.address, plan, &b.state, x.id));
  if (x.kind != ObjectKind::kGroup || map.members_attribute.empty()) return i;
  const auto& mv = AttrValues(there, field::kMembers);
  const auto& lv = AttrValues(image, field::kMembers);
  auto dns = [&](const std::vector<std::string>& addresses, bool wait) {
    std::vector<std::string> out;
    for (const std::string& a : addresses) {
      std::string dn = MemberDnOfAddress(
          a, &b.state, b.rules.config().reconciler_rules >= 10);
      if (!dn.empty())
        out.push_back(std::move(dn));
      else if (wait)
        b.Put(PutWait{Side::kMail, AsciiLower(a), mail.id});
    }
    CanonicalizeValues(&out);
    return out;
  };
  std::vector<std::string> adds = dns(ValuesNotIn(mv, lv), true);
  std::vector<std::string> dels = dns(ValuesNotIn(lv, mv), false);
  // groupOfNames needs a member: the group itself stands in for none.
  AttrList after = x.attrs;
  Intent probe;
  probe.add_values.push_back(Attribute{map.members_attribute, adds});
  probe.delete_values.push_back(Attribute{map.members_attribute, dels});
  ApplyWrites(probe, &after);
  if (AttrValues(after, map.members_attribute).empty() && !dels.empty() &&
      HasValueIgnoreCase(AttrValues(x.attrs, "objectClass"), "groupOfNames"))
    adds.push_back(x.dn);
  if (!adds.empty())
    i.add_values.push_back(Attribute{map.members_attribute, adds});
  if (!dels.empty())
    i.delete_values.push_back(Attribute{map.members_attribute, dels});
  return i;
}

// The index key of the groups listing member `dn`.
std::string ListedKey(std::string_view dn) {
  return "member:" + NormalizeDn(dn);
}

// The index key of the groups that listed `dn` before an entry had it, and
// whose wait for it ended when one came (rules version 12): slapd's
// memberof recorded no membership for them, so its refint leaves them as
// they are when that entry goes, whoever deletes it.
std::string LateKey(std::string_view dn) { return "late:" + NormalizeDn(dn); }

bool KeepsLateMembers(const DecisionBuilder& b) {
  return b.rules.config().reconciler_rules >= 12;
}

// The mail group linked to LDAP group `gid` gets `address`, the mail
// counterpart of the member `dn` the LDAP group lists.
void MailGroupGets(DecisionBuilder& b, const std::string& gid,
                   const std::string& dn, const std::string& address) {
  // Rules version 7 see the group as this decision left it (a member it
  // gave back, RestoreReturningMember).
  const ObjectState* g =
      DropsLeftMembers(b)
          ? b.ObjectNow(Side::kLdap, ObjectKind::kGroup, gid)
          : b.state.Object(Side::kLdap, ObjectKind::kGroup, gid);
  if (!g) return;
  const ConnectorRules* cr = GroupSyncFromLdap(b, *g);
  if (!cr) return;
  const ObjectMap& map = MapFor(*cr, ObjectKind::kGroup);
  if (!HasValueIgnoreCase(AttrValues(g->attrs, map.members_attribute), dn))
    return;
  // Rules version 11: nor while a write taking it out of the LDAP group is
  // pending (a rollback removes a member whose entry it makes again, and
  // the entry's account may be made first).
  if (b.rules.config().reconciler_rules >= 11) {
    std::vector<const PendingIntent*> pending;
    b.state.PendingFor(Side::kLdap, ObjectKind::kGroup, gid, &pending);
    for (const PendingIntent* p : pending)
      if (HasValueIgnoreCase(
              AttrValues(p->intent.delete_values, map.members_attribute), dn))
        return;
  }
  const LinkState* link = b.state.LinkByLdap(ObjectKind::kGroup, gid);
  if (!link) return;
  const ObjectState* m =
      b.state.Object(Side::kMail, ObjectKind::kGroup, link->mail_id);
  if (m && HasValueIgnoreCase(AttrValues(m->attrs, field::kMembers), address))
    return;
  b.Id(gid);
  b.Id(link->mail_id);
  b.AddIntent(MemberAdd(Side::kMail, link->mail_id, link->mail_id, g->domain,
                        g->connector, std::string(field::kMembers), address,
                        gid));
}

}  // namespace

void ReleaseMemberWaits(DecisionBuilder& b, std::string_view ldap_dn,
                        std::string_view address) {
  const std::string dn(ldap_dn), addr(address);
  // LDAP groups listing `dn`: their mail groups get `address`.
  std::set<std::string> given;
  for (const std::string& gid : b.state.WaitingFor(Side::kLdap, dn)) {
    b.Put(EraseWait{Side::kLdap, AsciiLower(dn), gid});
    MailGroupGets(b, gid, dn, addr);
    given.insert(gid);
    if (KeepsLateMembers(b)) b.Put(PutWait{Side::kLdap, LateKey(dn), gid});
  }
  // And the groups whose wait for `dn` ended when an earlier entry came
  // (rules version 12): they list it still, unless they changed since
  // (IndexLdapMembers), so a new entry at the DN is their member. Before,
  // its address reached no mail group, the LDAP group listing it.
  if (KeepsLateMembers(b))
    for (const std::string& gid : b.state.WaitingFor(Side::kLdap, LateKey(dn)))
      if (given.insert(gid).second) MailGroupGets(b, gid, dn, addr);
  // And the groups that listed `dn` while an entry had it, and list it
  // still: dirledger's own delete of that entry left them as they were
  // (its assertion control keeps slapd's refint out), so a new entry at
  // the DN is their member, in LDAP's eyes as in the mail group's from
  // rules version 8. Before, its address reached no mail group until the
  // LDAP group changed again.
  if (b.rules.config().reconciler_rules >= 8)
    for (const std::string& gid :
         b.state.WaitingFor(Side::kLdap, ListedKey(dn)))
      if (given.insert(gid).second) MailGroupGets(b, gid, dn, addr);
  // Mail groups listing `address`: their LDAP groups get `dn`.
  for (const std::string& gid : b.state.WaitingFor(Side::kMail, addr)) {
    b.Put(EraseWait{Side::kMail, AsciiLower(addr), gid});
    const ObjectState* g = b.state.Object(Side::kMail, ObjectKind::kGroup, gid);
    if (!g) continue;
    const DomainConfig* domain = b.rules.config().FindDomain(g->domain);
    if (!domain || !domain->ldap_sync) continue;
    const ConnectorRules* cr = b.rules.connector(domain->connector);
    if (!cr || !cr->config.group_sync ||
        !Propagates(cr->config.direction, Side::kMail))
      continue;
    if (!HasValueIgnoreCase(AttrValues(g->attrs, field::kMembers), addr))
      continue;
    const ObjectMap& map = MapFor(*cr, ObjectKind::kGroup);
    std::string target_id, target_dn;
    const LinkState* link = b.state.LinkByMail(ObjectKind::kGroup, gid);
    if (link && link->mail_id == gid) {
      const ObjectState* l =
          b.state.Object(Side::kLdap, ObjectKind::kGroup, link->ldap_id);
      if (!l) continue;
      if (HasValueIgnoreCase(AttrValues(l->attrs, map.members_attribute), dn))
        continue;
      target_id = l->id;
      target_dn = l->dn;
    } else {
      // Not linked yet (its entry may be being created: the add's outcome
      // writes what the mail group has by then).
      continue;
    }
    b.Id(gid);
    b.Id(target_dn);
    b.AddIntent(MemberAdd(Side::kLdap, target_id, target_dn, g->domain,
                          domain->connector, map.members_attribute, dn, gid));
  }
}

namespace {

// The key of the groups the LDAP entry `id` was dropped from when it left.
std::string LeftKey(std::string_view id) { return "left:" + std::string(id); }

// The member attribute of LDAP group `g` ("" when it has none).
const std::string& MemberAttribute(DecisionBuilder& b, const ObjectState& g) {
  static const std::string kNone;
  const ConnectorRules* cr = b.rules.connector(g.connector);
  return cr ? MapFor(*cr, ObjectKind::kGroup).members_attribute : kNone;
}

// The members of LDAP group `g` (its `attribute`) without `dn`; none when
// it does not list `dn`.
std::optional<std::vector<std::string>> MembersWithout(
    const ObjectState& g, const std::string& attribute, std::string_view dn) {
  std::vector<std::string> members = AttrValues(g.attrs, attribute);
  const size_t n = members.size();
  std::erase_if(members, [&](const std::string& m) { return SameDn(m, dn); });
  if (members.size() == n) return std::nullopt;
  return members;
}

// The image of LDAP group `g` with its member `from` renamed to `to`, as the
// directory's referential integrity renames it, unreported (its version
// stays); none when `g` does not list `from`.
std::optional<ObjectState> WithMemberRenamed(DecisionBuilder& b,
                                             const ObjectState& g,
                                             std::string_view from,
                                             std::string_view to) {
  const std::string& attribute = MemberAttribute(b, g);
  if (attribute.empty()) return std::nullopt;
  std::optional<std::vector<std::string>> members =
      MembersWithout(g, attribute, from);
  if (!members) return std::nullopt;
  if (!HasValueIgnoreCase(*members, to)) members->emplace_back(to);
  CanonicalizeValues(&*members);
  ObjectState o = g;
  SetAttr(&o.attrs, attribute, std::move(*members));
  return o;
}

// Rules version 9: `dn` is the only member of LDAP group `g`, whose
// object class requires one (groupOfNames, groupOfUniqueNames). The
// directory's referential integrity cannot take it out (the modify would
// violate the schema: slapd's memberof-refint leaves such a group as it
// was), so the group still lists it.
bool KeepsOnlyMember(DecisionBuilder& b, const ObjectState& g,
                     std::string_view dn) {
  if (b.rules.config().reconciler_rules < 9) return false;
  const std::string& attribute = MemberAttribute(b, g);
  if (attribute.empty() || SameDn(g.dn, dn)) return false;
  const std::vector<std::string>& members = AttrValues(g.attrs, attribute);
  if (members.empty()) return false;
  for (const std::string& m : members)
    if (!SameDn(m, dn)) return false;
  const std::vector<std::string>& classes = AttrValues(g.attrs, "objectClass");
  return HasValueIgnoreCase(classes, "groupOfNames") ||
         HasValueIgnoreCase(classes, "groupOfUniqueNames");
}

}  // namespace

bool DropsLeftMembers(const DecisionBuilder& b) {
  return b.rules.config().reconciler_rules >= 7;
}

void IndexLdapMembers(DecisionBuilder& b, const std::string& group_id,
                      const AttrList* before, const AttrList* after,
                      const std::string& member_attribute) {
  if (member_attribute.empty()) return;
  static const std::vector<std::string> kNone;
  const std::vector<std::string>& was =
      before ? AttrValues(*before, member_attribute) : kNone;
  const std::vector<std::string>& now =
      after ? AttrValues(*after, member_attribute) : kNone;
  if (was == now) return;
  // Compared normalized, in sets: groups can have thousands of members.
  auto normalized = [](const std::vector<std::string>& dns) {
    std::map<std::string, const std::string*> out;
    for (const std::string& dn : dns) out.emplace(NormalizeDn(dn), &dn);
    return out;
  };
  const auto old_dns = normalized(was), new_dns = normalized(now);
  for (const auto& [dn, raw] : old_dns)
    if (!new_dns.count(dn)) {
      b.Put(EraseWait{Side::kLdap, ListedKey(dn), group_id});
      if (KeepsLateMembers(b)) {
        const std::vector<std::string> late =
            b.state.WaitingFor(Side::kLdap, LateKey(dn));
        if (std::find(late.begin(), late.end(), group_id) != late.end())
          b.Put(EraseWait{Side::kLdap, LateKey(dn), group_id});
      }
    }
  // Only a member whose entry exists when the group lists it: slapd's
  // memberof overlay records the membership on the entry then, and its
  // refint drops (or renames) the DN by that record. A DN listed before
  // its entry existed (a late member) stays in the group when the entry
  // is deleted.
  for (const auto& [dn, raw] : new_dns)
    if (!old_dns.count(dn) && b.state.IdByDn(Side::kLdap, *raw))
      b.Put(PutWait{Side::kLdap, ListedKey(dn), group_id});
}

namespace {

std::string RefreshKey(std::string_view source) {
  return "refresh:" + std::string(source);
}

// The key under which the DN an LDAP entry `id` that left the scope
// remains at is kept (rules version 11), until it returns.
std::string RemainsKey(std::string_view id) {
  return "remains:" + std::string(id);
}

}  // namespace

std::string RemainsAt(DecisionBuilder& b, std::string_view id) {
  for (const std::string& dn : b.state.WaitingFor(Side::kLdap, RemainsKey(id)))
    return dn;
  return "";
}

namespace {

// The refresh of `source` under way, by the seq of its Begin (0: none).
std::uint64_t RefreshUnderWay(DecisionBuilder& b, std::string_view source) {
  std::uint64_t refresh = 0;
  for (const std::string& seq :
       b.state.WaitingFor(Side::kLdap, RefreshKey(source)))
    refresh = std::max<std::uint64_t>(refresh, std::stoull(seq));
  return refresh;
}

// Forgets the groups of an earlier leave of `id`, and where it remained.
void ForgetLeave(DecisionBuilder& b, std::string_view id) {
  const std::string left = LeftKey(id), remains = RemainsKey(id);
  for (const std::string& gid : b.state.WaitingFor(Side::kLdap, left))
    b.Put(EraseWait{Side::kLdap, left, gid});
  for (const std::string& dn : b.state.WaitingFor(Side::kLdap, remains))
    b.Put(EraseWait{Side::kLdap, remains, dn});
}

}  // namespace

void MarkRefresh(DecisionBuilder& b, const RefreshPhase& p) {
  const std::string key = RefreshKey(p.source);
  for (const std::string& seq : b.state.WaitingFor(Side::kLdap, key))
    b.Put(EraseWait{Side::kLdap, key, seq});
  if (p.kind == PhaseKind::kBegin)
    b.Put(PutWait{Side::kLdap, key, std::to_string(b.seq)});
}

std::vector<std::string> DropLeftMember(DecisionBuilder& b, std::string_view id,
                                        std::string_view dn,
                                        std::string_view source,
                                        std::vector<std::string>* group_dns) {
  std::vector<std::string> dropped;
  // A group reported since the refresh that reports this delete began was
  // read after the delete: its members are the directory's already.
  const std::uint64_t refresh = RefreshUnderWay(b, source);
  // The groups of an earlier leave are forgotten: these are the ones now.
  ForgetLeave(b, id);
  const std::string left = LeftKey(id);
  const std::string key = ListedKey(dn);
  for (const std::string& gid : b.state.WaitingFor(Side::kLdap, key)) {
    const ObjectState* g = b.ObjectNow(Side::kLdap, ObjectKind::kGroup, gid);
    // The group keeps it, listed and indexed, a gone member (as its mail
    // group keeps the address): a new entry at the DN is its member
    // (ReleaseMemberWaits).
    if (g && KeepsOnlyMember(b, *g, dn)) continue;
    b.Put(EraseWait{Side::kLdap, key, gid});
    // A group that goes is no member of itself (its own DN stands in).
    if (!g || SameDn(g->dn, dn)) continue;
    if (refresh != 0 && g->version > refresh) continue;
    const std::string& attribute = MemberAttribute(b, *g);
    if (attribute.empty()) continue;
    std::optional<std::vector<std::string>> members =
        MembersWithout(*g, attribute, dn);
    if (!members) continue;
    ObjectState o = *g;  // its version stays: LDAP reported nothing
    SetAttr(&o.attrs, attribute, std::move(*members));
    DropEmptyAttrs(&o.attrs);
    b.Id(gid);
    b.Id(g->dn);
    dropped.push_back(gid);
    group_dns->push_back(g->dn);
    b.Put(PutWait{Side::kLdap, left, gid});
    b.Put(PutObject{std::move(o)});
  }
  return dropped;
}

std::vector<std::string> FollowLeftMember(DecisionBuilder& b,
                                          std::string_view id,
                                          std::string_view dn,
                                          std::string_view remains_at,
                                          std::string_view source,
                                          std::vector<std::string>* group_dns) {
  std::vector<std::string> renamed;
  const std::uint64_t refresh = RefreshUnderWay(b, source);
  ForgetLeave(b, id);
  const std::string left = LeftKey(id), to(remains_at);
  b.Put(PutWait{Side::kLdap, RemainsKey(id), to});
  const std::string key = ListedKey(dn);
  for (const std::string& gid : b.state.WaitingFor(Side::kLdap, key)) {
    b.Put(EraseWait{Side::kLdap, key, gid});
    const ObjectState* g = b.ObjectNow(Side::kLdap, ObjectKind::kGroup, gid);
    // A group that leaves too lists itself by its own DN: nothing to rename.
    if (!g || SameDn(g->dn, dn)) continue;
    // Read after the entry left: it lists the entry where it is already.
    if (refresh != 0 && g->version > refresh) continue;
    // The directory's referential integrity renamed it (also the only
    // member of a groupOfNames: a rename keeps the group valid). Listed
    // where no entry of the scope is, it is a member without a counterpart,
    // which waits as the members of a reported group do.
    std::optional<ObjectState> o = WithMemberRenamed(b, *g, dn, to);
    if (!o) continue;
    b.Id(gid);
    b.Id(g->dn);
    renamed.push_back(gid);
    group_dns->push_back(g->dn);
    b.Put(PutWait{Side::kLdap, left, gid});
    b.Put(PutWait{Side::kLdap, AsciiLower(to), gid});
    b.Put(PutObject{std::move(*o)});
  }
  return renamed;
}

std::vector<std::string> FollowRenamedMember(DecisionBuilder& b,
                                             std::string_view id,
                                             std::string_view from,
                                             std::string_view to,
                                             std::string_view source) {
  std::vector<std::string> renamed;
  const std::uint64_t refresh = RefreshUnderWay(b, source);
  const std::string key = ListedKey(from);
  for (const std::string& gid : b.state.WaitingFor(Side::kLdap, key)) {
    const ObjectState* g = b.ObjectNow(Side::kLdap, ObjectKind::kGroup, gid);
    if (!g || gid == id) continue;  // a group renamed is no member of itself
    // Read after the rename: it lists the entry where it is already.
    if (refresh != 0 && g->version > refresh) continue;
    std::optional<ObjectState> o = WithMemberRenamed(b, *g, from, to);
    if (!o) continue;
    b.Put(EraseWait{Side::kLdap, key, gid});
    b.Id(gid);
    renamed.push_back(g->dn);
    b.Put(PutWait{Side::kLdap, ListedKey(to), gid});
    b.Put(PutObject{std::move(*o)});
  }
  return renamed;
}

void RememberGoneMember(DecisionBuilder& b, ObjectKind kind,
                        const std::string& id, const std::string& dn,
                        const std::string& fallback_address) {
  const LinkState* link = b.state.LinkByLdap(kind, id);
  const std::string address = link ? link->mail_id : fallback_address;
  if (address.empty()) return;
  ForgetGoneMember(b, dn);
  const std::string by_address = GoneAddressKey(address);
  for (const std::string& old : b.state.WaitingFor(Side::kMail, by_address)) {
    b.Put(EraseWait{Side::kMail, by_address, old});
    b.Put(EraseWait{Side::kLdap, GoneDnKey(old), address});
  }
  b.Put(PutWait{Side::kLdap, GoneDnKey(dn), address});
  b.Put(PutWait{Side::kMail, by_address, dn});
}

void ForgetGoneMember(DecisionBuilder& b, const std::string& dn) {
  const std::string by_dn = GoneDnKey(dn);
  for (const std::string& address : b.state.WaitingFor(Side::kLdap, by_dn)) {
    b.Put(EraseWait{Side::kLdap, by_dn, address});
    const std::string by_address = GoneAddressKey(address);
    for (const std::string& old : b.state.WaitingFor(Side::kMail, by_address))
      if (SameDn(old, dn)) b.Put(EraseWait{Side::kMail, by_address, old});
  }
}

std::vector<std::string> RestoreReturningMember(DecisionBuilder& b,
                                                std::string_view id,
                                                std::string_view dn) {
  std::vector<std::string> restored;
  const std::string left = LeftKey(id);
  // Rules version 11: where the entry remained while it was out (its left
  // groups were renamed to that DN, and groups read while it was out list
  // it there). The directory renames that DN back, wherever it is listed.
  std::string remains;
  for (const std::string& dn_out :
       b.state.WaitingFor(Side::kLdap, RemainsKey(id))) {
    b.Put(EraseWait{Side::kLdap, RemainsKey(id), dn_out});
    remains = dn_out;
  }
  std::set<std::string> groups;
  for (const std::string& gid : b.state.WaitingFor(Side::kLdap, left)) {
    b.Put(EraseWait{Side::kLdap, left, gid});
    groups.insert(gid);
  }
  if (!remains.empty())
    for (const std::string& gid :
         b.state.WaitingFor(Side::kLdap, AsciiLower(remains)))
      groups.insert(gid);
  for (const std::string& gid : groups) {
    const ObjectState* g = b.ObjectNow(Side::kLdap, ObjectKind::kGroup, gid);
    if (!g) continue;
    const std::string& attribute = MemberAttribute(b, *g);
    if (attribute.empty()) continue;
    std::vector<std::string> members = AttrValues(g->attrs, attribute);
    if (!remains.empty()) {
      // Listed no more where it remained: taken out of the group meanwhile.
      std::optional<std::vector<std::string>> without =
          MembersWithout(*g, attribute, remains);
      if (!without) continue;
      b.Put(EraseWait{Side::kLdap, AsciiLower(remains), gid});
      members = std::move(*without);
    } else if (HasValueIgnoreCase(members, dn)) {
      continue;
    }
    // (Renamed onto a DN the group lists already, refint merges the two.)
    if (!HasValueIgnoreCase(members, dn)) {
      members.emplace_back(dn);
      CanonicalizeValues(&members);
    }
    ObjectState o = *g;
    SetAttr(&o.attrs, attribute, std::move(members));
    b.Id(gid);
    b.Id(g->dn);
    restored.push_back(gid);
    b.Put(PutWait{Side::kLdap, ListedKey(dn), gid});
    b.Put(PutObject{std::move(o)});
  }
  return restored;
}

void MailGroupLoses(DecisionBuilder& b, const std::string& gid, ObjectKind kind,
                    const std::string& address) {
  const ObjectState* g = b.state.Object(Side::kLdap, ObjectKind::kGroup, gid);
  if (!g || address.empty()) return;
  // Only an address whose object goes (it is gone, being deleted, or this
  // decision deletes it, also to make one anew for another entry): a mail
  // object that stays (a conflict kept it) keeps its groups.
  bool goes = b.state.Object(Side::kMail, kind, address) == nullptr;
  std::vector<const PendingIntent*> pending;
  b.state.PendingFor(Side::kMail, kind, address, &pending);
  for (const PendingIntent* p : pending)
    if (!p->applied && p->intent.op == IntentOp::kDelete) goes = true;
  for (const Intent& i : b.d->intents)
    if (i.target == Side::kMail && i.kind == kind && i.target_id == address &&
        i.op == IntentOp::kDelete)
      goes = true;
  if (!goes) return;
  const ConnectorRules* cr = GroupSyncFromLdap(b, *g);
  if (!cr) return;
  const LinkState* link = b.state.LinkByLdap(ObjectKind::kGroup, gid);
  if (!link) return;
  const ObjectState* m =
      b.state.Object(Side::kMail, ObjectKind::kGroup, link->mail_id);
  if (!m || !HasValueIgnoreCase(AttrValues(m->attrs, field::kMembers), address))
    return;
  Intent i;
  i.target = Side::kMail;
  i.kind = ObjectKind::kGroup;
  i.op = IntentOp::kModify;
  i.target_id = link->mail_id;
  i.dn = link->mail_id;
  i.domain = g->domain;
  i.connector = g->connector;
  i.delete_values.push_back(
      Attribute{std::string(field::kMembers), {std::string(address)}});
  i.source_id = gid;
  b.Id(link->mail_id);
  b.AddIntent(std::move(i));
}

void LdapGroupGets(DecisionBuilder& b, const std::string& gid,
                   const std::string& dn, const std::string& address) {
  const ObjectState* g = b.ObjectNow(Side::kLdap, ObjectKind::kGroup, gid);
  if (!g) return;
  const std::string& attribute = MemberAttribute(b, *g);
  if (attribute.empty() ||
      HasValueIgnoreCase(AttrValues(g->attrs, attribute), dn))
    return;
  b.Id(g->dn);
  b.AddIntent(MemberAdd(Side::kLdap, gid, g->dn, g->domain, g->connector,
                        attribute, dn, address));
}

void GiveBackMember(DecisionBuilder& b, const std::string& gid,
                    const std::string& dn, const std::string& address) {
  if (address.empty()) {
    b.Put(PutWait{Side::kLdap, AsciiLower(dn), gid});
    return;
  }
  MailGroupGets(b, gid, dn, address);
}

std::string CreatingWaitKey(ObjectKind kind, std::string_view address) {
  return "creating:" + std::string(KindName(kind)) + ":" + AsciiLower(address);
}

const PendingIntent* TakeCreatingWait(DecisionBuilder& b, ObjectKind kind,
                                      std::string_view address) {
  const std::string key = CreatingWaitKey(kind, address);
  const PendingIntent* found = nullptr;
  for (const std::string& waiter : b.state.WaitingFor(Side::kMail, key)) {
    b.Put(EraseWait{Side::kMail, key, waiter});
    std::uint64_t id = 0;
    const char* end = waiter.data() + waiter.size();
    if (found || std::from_chars(waiter.data(), end, id).ptr != end) continue;
    const PendingIntent* p = b.state.Pending(id);
    if (p && !p->applied && p->intent.target == Side::kLdap &&
        p->intent.op == IntentOp::kAdd && p->intent.kind == kind &&
        EqualsIgnoreCase(p->intent.source_id, address))
      found = p;
  }
  return found;
}

void ReleaseCreatingWait(DecisionBuilder& b, const Intent& add) {
  if (add.target != Side::kLdap || add.op != IntentOp::kAdd ||
      add.source_id.empty())
    return;
  const std::string key = CreatingWaitKey(add.kind, add.source_id);
  const std::string waiter = std::to_string(add.id);
  for (const std::string& w : b.state.WaitingFor(Side::kMail, key))
    if (w == waiter) b.Put(EraseWait{Side::kMail, key, waiter});
}

std::string AddressWaitKey(ObjectKind kind, std::string_view address) {
  return "address:" + std::string(KindName(kind)) + ":" + AsciiLower(address);
}

std::string ReleaseAddressWaits(DecisionBuilder& b, ObjectKind kind,
                                std::string_view address,
                                const LinkState* old_link,
                                const ObjectState* mail_after,
                                std::string_view wait_key) {
  const std::string key =
      wait_key.empty() ? AddressWaitKey(kind, address) : std::string(wait_key);
  std::string claimed;
  for (const std::string& waiter : b.state.WaitingFor(Side::kLdap, key)) {
    b.Put(EraseWait{Side::kLdap, key, waiter});
    if (!claimed.empty()) continue;
    const ObjectState* x = b.state.Object(Side::kLdap, kind, waiter);
    if (!x || x->address != address || b.state.LinkByLdap(kind, waiter))
      continue;
    const ConnectorRules* cr = b.rules.connector(x->connector);
    const DomainScope* scope =
        cr ? b.rules.Scope(x->connector, x->domain) : nullptr;
    if (!scope || !scope->ldap_sync ||
        (kind == ObjectKind::kGroup && !cr->config.group_sync))
      continue;
    // One way from mail (rules version 5): the entry takes the address of
    // the mail object that stays, and that object's values.
    const bool from_mail = !Propagates(cr->config.direction, Side::kLdap);
    if (from_mail && (b.rules.config().reconciler_rules < 5 || !mail_after ||
                      !Propagates(cr->config.direction, Side::kMail)))
      continue;
    claimed = x->dn;
    const ImagePlan& plan = PlanFor(*cr, kind);
    ImagePool::Lease image_buffer(&b.images);
    ImageOf(*x, plan, &b.state, image_buffer.get());
    const AttrList& image = image_buffer.list();
    if (old_link) {
      b.Put(EraseLink{old_link->kind, old_link->ldap_id, old_link->mail_id});
      if (b.state.Conflict(kind, old_link->ldap_id))
        b.Put(EraseConflict{kind, old_link->ldap_id});
      if (b.state.Drift(kind, old_link->ldap_id))
        b.Put(EraseDrift{kind, old_link->ldap_id});
    }
    if (from_mail) {
      ImagePool::Lease there_buffer(&b.images);
      ImageOf(*mail_after, plan, &b.state, there_buffer.get());
      Intent i = MailValuesToEntry(b, *x, MapFor(*cr, kind), plan, image,
                                   *mail_after, there_buffer.list());
      if (!i.set.empty() || !i.add_values.empty() || !i.delete_values.empty())
        b.AddIntent(std::move(i));
    } else {
      Intent i;
      i.target = Side::kMail;
      i.kind = kind;
      i.target_id = std::string(address);
      i.dn = i.target_id;
      i.domain = x->domain;
      i.connector = x->connector;
      i.source_id = x->id;
      if (!mail_after) {
        i.op = IntentOp::kAdd;
        i.set = image;
      } else {
        // The mail object stays: it takes this entry's values.
        i.op = IntentOp::kModify;
        ImagePool::Lease there_buffer(&b.images);
        MailImage(mail_after->attrs, plan, address, there_buffer.get());
        const AttrList& there = there_buffer.list();
        for (const std::string& f : DiffFields(image, there)) {
          if (EqualsIgnoreCase(f, field::kMembers)) continue;
          i.set.push_back(Attribute{f, AttrValues(image, f)});
          i.expect.push_back(Attribute{f, AttrValues(mail_after->attrs, f)});
        }
        CanonicalizeAttrs(&i.set);
        CanonicalizeAttrs(&i.expect);
        i.expected_version = mail_after->version;
      }
      if (i.op == IntentOp::kAdd || !i.set.empty()) b.AddIntent(std::move(i));
    }
    LinkState l;
    l.kind = kind;
    l.ldap_id = x->id;
    l.mail_id = std::string(address);
    l.domain = x->domain;
    l.connector = x->connector;
    l.version = b.seq;
    b.Put(PutLink{std::move(l)});
    b.Id(x->id);
    b.Id(x->dn);
    b.Id(address);
    ReleaseMemberWaits(b, x->dn, address);
  }
  return claimed;
}

std::string AliasWaitKey(ObjectKind kind, std::string_view address) {
  return "alias:" + std::string(KindName(kind)) + ":" + AsciiLower(address);
}

void ReleaseAliasWaits(DecisionBuilder& b, const StateDelta& delta) {
  if (b.rules.config().reconciler_rules < 7) return;
  // Most decisions change no mail object's aliases: nothing to look up.
  bool any = false;
  for (const StateMutation& m : delta.mutations) {
    if (const auto* p = std::get_if<PutObject>(&m)) {
      if (p->object.side != Side::kMail) continue;
      const ObjectState* old =
          b.state.Object(Side::kMail, p->object.kind, p->object.id);
      any = old && AttrValues(old->attrs, kMailAliasesAttribute) !=
                       AttrValues(p->object.attrs, kMailAliasesAttribute);
    } else if (const auto* e = std::get_if<EraseObject>(&m)) {
      if (e->side != Side::kMail) continue;
      const ObjectState* old = b.state.Object(Side::kMail, e->kind, e->id);
      any = old && !AttrValues(old->attrs, kMailAliasesAttribute).empty();
    }
    if (any) break;
  }
  if (!any) return;
  // The aliases each mail object this decision changes holds after it
  // (nullopt: deleted).
  std::map<std::pair<ObjectKind, std::string>,
           std::optional<std::vector<std::string>>>
      after;
  for (const StateMutation& m : delta.mutations) {
    if (const auto* p = std::get_if<PutObject>(&m)) {
      if (p->object.side == Side::kMail)
        after[{p->object.kind, p->object.id}] = IndexedAliases(p->object);
    } else if (const auto* e = std::get_if<EraseObject>(&m)) {
      if (e->side == Side::kMail) after[{e->kind, e->id}] = std::nullopt;
    }
  }
  auto holds = [](const std::optional<std::vector<std::string>>& aliases,
                  const std::string& a) {
    return aliases && std::binary_search(aliases->begin(), aliases->end(), a);
  };
  if (after.empty()) return;
  std::vector<std::string> freed;
  for (const auto& [object, aliases] : after) {
    const ObjectState* old =
        b.state.Object(Side::kMail, object.first, object.second);
    if (!old) continue;
    for (std::string& a : IndexedAliases(*old))
      if (!holds(aliases, a)) freed.push_back(std::move(a));
  }
  std::sort(freed.begin(), freed.end());
  freed.erase(std::unique(freed.begin(), freed.end()), freed.end());
  constexpr ObjectKind kKinds[] = {ObjectKind::kAccount, ObjectKind::kGroup};
  for (const std::string& a : freed) {
    // Free when no other mail object holds it, as alias or address.
    bool held = false;
    for (ObjectKind k : kKinds) {
      for (const std::string& holder : b.state.IdsByAlias(k, a)) {
        auto it = after.find({k, holder});
        if (it == after.end() || holds(it->second, a)) held = true;
      }
      auto it = after.find({k, a});
      if (it != after.end() ? it->second.has_value()
                            : b.state.IdByAddress(Side::kMail, k, a) != nullptr)
        held = true;
    }
    if (held) continue;
    for (ObjectKind k : kKinds) {
      const std::string key = AliasWaitKey(k, a);
      if (b.state.WaitingFor(Side::kLdap, key).empty()) continue;
      const std::string dn =
          ReleaseAddressWaits(b, k, a, nullptr, nullptr, key);
      if (dn.empty()) continue;
      // Its record no longer says it waits (what it lists besides stays).
      const std::string_view* id = b.state.IdByDn(Side::kLdap, dn);
      const FailureState* f =
          id ? b.state.Failure(FailureKind::kRefusedAddress, Side::kLdap, *id)
             : nullptr;
      if (!f) continue;
      std::string rest = WithoutAddressWait(f->message);
      if (rest == f->message) continue;
      if (rest.empty()) {
        b.Put(EraseFailure{FailureKind::kRefusedAddress, Side::kLdap,
                           std::string(*id)});
      } else {
        FailureState g = *f;
        g.message = std::move(rest);
        b.Put(PutFailure{std::move(g)});
      }
    }
  }
}

}  // namespace dirledger

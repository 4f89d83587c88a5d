// Objects waiting in the projection (WaitingFor) for something to become
// known: groups for members that could not be resolved when they were
// decided, LDAP entries for a mail address another entry still held
// (docs/rules.md, "Group membership" and "Linking").
#include <charconv>

#include "replay/field_image.h"
#include "replay/intent_writes.h"
#include "replay/ldap_entry.h"
#include "replay/reconcile_internal.h"

namespace dirledger {
namespace {

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

std::vector<std::string> Minus(const std::vector<std::string>& a,
                               const std::vector<std::string>& b) {
  std::vector<std::string> out;
  for (const std::string& v : a)
    if (!HasValueIgnoreCase(b, v)) out.push_back(v);
  return out;
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
      std::string dn = MemberDnOfAddress(a, &b.state);
      if (!dn.empty())
        out.push_back(std::move(dn));
      else if (wait)
        b.Put(PutWait{Side::kMail, AsciiLower(a), mail.id});
    }
    CanonicalizeValues(&out);
    return out;
  };
  std::vector<std::string> adds = dns(Minus(mv, lv), true);
  std::vector<std::string> dels = dns(Minus(lv, mv), false);
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

}  // namespace

void ReleaseMemberWaits(DecisionBuilder& b, std::string_view ldap_dn,
                        std::string_view address) {
  const std::string dn(ldap_dn), addr(address);
  // LDAP groups listing `dn`: their mail groups get `address`.
  for (const std::string& gid : b.state.WaitingFor(Side::kLdap, dn)) {
    b.Put(EraseWait{Side::kLdap, AsciiLower(dn), gid});
    const ObjectState* g = b.state.Object(Side::kLdap, ObjectKind::kGroup, gid);
    if (!g) continue;
    const ConnectorRules* cr = b.rules.connector(g->connector);
    const DomainScope* scope =
        cr ? b.rules.Scope(g->connector, g->domain) : nullptr;
    if (!scope || !scope->ldap_sync || !cr->config.group_sync ||
        !Propagates(cr->config.direction, Side::kLdap))
      continue;
    const ObjectMap& map = MapFor(*cr, ObjectKind::kGroup);
    if (!HasValueIgnoreCase(AttrValues(g->attrs, map.members_attribute), dn))
      continue;
    const LinkState* link = b.state.LinkByLdap(ObjectKind::kGroup, gid);
    if (!link) continue;
    const ObjectState* m =
        b.state.Object(Side::kMail, ObjectKind::kGroup, link->mail_id);
    if (m && HasValueIgnoreCase(AttrValues(m->attrs, field::kMembers), addr))
      continue;
    b.Id(gid);
    b.Id(link->mail_id);
    b.AddIntent(MemberAdd(Side::kMail, link->mail_id, link->mail_id, g->domain,
                          g->connector, std::string(field::kMembers), addr,
                          gid));
  }
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
                                const ObjectState* mail_after) {
  const std::string key = AddressWaitKey(kind, address);
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

}  // namespace dirledger

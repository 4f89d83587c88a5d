#include "replay/sim_world.h"

#include <algorithm>

#include "codecs/event_codec.h"
#include "replay/attribute_map.h"
#include "replay/decision_text.h"
#include "replay/field_image.h"
#include "replay/intent_writes.h"
#include "replay/reconciler.h"
#include "replay/replay_test_util.h"

namespace dirledger::testing {
namespace {

const std::vector<std::string> kValues = {"Ann", "Bob", "Cid"};
const std::vector<std::string> kLdapFields = {"givenName", "sn", "title",
                                              "telephoneNumber"};
const std::vector<std::string> kMailFields = {"firstName", "lastName", "title",
                                              "businessPhone"};
const std::vector<std::string> kGroupNames = {"staff", "ops"};

bool SameIgnoreCase(const std::string& a, const std::string& b) {
  return EqualsIgnoreCase(a, b);
}

}  // namespace

SimWorld::SimWorld(std::uint64_t seed, SimOptions options)
    : options_(std::move(options)), rng_(seed) {
  ConnectorOptions c;
  c.direction = options_.direction;
  if (c.direction == "both_ways") c.resolution = options_.resolution;
  c.group_sync = options_.groups;
  Append(ConfigEvent(ConfigToml(c)));
}

void SimWorld::Append(EventBody body) {
  Event e;
  e.seq = events_.size() + 1;
  e.body = std::move(body);
  if (const auto* change = std::get_if<ConfigChange>(&e.body)) {
    auto cfg = ConfigFromEvent(*change);
    auto rules = RuleSet::Compile(std::move(cfg).value());
    rules_ = std::move(rules).value();
  }
  Decision d;
  StateDelta delta;
  Reconcile(store_, e, *rules_, &d, &delta);
  Status s = store_.Apply(delta);
  if (!s.ok() && why_.empty()) why_ = "projection: " + s.ToString();
  enc_events_.push_back(EncodeEvent(e));
  enc_decisions_.push_back(EncodeDecision(d));
  events_.push_back(std::move(e));
  decisions_.push_back(std::move(d));
}

std::string SimWorld::Pick(const std::vector<std::string>& v) {
  return v[static_cast<size_t>(Rand(static_cast<int>(v.size())))];
}

std::string SimWorld::UnusedUid(const char* prefix) {
  for (int tries = 0; tries < 20; ++tries) {
    std::string uid = prefix + std::to_string(Rand(options_.names));
    bool used = false;
    for (const auto& [id, e] : ldap_)
      if (SameIgnoreCase(std::string(FirstValue(e.attrs, "uid")), uid) ||
          SameIgnoreCase(std::string(FirstValue(e.attrs, "cn")), uid))
        used = true;
    if (!used) return uid;
  }
  return "";
}

std::string SimWorld::FindLdapByDn(const std::string& dn) const {
  for (const auto& [id, e] : ldap_)
    if (SameDn(e.dn, dn)) return id;
  return "";
}

void SimWorld::TouchLdap(const std::string& id) {
  ldap_queue_.erase(std::remove(ldap_queue_.begin(), ldap_queue_.end(), id),
                    ldap_queue_.end());
  ldap_queue_.push_back(id);
}

void SimWorld::DropLdapMember(const std::string& dn) {
  for (auto& [gid, g] : ldap_) {
    if (g.kind != ObjectKind::kGroup) continue;
    std::vector<std::string> members = AttrValues(g.attrs, "member");
    auto before = members.size();
    members.erase(
        std::remove_if(members.begin(), members.end(),
                       [&](const auto& m) { return SameIgnoreCase(m, dn); }),
        members.end());
    if (members.size() == before) continue;
    if (members.empty()) members.push_back(g.dn);  // groupOfNames
    SetAttr(&g.attrs, "member", members);
    TouchLdap(gid);
    ldap_origin_.erase(gid);
  }
}

void SimWorld::DropMailMember(const std::string& address) {
  for (auto& [g, m] : mail_) {
    if (m.kind != ObjectKind::kGroup) continue;
    std::vector<std::string> members = AttrValues(m.attrs, "members");
    auto it = std::find(members.begin(), members.end(), address);
    if (it == members.end()) continue;
    members.erase(it);
    SetAttr(&m.attrs, "members", members);
    mail_dirty_.insert(g);
    mail_origin_.erase(g);
  }
}

void SimWorld::LdapUserStep() {
  std::vector<std::string> accounts, groups;
  for (const auto& [id, e] : ldap_)
    (e.kind == ObjectKind::kAccount ? accounts : groups).push_back(id);
  const int op = Rand(10);
  if (op < 2 || accounts.empty()) {  // create an account
    const std::string uid = UnusedUid("u");
    if (uid.empty()) return;
    const std::string id = "L" + std::to_string(next_ldap_id_++);
    Entry e;
    e.dn = PersonDn(uid);
    e.attrs = {{"objectClass",
                {"inetOrgPerson", "organizationalPerson", "person", "top"}},
               {"uid", {uid}},
               {"cn", {uid}},
               {"sn", {Pick(kValues)}},
               {"mail", {uid + "@example.com"}}};
    if (Rand(2)) e.attrs.push_back({"givenName", {Pick(kValues)}});
    CanonicalizeAttrs(&e.attrs);
    ldap_[id] = std::move(e);
    TouchLdap(id);
    ldap_origin_.erase(id);
    return;
  }
  if (options_.groups && op == 2) {  // create a group or change members
    if (groups.empty() || Rand(2)) {
      const std::string cn = Pick(kGroupNames);
      for (const auto& [id, e] : ldap_)
        if (SameIgnoreCase(std::string(FirstValue(e.attrs, "cn")), cn) ||
            SameIgnoreCase(std::string(FirstValue(e.attrs, "uid")), cn))
          return;
      const std::string id = "L" + std::to_string(next_ldap_id_++);
      Entry e;
      e.kind = ObjectKind::kGroup;
      e.dn = GroupDn(cn);
      e.attrs = {{"objectClass", {"groupOfNames", "top"}},
                 {"cn", {cn}},
                 {"member", {ldap_[Pick(accounts)].dn}}};
      CanonicalizeAttrs(&e.attrs);
      ldap_[id] = std::move(e);
      TouchLdap(id);
      ldap_origin_.erase(id);
      return;
    }
    const std::string gid = Pick(groups);
    Entry& g = ldap_[gid];
    std::vector<std::string> members = AttrValues(g.attrs, "member");
    const std::string dn = ldap_[Pick(accounts)].dn;
    auto it = std::find_if(members.begin(), members.end(), [&](const auto& m) {
      return SameIgnoreCase(m, dn);
    });
    if (it != members.end() && members.size() > 1)
      members.erase(it);
    else if (it == members.end())
      members.push_back(dn);
    SetAttr(&g.attrs, "member", members);
    TouchLdap(gid);
    ldap_origin_.erase(gid);
    return;
  }
  const std::string id = Pick(accounts);
  Entry& e = ldap_[id];
  if (op == 3) {  // delete (members pointing at it go too, as refint does)
    const std::string dn = e.dn;
    ldap_.erase(id);
    TouchLdap(id);
    ldap_origin_.erase(id);
    for (auto& [gid, g] : ldap_) {
      std::vector<std::string> members = AttrValues(g.attrs, "member");
      auto before = members.size();
      members.erase(
          std::remove_if(members.begin(), members.end(),
                         [&](const auto& m) { return SameIgnoreCase(m, dn); }),
          members.end());
      if (members.size() != before) {
        if (members.empty()) members.push_back(g.dn);
        SetAttr(&g.attrs, "member", members);
        TouchLdap(gid);
        ldap_origin_.erase(gid);
      }
    }
    return;
  }
  if (op == 4 && options_.renames) {  // rename: a new uid
    // Names mail users do not create: a mail account made concurrently
    // with the new address would make the rename fail (documented).
    const std::string uid = UnusedUid("r");
    if (uid.empty()) return;
    const std::string old_dn = e.dn;
    e.dn = PersonDn(uid);
    SetAttr(&e.attrs, "uid", {uid});
    SetAttr(&e.attrs, "mail", {uid + "@example.com"});
    TouchLdap(id);
    ldap_origin_.erase(id);
    for (auto& [gid, g] : ldap_) {  // refint
      std::vector<std::string> members = AttrValues(g.attrs, "member");
      bool changed = false;
      for (auto& m : members)
        if (SameIgnoreCase(m, old_dn)) {
          m = e.dn;
          changed = true;
        }
      if (changed) {
        SetAttr(&g.attrs, "member", members);
        TouchLdap(gid);
        ldap_origin_.erase(gid);
      }
    }
    return;
  }
  const std::string f = Pick(kLdapFields);
  if (Rand(4) == 0 && f != "sn")
    SetAttr(&e.attrs, f, {});
  else
    SetAttr(&e.attrs, f, {Pick(kValues)});
  TouchLdap(id);
  ldap_origin_.erase(id);
}

void SimWorld::MailUserStep() {
  std::vector<std::string> accounts;
  for (const auto& [a, m] : mail_)
    if (m.kind == ObjectKind::kAccount) accounts.push_back(a);
  const int op = Rand(10);
  if (op < 2 || accounts.empty()) {
    const std::string address =
        "u" + std::to_string(Rand(options_.names)) + "@example.com";
    if (mail_.count(address)) return;
    MailObj m;
    m.attrs = {{"lastName", {Pick(kValues)}}};
    if (Rand(2)) m.attrs.push_back({"firstName", {Pick(kValues)}});
    CanonicalizeAttrs(&m.attrs);
    mail_[address] = std::move(m);
    mail_dirty_.insert(address);
    mail_origin_.erase(address);
    return;
  }
  const std::string address = Pick(accounts);
  if (op == 2 && options_.groups) {  // change the members of a mail group
    std::vector<std::string> groups;
    for (const auto& [a, m] : mail_)
      if (m.kind == ObjectKind::kGroup) groups.push_back(a);
    if (groups.empty()) return;
    const std::string g = Pick(groups);
    std::vector<std::string> members = AttrValues(mail_[g].attrs, "members");
    auto it = std::find(members.begin(), members.end(), address);
    if (it != members.end())
      members.erase(it);
    else
      members.push_back(address);
    SetAttr(&mail_[g].attrs, "members", members);
    mail_dirty_.insert(g);
    mail_origin_.erase(g);
    return;
  }
  if (op == 3) {  // the mail directory drops its memberships too
    mail_.erase(address);
    mail_dirty_.insert(address);
    mail_origin_.erase(address);
    DropMailMember(address);
    return;
  }
  MailObj& m = mail_[address];
  const std::string f = Pick(kMailFields);
  // lastName stays: LDAP's inetOrgPerson requires sn.
  if (Rand(4) == 0 && f != "lastName")
    SetAttr(&m.attrs, f, {});
  else
    SetAttr(&m.attrs, f, {Pick(kValues)});
  mail_dirty_.insert(address);
  mail_origin_.erase(address);
}

bool SimWorld::EmitLdap() {
  if (ldap_queue_.empty()) return false;
  const std::string id = ldap_queue_.front();
  ldap_queue_.erase(ldap_queue_.begin());
  ObservedChange c;
  c.side = Side::kLdap;
  c.source = "corp/syncrepl";
  c.connector = "corp";
  c.domain = "example.com";
  c.id = id;
  auto origin = ldap_origin_.find(id);
  if (origin != ldap_origin_.end() && Rand(2)) c.origin_intent = origin->second;
  ldap_origin_.erase(id);
  auto e = ldap_.find(id);
  if (e == ldap_.end()) {
    // Every delete of an entry the log knows is reported (syncrepl reports
    // each operation; an entry we created is known from its outcome).
    auto k = ldap_known_.find(id);
    if (k == ldap_known_.end()) {
      for (ObjectKind kind : {ObjectKind::kAccount, ObjectKind::kGroup})
        if (auto o = store_.GetObject(Side::kLdap, kind, id))
          k = ldap_known_.emplace(id, Known{o->dn, kind}).first;
    }
    if (k == ldap_known_.end()) return true;  // came and went unseen
    c.kind = k->second.kind;
    c.dn = k->second.dn;
    c.op = ChangeOp::kDelete;
    ldap_known_.erase(k);
  } else {
    c.kind = e->second.kind;
    c.dn = e->second.dn;
    c.op = ldap_known_.count(id) ? ChangeOp::kModify : ChangeOp::kAdd;
    c.full_image = true;
    c.attrs = e->second.attrs;
    ldap_known_[id] = Known{e->second.dn, e->second.kind};
  }
  Append(std::move(c));
  return true;
}

bool SimWorld::EmitMail() {
  if (mail_dirty_.empty()) return false;
  auto it = mail_dirty_.begin();
  std::advance(it, Rand(static_cast<int>(mail_dirty_.size())));
  const std::string address = *it;
  mail_dirty_.erase(it);
  ObservedChange c;
  c.side = Side::kMail;
  c.source = "mail/embedded";
  c.domain = "example.com";
  c.id = address;
  auto origin = mail_origin_.find(address);
  if (origin != mail_origin_.end() && Rand(2)) c.origin_intent = origin->second;
  mail_origin_.erase(address);
  auto m = mail_.find(address);
  if (m == mail_.end()) {
    // The poller diffs against every object the log knows on its side,
    // including those known from our own writes' outcomes.
    auto k = mail_known_.find(address);
    if (k == mail_known_.end()) {
      for (ObjectKind kind : {ObjectKind::kAccount, ObjectKind::kGroup})
        if (store_.GetObject(Side::kMail, kind, address))
          k = mail_known_.emplace(address, Known{address, kind}).first;
    }
    if (k == mail_known_.end()) return true;
    c.kind = k->second.kind;
    c.op = ChangeOp::kDelete;
    mail_known_.erase(k);
  } else {
    c.kind = m->second.kind;
    c.op = mail_known_.count(address) ? ChangeOp::kModify : ChangeOp::kAdd;
    c.full_image = true;
    c.attrs = m->second.attrs;
    mail_known_[address] = Known{address, m->second.kind};
  }
  Append(std::move(c));
  return true;
}

SimWorld::Applied SimWorld::ApplyLdap(const Intent& i, std::string* touched) {
  Applied r;
  std::string id = i.target_id.empty() ? FindLdapByDn(i.dn) : i.target_id;
  auto e = id.empty() ? ldap_.end() : ldap_.find(id);
  switch (i.op) {
    case IntentOp::kAdd: {
      const std::string existing = FindLdapByDn(i.dn);
      if (!existing.empty()) {
        if (WritesVisible(i, &ldap_[existing].attrs)) {
          r.ok = r.already = true;
          r.assigned = existing;
        } else {
          r.message = "entry " + i.dn + " already exists";
        }
        return r;
      }
      id = "L" + std::to_string(next_ldap_id_++);
      Entry n;
      n.kind = i.kind;
      n.dn = i.dn;
      ApplyWrites(i, &n.attrs);
      ldap_[id] = std::move(n);
      r.ok = r.changed = true;
      r.assigned = id;
      break;
    }
    case IntentOp::kModify:
      if (e == ldap_.end()) {
        r.message = "no such entry " + i.dn;
        return r;
      }
      if (WritesVisible(i, &e->second.attrs)) {
        r.ok = r.already = true;
        return r;
      }
      if (!ExpectHolds(i, &e->second.attrs)) {
        r.message = "entry " + i.dn + " changed since";
        return r;
      }
      ApplyWrites(i, &e->second.attrs);
      r.ok = r.changed = true;
      break;
    case IntentOp::kDelete:
      if (e == ldap_.end()) {
        r.ok = r.already = true;
        return r;
      }
      if (!ExpectHolds(i, &e->second.attrs)) {
        r.message = "entry " + i.dn + " changed since";
        return r;
      }
      {
        const std::string dn = e->second.dn;
        ldap_.erase(e);
        DropLdapMember(dn);  // refint
      }
      r.ok = r.changed = true;
      break;
    case IntentOp::kRename:
      if (e == ldap_.end()) {
        r.message = "no such entry " + i.dn;
        return r;
      }
      e->second.dn = i.new_dn;
      ApplyWrites(i, &e->second.attrs);
      r.ok = r.changed = true;
      break;
  }
  *touched = id;
  return r;
}

// The mail directory takes only existing accounts and groups of its
// domains as new group members. (It drops a deleted account from its
// groups; a renamed one is not followed: the groups' own changes do that.)
bool SimWorld::MembersExist(const Intent& i) const {
  for (const AttrList* list : {&i.set, &i.add_values})
    for (const std::string& m : AttrValues(*list, "members"))
      if (!mail_.count(m)) return false;
  return true;
}

SimWorld::Applied SimWorld::ApplyMail(const Intent& i, std::string* touched) {
  Applied r;
  if (i.kind == ObjectKind::kGroup && !MembersExist(i)) {
    r.message = "group " + i.target_id + ": a new member is no account";
    return r;
  }
  auto m = mail_.find(i.target_id);
  *touched = i.target_id;
  switch (i.op) {
    case IntentOp::kAdd:
      if (m != mail_.end()) {
        if (WritesVisible(i, &m->second.attrs))
          r.ok = r.already = true;
        else
          r.message = "account " + i.target_id + " already exists";
        return r;
      }
      mail_[i.target_id].kind = i.kind;
      ApplyWrites(i, &mail_[i.target_id].attrs);
      r.ok = r.changed = true;
      break;
    case IntentOp::kModify:
      if (m == mail_.end()) {
        r.message = "no such account " + i.target_id;
        return r;
      }
      if (WritesVisible(i, &m->second.attrs)) {
        r.ok = r.already = true;
        return r;
      }
      if (!ExpectHolds(i, &m->second.attrs)) {
        r.message = "account " + i.target_id + " changed since";
        return r;
      }
      ApplyWrites(i, &m->second.attrs);
      r.ok = r.changed = true;
      break;
    case IntentOp::kDelete:
      if (m == mail_.end()) {
        r.ok = r.already = true;
        return r;
      }
      if (!ExpectHolds(i, &m->second.attrs)) {
        r.message = "account " + i.target_id + " changed since";
        return r;
      }
      mail_.erase(m);
      DropMailMember(i.target_id);
      r.ok = r.changed = true;
      break;
    case IntentOp::kRename: {
      // From dn to target_id (= new_dn).
      auto old = mail_.find(i.dn);
      if (m != mail_.end()) {
        if (old == mail_.end() && WritesVisible(i, &m->second.attrs))
          r.ok = r.already = true;
        else
          r.message = "account " + i.target_id + " already exists";
        return r;
      }
      if (old == mail_.end()) {
        r.message = "no such account " + i.dn;
        return r;
      }
      MailObj moved = std::move(old->second);
      mail_.erase(old);
      ApplyWrites(i, &moved.attrs);
      mail_[i.target_id] = std::move(moved);
      mail_dirty_.insert(i.dn);  // the old address is gone
      r.ok = r.changed = true;
      break;
    }
  }
  return r;
}

bool SimWorld::ApplyNext(Side side) {
  std::optional<PendingIntent> next;
  // The simulated world's store is in memory: its listings cannot fail.
  (void)store_.ForEachPending([&](const PendingIntent& p) {
    if (p.applied || p.intent.target != side) return true;
    next = p;
    return false;
  });
  if (!next) return false;
  const Intent& i = next->intent;
  if (!applied_.insert(i.id).second) ++applied_twice_;
  std::string touched;
  Applied r =
      side == Side::kLdap ? ApplyLdap(i, &touched) : ApplyMail(i, &touched);
  if (r.changed && !touched.empty()) {
    if (side == Side::kLdap) {
      TouchLdap(touched);
      ldap_origin_[touched] = i.id;
    } else {
      mail_dirty_.insert(touched);
      mail_origin_[touched] = i.id;
    }
  }
  WriteOutcome o;
  o.intent_id = i.id;
  o.ok = r.ok;
  o.message = r.message;
  o.side = side;
  o.target_id = i.target_id;
  o.assigned_id = r.assigned;
  o.attempts = 1;
  o.already_applied = r.already;
  Append(std::move(o));
  return true;
}

bool SimWorld::Run() {
  for (int step = 0; step < options_.steps && why_.empty(); ++step) {
    const int what = Rand(8);
    switch (what) {
      case 0:
        if (options_.ldap_users) LdapUserStep();
        break;
      case 1:
        if (options_.mail_users) MailUserStep();
        break;
      case 2:
        EmitLdap();
        break;
      case 3:
        EmitMail();
        break;
      case 4:
      case 5:
        ApplyNext(Side::kLdap);
        break;
      default:
        ApplyNext(Side::kMail);
        break;
    }
  }
  // Changes stop: drain every observation and intent; then a full refresh
  // of both sides (every object reported again, as a new DirSync cookie or
  // a full poll does) and drain again. A write refused by a user edit that
  // was undone before anyone saw it is caught up there.
  if (!Drain()) return false;
  for (const auto& [id, e] : ldap_) TouchLdap(id);
  for (const auto& [address, m] : mail_) mail_dirty_.insert(address);
  return Drain();
}

bool SimWorld::Drain() {
  for (int round = 0; round < 10000 && why_.empty(); ++round) {
    bool any = false;
    while (EmitLdap()) any = true;
    while (EmitMail()) any = true;
    while (ApplyNext(Side::kLdap)) any = true;
    while (ApplyNext(Side::kMail)) any = true;
    if (!any) return true;
    if (events_.size() > 200000) break;
  }
  if (why_.empty()) why_ = "the sides do not settle (a loop)";
  return false;
}

bool SimWorld::Converged(std::string* difference) const {
  const RuleSet& rules = *rules_;
  const ConnectorRules* c = rules.connector("corp");
  // Images through a projection that knows the actual links: members are
  // compared by address, so resolve DNs with the world itself.
  std::map<std::string, std::string> address_of_dn;
  for (const auto& [id, e] : ldap_) {
    const ObjectMap& map =
        e.kind == ObjectKind::kAccount ? c->map.account : c->map.group;
    address_of_dn[NormalizeDn(e.dn)] =
        AsciiLower(std::string(FirstValue(e.attrs, map.name_attribute))) +
        "@example.com";
  }
  std::map<std::string, std::pair<ObjectKind, AttrList>> from_ldap;
  for (const auto& [id, e] : ldap_) {
    const ObjectMap& map =
        e.kind == ObjectKind::kAccount ? c->map.account : c->map.group;
    const std::string address = address_of_dn[NormalizeDn(e.dn)];
    AttrList image = MailImage({}, map, address);
    for (const FieldMapping& f : map.fields) {
      const auto& v = AttrValues(e.attrs, f.attribute);
      if (!v.empty()) SetAttr(&image, f.field, {v.front()});
    }
    if (!map.members_attribute.empty()) {
      std::vector<std::string> members;
      for (const std::string& dn : AttrValues(e.attrs, map.members_attribute)) {
        auto a = address_of_dn.find(NormalizeDn(dn));
        if (a != address_of_dn.end() && !SameDn(dn, e.dn))
          members.push_back(a->second);
      }
      SetAttr(&image, "members", members);
    }
    from_ldap[address] = {e.kind, image};
  }
  for (const auto& [address, m] : mail_) {
    const ObjectMap& map =
        m.kind == ObjectKind::kAccount ? c->map.account : c->map.group;
    AttrList image = MailImage(m.attrs, map, address);
    auto l = from_ldap.find(address);
    if (l == from_ldap.end()) {
      *difference = "mail " + address + " has no LDAP counterpart";
      return false;
    }
    if (l->second.second != image) {
      *difference = "mail " + address + " differs: LDAP " +
                    AttrsText(l->second.second) + " vs mail " +
                    AttrsText(image);
      return false;
    }
  }
  for (const auto& [address, v] : from_ldap)
    if (!mail_.count(address)) {
      *difference = "LDAP " + address + " has no mail counterpart";
      return false;
    }
  return true;
}

}  // namespace dirledger::testing

#include "engine/ad_writer/ad_writer.h"

#include <ldap.h>

#include <cmath>
#include <cstdlib>
#include <list>
#include <utility>

#include "engine/ad_writer/ad_values.h"
#include "engine/dirsync/object_guid.h"

namespace dirledger {
namespace {

// Attributes the writer never compares nor writes from an intent's `set`
// (userAccountControl only on create, by the writer itself).
bool Unwritable(std::string_view name) {
  for (std::string_view a :
       {"objectGUID", "userAccountControl", "unicodePwd", "objectSid"})
    if (EqualsIgnoreCase(name, a)) return true;
  return false;
}

timeval Tv(double s) {
  timeval tv;
  tv.tv_sec = static_cast<time_t>(std::floor(s));
  tv.tv_usec = static_cast<suseconds_t>((s - std::floor(s)) * 1e6);
  return tv;
}

// An LDAPMod array that owns its strings (values are binary-safe).
class ModList {
 public:
  void Add(int op, std::string name, std::vector<std::string> values) {
    Entry& e = entries_.emplace_back();
    e.op = op;
    e.name = std::move(name);
    e.values = std::move(values);
    summary_ += summary_.empty() ? "" : ", ";
    summary_ += (op == LDAP_MOD_ADD      ? "add "
                 : op == LDAP_MOD_DELETE ? "delete "
                                         : "replace ") +
                e.name;
  }
  bool empty() const { return entries_.empty(); }
  const std::string& summary() const { return summary_; }

  LDAPMod** Build() {
    mods_.clear();
    for (Entry& e : entries_) {
      e.bv.clear();
      e.ptrs.clear();
      for (std::string& v : e.values)
        e.bv.push_back(berval{v.size(), v.data()});
      for (berval& b : e.bv) e.ptrs.push_back(&b);
      e.ptrs.push_back(nullptr);
      e.mod.mod_op = e.op | LDAP_MOD_BVALUES;
      e.mod.mod_type = e.name.data();
      e.mod.mod_bvalues = e.ptrs.data();
      mods_.push_back(&e.mod);
    }
    mods_.push_back(nullptr);
    return mods_.data();
  }

 private:
  struct Entry {
    int op = 0;
    std::string name;
    std::vector<std::string> values;
    std::vector<berval> bv;
    std::vector<berval*> ptrs;
    LDAPMod mod{};
  };
  std::list<Entry> entries_;  // stable addresses
  std::vector<LDAPMod*> mods_;
  std::string summary_;
};

std::vector<std::string> NamesOf(const Intent& intent) {
  std::vector<std::string> out = {"objectClass"};
  for (const AttrList* l :
       {&intent.set, &intent.add_values, &intent.delete_values, &intent.expect})
    for (const Attribute& a : *l)
      if (!Unwritable(a.name)) out.push_back(a.name);
  return out;
}

std::string Describe(const Intent& intent) {
  std::string out = "intent " + std::to_string(intent.id) + ": " +
                    std::string(KindName(intent.kind));
  if (!intent.target_id.empty()) out += " " + intent.target_id;
  if (!intent.dn.empty()) out += " \"" + intent.dn + "\"";
  return out;
}

ApplyResult Done(std::string message, bool already, std::string id = "") {
  ApplyResult r;
  r.already_applied = already;
  r.message = std::move(message);
  r.assigned_id = std::move(id);
  return r;
}

}  // namespace

struct AdWriter::Current {
  std::string dn;
  std::string guid;
  AttrList attrs;  // canonical
};

Result<AdWriterOptions> AdWriterOptionsFor(const RuleSet& rules,
                                           std::string_view connector) {
  const ConnectorRules* c = rules.connector(connector);
  if (!c)
    return Status::InvalidArgument("no connector named \"" +
                                   std::string(connector) + "\"");
  const ConnectorConfig& cc = c->config;
  const std::string what = "connector \"" + cc.name + "\"";
  if (cc.server_type != ServerType::kActiveDirectory)
    return Status::InvalidArgument(
        what + ": the AD writer needs server_type = \"activedirectory\"");
  // The direction rules what the reconciler decides, not what a writer can
  // do: an operator's rollback writes to AD even under ldap_to_axigen.
  Result<Secret> password =
      ReadSecret(rules.config(), cc.bind_password_file, cc.bind_password_env,
                 what + " bind password");
  if (!password.ok()) return password.status();
  AdWriterOptions o;
  o.connector = cc.name;
  o.map = c->map;
  o.ldap.uris = cc.uris;
  o.ldap.bind_dn = cc.bind_dn;
  o.ldap.password = std::move(password).value();
  o.ldap.timeout_s = cc.timeout_s;
  o.ldap.start_tls = cc.start_tls;
  o.ldap.ca_file = cc.ca_file.empty() ? "" : rules.config().Resolve(cc.ca_file);
  o.ldap.tls_verify = cc.tls_verify;
  o.ldap.what = what;
  return o;
}

AdWriter::AdWriter(AdWriterOptions options) : options_(std::move(options)) {}
AdWriter::~AdWriter() = default;

Status AdWriter::Connect() {
  if (conn_) return Status::Ok();
  Result<std::unique_ptr<LdapConnection>> c =
      LdapConnection::Connect(options_.ldap);
  if (!c.ok()) return c.status();
  conn_ = std::move(c).value();
  return Status::Ok();
}

bool AdWriter::Encrypted() const {
  return conn_ &&
         (conn_->uri().rfind("ldaps://", 0) == 0 || options_.ldap.start_tls);
}

ApplyResult AdWriter::Fail(Status s) {
  if (s.retryable()) conn_.reset();
  ApplyResult r;
  r.message = s.message();
  r.status = std::move(s);
  return r;
}

Result<std::optional<AdWriter::Current>> AdWriter::ReadAt(
    const std::string& base, const std::vector<std::string>& attrs,
    bool show_deleted) {
  LDAP* ld = conn_->handle();
  std::vector<std::string> wanted = attrs;
  wanted.push_back("objectGUID");
  Current cur;
  // Range retrieval: large multi-valued attributes come in slices
  // ("member;range=0-1499"); the rest is asked for until the slice ends "*".
  for (int round = 0; !wanted.empty(); ++round) {
    std::vector<char*> a;
    for (std::string& w : wanted) a.push_back(w.data());
    a.push_back(nullptr);
    LDAPMessage* raw = nullptr;
    timeval tv = Tv(options_.ldap.timeout_s);
    LDAPControl show{};
    show.ldctl_oid = const_cast<char*>(LDAP_CONTROL_X_SHOW_DELETED);
    show.ldctl_iscritical = 1;
    LDAPControl* ctrls[] = {&show, nullptr};
    const int rc = ldap_search_ext_s(
        ld, base.c_str(), LDAP_SCOPE_BASE, "(objectClass=*)", a.data(), 0,
        show_deleted ? ctrls : nullptr, nullptr, &tv, 0, &raw);
    std::unique_ptr<LDAPMessage, int (*)(LDAPMessage*)> msg(raw, ldap_msgfree);
    if (rc == LDAP_NO_SUCH_OBJECT) return std::optional<Current>();
    if (rc != LDAP_SUCCESS) return conn_->Error(rc, "reading \"" + base + "\"");
    LDAPMessage* e = ldap_first_entry(ld, raw);
    if (!e) return std::optional<Current>();
    if (round == 0) {
      char* dn = ldap_get_dn(ld, e);
      if (dn) {
        cur.dn = dn;
        ldap_memfree(dn);
      }
    }
    std::vector<std::string> more;
    BerElement* ber = nullptr;
    for (char* name = ldap_first_attribute(ld, e, &ber); name;
         name = ldap_next_attribute(ld, e, ber)) {
      std::string desc(name);
      ldap_memfree(name);
      berval** vals = ldap_get_values_len(ld, e, desc.c_str());
      std::vector<std::string> values;
      for (berval** v = vals; v && *v; ++v)
        values.emplace_back((*v)->bv_val, (*v)->bv_len);
      if (vals) ldap_value_free_len(vals);
      const size_t semi = desc.find(';');
      const std::string attr = desc.substr(0, semi);
      if (semi != std::string::npos &&
          desc.compare(semi + 1, 6, "range=") == 0) {
        const size_t dash = desc.find('-', semi);
        const std::string end =
            dash == std::string::npos ? "*" : desc.substr(dash + 1);
        if (end != "*")
          more.push_back(
              attr + ";range=" +
              std::to_string(std::strtol(end.c_str(), nullptr, 10) + 1) + "-*");
      }
      if (EqualsIgnoreCase(attr, "objectGUID")) {
        if (values.size() == 1)
          cur.guid = FormatObjectGuid(values[0]).value_or("");
        continue;
      }
      cur.attrs.push_back({attr, std::move(values)});
    }
    if (ber) ber_free(ber, 0);
    if (round > 100000 && !more.empty())
      return Status::IOError("reading \"" + base +
                             "\": range retrieval does not end");
    wanted = std::move(more);
  }
  CanonicalizeAttrs(&cur.attrs);
  return std::optional<Current>(std::move(cur));
}

Result<std::optional<AdWriter::Current>> AdWriter::Read(
    const Intent& intent, const std::vector<std::string>& attrs) {
  if (!intent.target_id.empty()) {
    if (!ParseObjectGuid(intent.target_id))
      return Status::InvalidArgument(Describe(intent) + ": \"" +
                                     intent.target_id +
                                     "\" is not an objectGUID string");
    return ReadAt("<GUID=" + intent.target_id + ">", attrs);
  }
  if (intent.dn.empty())
    return Status::InvalidArgument(Describe(intent) +
                                   ": names neither an objectGUID nor a DN");
  return ReadAt(intent.dn, attrs);
}

std::optional<Status> AdWriter::CheckExpect(const Intent& intent,
                                            const Current& cur,
                                            bool skip_converged) const {
  for (const Attribute& e : intent.expect) {
    const std::vector<std::string>& have = AttrValues(cur.attrs, e.name);
    if (skip_converged) {
      // Already at the intended value (someone made the same change).
      const Attribute* want = FindAttr(intent.set, e.name);
      if (want && SameValues(e.name, have, want->values)) continue;
    }
    if (!SameValues(e.name, have, e.values))
      return Status::Conflict(Describe(intent) + ": attribute " + e.name +
                              " of \"" + cur.dn + "\" is " + ShowValues(have) +
                              ", expected " + ShowValues(e.values));
  }
  return std::nullopt;
}

ApplyResult AdWriter::Apply(const Intent& intent) {
  const bool reused = conn_ != nullptr;
  ApplyResult r = ApplyOnce(intent);
  // A kept connection the DC closed (idle timeout, restart): every step
  // re-reads the object first, so applying again on a fresh one is safe.
  if (!r.status.ok() && r.status.code() == StatusCode::kUnavailable && reused) {
    conn_.reset();
    r = ApplyOnce(intent);
  }
  return r;
}

ApplyResult AdWriter::ApplyOnce(const Intent& intent) {
  if (intent.target != Side::kLdap)
    return Fail(
        Status::InvalidArgument(Describe(intent) + ": targets the mail side"));
  Status s = Connect();
  if (!s.ok()) return Fail(s);
  switch (intent.op) {
    case IntentOp::kAdd:
      return Create(intent);
    case IntentOp::kModify:
      return Modify(intent);
    case IntentOp::kDelete:
      return Delete(intent);
    case IntentOp::kRename:
      return Rename(intent);
  }
  return Fail(
      Status::InvalidArgument(Describe(intent) + ": unknown operation"));
}

ApplyResult AdWriter::Create(const Intent& intent) {
  const bool account = intent.kind == ObjectKind::kAccount;
  if (intent.dn.empty())
    return Fail(
        Status::InvalidArgument(Describe(intent) + ": a create needs a DN"));
  const std::vector<std::string> names = NamesOf(intent);
  // The object may exist already: created before a crash, or by someone else.
  auto compare_existing = [&](const Current& cur) -> ApplyResult {
    for (const Attribute& a : intent.set) {
      if (Unwritable(a.name) || EqualsIgnoreCase(a.name, "objectClass"))
        continue;
      const std::vector<std::string>& have = AttrValues(cur.attrs, a.name);
      if (!SameValues(a.name, have, a.values))
        return Fail(Status::Conflict(
            Describe(intent) + ": an object already exists at \"" + cur.dn +
            "\" (objectGUID " + cur.guid + ") and its " + a.name + " is " +
            ShowValues(have) + ", not " + ShowValues(a.values)));
    }
    return Done("\"" + cur.dn + "\" already exists as intended", true,
                cur.guid);
  };
  Result<std::optional<Current>> existing =
      intent.target_id.empty() ? Result<std::optional<Current>>(std::nullopt)
                               : Read(intent, names);
  if (!existing.ok()) return Fail(existing.status());
  if (existing->has_value() && !intent.target_id.empty()) {
    const Current& cur = **existing;
    // Brought back already (a re-apply after a crash): finish it.
    if (SameDn(cur.dn, intent.dn)) return Complete(intent, cur, "");
    // Not deleted but moved out of the base (DirSync then reports it
    // gone): moved back, keeping its objectGUID, objectSid and groups.
    const int rc = RenameTo(cur.dn, intent.dn);
    if (rc != LDAP_SUCCESS)
      return Fail(conn_->Error(rc, Describe(intent) + ": moving \"" + cur.dn +
                                       "\" back to \"" + intent.dn + "\""));
    // The mapped attributes the rollback's image does not name go: a value
    // given after the point is undone. Others stay.
    const std::vector<std::string> mapped =
        (intent.kind == ObjectKind::kGroup ? options_.map.group
                                           : options_.map.account)
            .ValueAttributes();
    std::vector<std::string> read_names = names;
    read_names.insert(read_names.end(), mapped.begin(), mapped.end());
    Result<std::optional<Current>> back = Read(intent, read_names);
    if (!back.ok()) return Fail(back.status());
    if (!back->has_value())
      return Fail(Status::IOError(Describe(intent) +
                                  ": moved back, but cannot be read back"));
    Intent whole = intent;
    for (const std::string& a : mapped)
      if (FindAttr((*back)->attrs, a) && !FindAttr(intent.set, a))
        whole.set.push_back(Attribute{a, {}});
    return Complete(whole, **back,
                    "moved \"" + cur.dn + "\" back to \"" + intent.dn +
                        "\" (objectGUID and objectSid kept)");
  }
  std::string not_reanimated;
  if (!intent.target_id.empty()) {
    if (std::optional<ApplyResult> r = Reanimate(intent, &not_reanimated))
      return std::move(*r);
  }
  if (!existing->has_value()) existing = ReadAt(intent.dn, names);
  if (!existing.ok()) return Fail(existing.status());
  if (existing->has_value()) return compare_existing(**existing);

  ModList mods;
  const Attribute* classes = FindAttr(intent.set, "objectClass");
  mods.Add(LDAP_MOD_ADD, "objectClass",
           classes && !classes->values.empty()
               ? classes->values
               : std::vector<std::string>{account ? "user" : "group"});
  for (const Attribute& a : intent.set) {
    if (Unwritable(a.name) || EqualsIgnoreCase(a.name, "objectClass") ||
        a.values.empty())
      continue;
    mods.Add(LDAP_MOD_ADD, a.name, a.values);
  }
  std::string sam(FirstValue(intent.set, "sAMAccountName"));
  if (sam.empty()) {
    // From the RDN value, when it is a plain one that fits.
    const std::string rdn = SplitDn(intent.dn).first;
    const size_t eq = rdn.find('=');
    const std::string value = eq == std::string::npos ? "" : rdn.substr(eq + 1);
    const size_t limit = account ? 20 : 256;
    if (value.empty() || value.size() > limit ||
        value.find_first_of("\\\"/[]:;|=,+*?<>@ ") != std::string::npos)
      return Fail(Status::InvalidArgument(
          Describe(intent) + ": no sAMAccountName, and the RDN value \"" +
          value + "\" cannot be one (at most " + std::to_string(limit) +
          " characters, none of \\\"/[]:;|=,+*?<>@ or blanks)"));
    sam = value;
    mods.Add(LDAP_MOD_ADD, "sAMAccountName", {sam});
  }
  std::string note;
  if (account) {
    if (FirstValue(intent.set, "userPrincipalName").empty() &&
        !intent.domain.empty())
      mods.Add(LDAP_MOD_ADD, "userPrincipalName", {sam + "@" + intent.domain});
    std::optional<Secret> password;
    if (options_.password_for) password = options_.password_for(intent);
    if (password) {
      if (!Encrypted())
        return Fail(Status::InvalidArgument(
            Describe(intent) + ": refusing to send a password to " +
            conn_->uri() +
            " over an unencrypted connection (use ldaps:// or start_tls)"));
      std::optional<std::string> pwd = UnicodePwdValue(password->reveal());
      if (!pwd)
        return Fail(Status::InvalidArgument(Describe(intent) +
                                            ": the password is not UTF-8"));
      mods.Add(LDAP_MOD_ADD, "unicodePwd", {std::move(*pwd)});
      mods.Add(LDAP_MOD_ADD, "userAccountControl", {"512"});
      note = " (enabled, with its password)";
    } else {
      mods.Add(LDAP_MOD_ADD, "userAccountControl", {"514"});
      note = " (disabled: no password known)";
    }
  }
  const int rc = ldap_add_ext_s(conn_->handle(), intent.dn.c_str(),
                                mods.Build(), nullptr, nullptr);
  if (rc == LDAP_ALREADY_EXISTS) {
    Result<std::optional<Current>> now = ReadAt(intent.dn, names);
    if (now.ok() && now->has_value()) return compare_existing(**now);
  }
  if (rc != LDAP_SUCCESS)
    return Fail(conn_->Error(rc, Describe(intent) + ": creating"));
  Result<std::optional<Current>> created = ReadAt(intent.dn, {});
  if (!created.ok()) return Fail(created.status());
  if (!created->has_value() || (*created)->guid.empty())
    return Fail(Status::IOError(Describe(intent) +
                                ": created, but cannot be read back"));
  if (!not_reanimated.empty())
    note += " as a new object (objectGUID " + (*created)->guid +
            "): the tombstone of " + intent.target_id +
            " was not reanimated: " + not_reanimated;
  return Done("created \"" + intent.dn + "\"" + note, false, (*created)->guid);
}

std::optional<ApplyResult> AdWriter::Reanimate(const Intent& intent,
                                               std::string* why) {
  if (!ParseObjectGuid(intent.target_id)) {
    *why = "\"" + intent.target_id + "\" is not an objectGUID string";
    return std::nullopt;
  }
  Result<std::optional<Current>> tomb =
      ReadAt("<GUID=" + intent.target_id + ">", {"isDeleted"}, true);
  if (!tomb.ok()) {
    if (tomb.status().retryable()) return Fail(tomb.status());
    *why = tomb.status().message();
    return std::nullopt;
  }
  if (!tomb->has_value()) {
    *why = "no tombstone (removed by garbage collection, or never deleted)";
    return std::nullopt;
  }
  const Current& t = **tomb;
  if (!EqualsIgnoreCase(FirstValue(t.attrs, "isDeleted"), "TRUE")) {
    *why = "the object is not deleted (at \"" + t.dn + "\")";
    return std::nullopt;
  }
  ModList mods;
  mods.Add(LDAP_MOD_DELETE, "isDeleted", {});
  mods.Add(LDAP_MOD_REPLACE, "distinguishedName", {intent.dn});
  LDAPControl show{};
  show.ldctl_oid = const_cast<char*>(LDAP_CONTROL_X_SHOW_DELETED);
  show.ldctl_iscritical = 1;
  LDAPControl* ctrls[] = {&show, nullptr};
  const int rc = ldap_modify_ext_s(conn_->handle(), t.dn.c_str(), mods.Build(),
                                   ctrls, nullptr);
  if (rc != LDAP_SUCCESS) {
    Status st = conn_->Error(rc, "reanimating \"" + t.dn + "\"");
    if (st.retryable()) return Fail(st);
    *why = st.message();
    return std::nullopt;
  }
  Result<std::optional<Current>> back = Read(intent, NamesOf(intent));
  if (!back.ok()) return Fail(back.status());
  if (!back->has_value())
    return Fail(Status::IOError(Describe(intent) +
                                ": reanimated, but cannot be read back"));
  return Complete(intent, **back,
                  "reanimated the tombstone of " + intent.target_id + " at \"" +
                      intent.dn + "\" (objectGUID and objectSid kept)");
}

ApplyResult AdWriter::Complete(const Intent& intent, const Current& cur,
                               std::string done) {
  Intent rest;
  rest.id = intent.id;
  rest.target = intent.target;
  rest.kind = intent.kind;
  rest.op = IntentOp::kModify;
  rest.target_id = cur.guid;
  rest.dn = cur.dn;
  // The RDN's attribute (and name) change by a rename only.
  const std::string rdn = SplitDn(cur.dn).first;
  const std::string rdn_attr = rdn.substr(0, rdn.find('='));
  for (const Attribute& a : intent.set) {
    if (Unwritable(a.name) || EqualsIgnoreCase(a.name, "objectClass") ||
        EqualsIgnoreCase(a.name, "name") ||
        EqualsIgnoreCase(a.name, "distinguishedName") ||
        EqualsIgnoreCase(a.name, rdn_attr))
      continue;
    rest.set.push_back(a);
  }
  for (const Attribute& a : intent.add_values) rest.add_values.push_back(a);
  ApplyResult r = Modify(rest);
  r.assigned_id = cur.guid;
  if (!r.status.ok()) {
    if (!done.empty()) r.message = done + "; then " + r.message;
    return r;
  }
  if (done.empty()) {
    r.message = "\"" + cur.dn + "\" is back already (objectGUID " + cur.guid +
                "); " + r.message;
    return r;
  }
  r.already_applied = false;
  r.message = done + "; " + r.message;
  return r;
}

ApplyResult AdWriter::Modify(const Intent& intent) {
  const std::vector<std::string> names = NamesOf(intent);
  Result<std::optional<Current>> read = Read(intent, names);
  if (!read.ok()) return Fail(read.status());
  if (!read->has_value())
    return Fail(Status::NotFound(Describe(intent) + ": no such object on " +
                                 conn_->uri()));
  const Current& cur = **read;
  ModList mods;
  bool guarded = false;  // a delete-expected/add-new pair is in the modify
  for (const Attribute& a : intent.set) {
    if (Unwritable(a.name) || EqualsIgnoreCase(a.name, "objectClass")) continue;
    const std::vector<std::string>& have = AttrValues(cur.attrs, a.name);
    if (SameValues(a.name, have, a.values)) continue;
    if (FindAttr(intent.expect, a.name)) {
      // Fails atomically if someone changed the value after our read.
      guarded = true;
      if (have.empty()) {
        mods.Add(LDAP_MOD_ADD, a.name, a.values);
      } else {
        mods.Add(LDAP_MOD_DELETE, a.name, have);
        if (!a.values.empty()) mods.Add(LDAP_MOD_ADD, a.name, a.values);
      }
    } else {
      mods.Add(LDAP_MOD_REPLACE, a.name, a.values);
    }
  }
  for (const Attribute& a : intent.add_values) {
    std::vector<std::string> missing =
        MissingValues(a.name, a.values, AttrValues(cur.attrs, a.name));
    if (!missing.empty()) mods.Add(LDAP_MOD_ADD, a.name, std::move(missing));
  }
  for (const Attribute& a : intent.delete_values) {
    std::vector<std::string> present =
        PresentValues(a.name, a.values, AttrValues(cur.attrs, a.name));
    if (!present.empty()) mods.Add(LDAP_MOD_DELETE, a.name, std::move(present));
  }
  if (mods.empty())
    return Done("\"" + cur.dn + "\" already holds the intended values", true);
  if (std::optional<Status> conflict = CheckExpect(intent, cur, true))
    return Fail(*conflict);
  const int rc = ldap_modify_ext_s(conn_->handle(), cur.dn.c_str(),
                                   mods.Build(), nullptr, nullptr);
  if (rc != LDAP_SUCCESS) {
    if (guarded || rc == LDAP_NO_SUCH_ATTRIBUTE ||
        rc == LDAP_TYPE_OR_VALUE_EXISTS) {
      // Changed between our read and our write: say which attribute.
      Result<std::optional<Current>> now = Read(intent, names);
      if (now.ok() && now->has_value())
        if (std::optional<Status> c = CheckExpect(intent, **now, false))
          return Fail(*c);
    }
    return Fail(
        conn_->Error(rc, Describe(intent) + ": modifying \"" + cur.dn + "\""));
  }
  return Done("modified \"" + cur.dn + "\": " + mods.summary(), false);
}

ApplyResult AdWriter::Delete(const Intent& intent) {
  Result<std::optional<Current>> read = Read(intent, NamesOf(intent));
  if (!read.ok()) return Fail(read.status());
  if (!read->has_value()) return Done("already gone", true);
  const Current& cur = **read;
  if (std::optional<Status> conflict = CheckExpect(intent, cur, false))
    return Fail(*conflict);
  const int rc =
      ldap_delete_ext_s(conn_->handle(), cur.dn.c_str(), nullptr, nullptr);
  if (rc == LDAP_NO_SUCH_OBJECT) return Done("already gone", true);
  if (rc != LDAP_SUCCESS)
    return Fail(
        conn_->Error(rc, Describe(intent) + ": deleting \"" + cur.dn + "\""));
  return Done("deleted \"" + cur.dn + "\"", false);
}

int AdWriter::RenameTo(const std::string& from, const std::string& to) {
  const auto [new_rdn, new_parent] = SplitDn(to);
  const auto [old_rdn, old_parent] = SplitDn(from);
  const bool move = !SameDn(new_parent, old_parent);
  return ldap_rename_s(conn_->handle(), from.c_str(), new_rdn.c_str(),
                       move ? new_parent.c_str() : nullptr, 1, nullptr,
                       nullptr);
}

ApplyResult AdWriter::Rename(const Intent& intent) {
  if (intent.new_dn.empty())
    return Fail(Status::InvalidArgument(Describe(intent) +
                                        ": a rename needs the new DN"));
  Result<std::optional<Current>> read = Read(intent, NamesOf(intent));
  if (!read.ok()) return Fail(read.status());
  if (!read->has_value())
    return Fail(Status::NotFound(Describe(intent) + ": no such object on " +
                                 conn_->uri()));
  const Current& cur = **read;
  if (cur.dn == intent.new_dn)
    return Done("\"" + cur.dn + "\" already has that DN", true);
  if (std::optional<Status> conflict = CheckExpect(intent, cur, false))
    return Fail(*conflict);
  const int rc = RenameTo(cur.dn, intent.new_dn);
  if (rc != LDAP_SUCCESS)
    return Fail(conn_->Error(rc, Describe(intent) + ": renaming \"" + cur.dn +
                                     "\" to \"" + intent.new_dn + "\""));
  return Done("renamed \"" + cur.dn + "\" to \"" + intent.new_dn + "\"", false);
}

}  // namespace dirledger

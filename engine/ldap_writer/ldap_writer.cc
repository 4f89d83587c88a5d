#include "engine/ldap_writer/ldap_writer.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "engine/ldap/ldap_filter.h"
#include "engine/ldap/ldap_ops.h"
#include "engine/secrets.h"

namespace dirledger {
namespace {

std::string Join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (const std::string& p : parts) {
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

bool HasClass(const std::vector<std::string>& classes, std::string_view c) {
  return std::any_of(classes.begin(), classes.end(), [&](const std::string& x) {
    return EqualsIgnoreCase(x, c);
  });
}

void AddName(std::vector<std::string>* names, const std::string& n) {
  if (n.empty()) return;
  for (const std::string& x : *names)
    if (EqualsIgnoreCase(x, n)) return;
  names->push_back(n);
}

ApplyResult Fail(Status st) {
  ApplyResult r;
  r.status = std::move(st);
  return r;
}

ApplyResult Done(std::string message, bool already_applied = false) {
  ApplyResult r;
  r.message = std::move(message);
  r.already_applied = already_applied;
  return r;
}

std::string IntentName(const Intent& intent) {
  return "intent " + dirledger::IntentName(intent.id);
}

}  // namespace

Result<std::unique_ptr<LdapWriter>> LdapWriter::Create(
    std::shared_ptr<const RuleSet> rules, std::string_view connector) {
  const ConnectorRules* c = rules->connector(connector);
  const std::string what = "connector \"" + std::string(connector) + "\"";
  if (!c) return Status::InvalidArgument("no " + what + " in the config");
  if (c->config.server_type != ServerType::kOpenLdap)
    return Status::InvalidArgument(
        what + " is " + std::string(ServerTypeName(c->config.server_type)) +
        "; the OpenLDAP writer writes to OpenLDAP servers only");
  // The direction rules what the reconciler decides, not what a writer can
  // do: an operator's rollback writes to LDAP even under ldap_to_axigen.
  return std::unique_ptr<LdapWriter>(new LdapWriter(std::move(rules), *c));
}

LdapWriter::LdapWriter(std::shared_ptr<const RuleSet> rules,
                       const ConnectorRules& connector)
    : rules_(std::move(rules)),
      connector_(connector),
      what_("connector \"" + connector.config.name + "\"") {}

const ObjectMap& LdapWriter::MapFor(ObjectKind kind) const {
  return kind == ObjectKind::kAccount ? connector_.map.account
                                      : connector_.map.group;
}

ValueRules LdapWriter::RulesFor(ObjectKind kind) const {
  ValueRules r;
  const ObjectMap& group = connector_.map.group;
  if (!group.members_attribute.empty())
    r.dn_valued.push_back(group.members_attribute);
  if (kind == ObjectKind::kGroup && !group.members_attribute.empty() &&
      HasClass(group.object_classes, "groupOfNames")) {
    // groupOfNames must have a member: an empty DN stands for "none".
    r.keep_one_attribute = group.members_attribute;
    r.placeholder_value = "";
  }
  return r;
}

Status LdapWriter::EnsureConnected() {
  if (conn_) return Status::Ok();
  const ConnectorConfig& c = connector_.config;
  Result<Secret> password =
      ReadSecret(rules_->config(), c.bind_password_file, c.bind_password_env,
                 what_ + " bind password");
  if (!password.ok()) return password.status();
  LdapConnectOptions o;
  o.uris = c.uris;
  o.bind_dn = c.bind_dn;
  o.password = std::move(password).value();
  o.timeout_s = c.timeout_s;
  o.start_tls = c.start_tls;
  o.ca_file = c.ca_file.empty() ? "" : rules_->config().Resolve(c.ca_file);
  o.tls_verify = c.tls_verify;
  o.what = what_;
  auto conn = LdapConnection::Connect(o);
  if (!conn.ok()) return conn.status();
  conn_ = std::move(conn).value();
  naming_context_.clear();  // read again from this server when needed
  spdlog::info("[{}/ldap-writer] connected to {} as \"{}\"", c.name,
               conn_->uri(), c.bind_dn);
  return Status::Ok();
}

ApplyResult LdapWriter::Apply(const Intent& intent) {
  if (intent.target != Side::kLdap)
    return Fail(
        Status::InvalidArgument(IntentName(intent) + " targets the mail side"));
  if (!intent.connector.empty() && intent.connector != connector_.config.name)
    return Fail(Status::InvalidArgument(IntentName(intent) +
                                        " is for connector \"" +
                                        intent.connector + "\", not " + what_));
  Status st = EnsureConnected();
  if (!st.ok()) return Fail(st);
  ApplyResult r = ApplyConnected(intent);
  const StatusCode code = r.status.code();
  if (code == StatusCode::kUnavailable || code == StatusCode::kTimeout)
    conn_.reset();  // reconnect for the next intent
  const std::string target = intent.dn.empty() ? intent.target_id : intent.dn;
  if (r.status.ok()) {
    spdlog::info("[{}/ldap-writer] {}: {} {} \"{}\": {}{}",
                 connector_.config.name, IntentName(intent),
                 IntentOpName(intent.op), KindName(intent.kind), target,
                 r.message, r.already_applied ? " (already applied)" : "");
  } else {
    spdlog::warn("[{}/ldap-writer] {}: {} {} \"{}\" failed: {}",
                 connector_.config.name, IntentName(intent),
                 IntentOpName(intent.op), KindName(intent.kind), target,
                 r.status.message());
  }
  return r;
}

std::vector<std::string> LdapWriter::AttributesOf(const Intent& intent) const {
  std::vector<std::string> names = {"objectClass", "entryUUID"};
  AddName(&names, MapFor(intent.kind).name_attribute);
  for (const AttrList* l :
       {&intent.set, &intent.add_values, &intent.delete_values, &intent.expect})
    for (const Attribute& a : *l) AddName(&names, a.name);
  return names;
}

Result<std::optional<LdapEntry>> LdapWriter::ReadByDn(
    const std::string& dn, const std::vector<std::string>& attrs) {
  auto found =
      SearchEntries(*conn_, dn, SearchScope::kBase, "(objectClass=*)", attrs);
  if (!found.ok()) {
    if (found.status().IsNotFound()) return std::optional<LdapEntry>();
    return found.status();
  }
  if (found->empty()) return std::optional<LdapEntry>();
  return std::optional<LdapEntry>(std::move(found->front()));
}

Result<std::optional<LdapEntry>> LdapWriter::Locate(const Intent& intent) {
  const std::vector<std::string> attrs = AttributesOf(intent);
  if (intent.target_id.empty()) {
    if (intent.dn.empty())
      return Status::InvalidArgument(IntentName(intent) +
                                     " names neither an entryUUID nor a DN");
    return ReadByDn(intent.dn, attrs);
  }
  return FindById(connector_.search_base, intent.target_id, attrs);
}

Result<std::optional<LdapEntry>> LdapWriter::FindById(
    const std::string& base, const std::string& id,
    const std::vector<std::string>& attrs) {
  auto found = SearchEntries(*conn_, base, SearchScope::kSubtree,
                             EqualityFilter("entryUUID", id), attrs);
  if (!found.ok()) return found.status();
  if (found->empty()) return std::optional<LdapEntry>();
  if (found->size() > 1)
    return Status::InvalidArgument("several entries have entryUUID " + id +
                                   " under \"" + base + "\"");
  return std::optional<LdapEntry>(std::move(found->front()));
}

ApplyResult LdapWriter::ApplyConnected(const Intent& intent) {
  if (intent.op == IntentOp::kAdd) return Add(intent);
  auto located = Locate(intent);
  if (!located.ok()) return Fail(located.status());
  const std::string id_text = intent.target_id.empty()
                                  ? "at \"" + intent.dn + "\""
                                  : "with entryUUID " + intent.target_id;
  if (!*located) {
    if (intent.op == IntentOp::kDelete)
      return Done("no entry " + id_text + ": already deleted", true);
    return Fail(Status::NotFound(
        std::string(IntentOpName(intent.op)) + ": no entry " + id_text +
        " under \"" + connector_.search_base + "\" on " + conn_->uri()));
  }
  const LdapEntry& entry = **located;
  switch (intent.op) {
    case IntentOp::kDelete:
      return Delete(intent, entry);
    case IntentOp::kRename:
      return Rename(intent, entry);
    case IntentOp::kModify:
      if (!intent.new_dn.empty() && !SameDn(intent.new_dn, entry.dn))
        return Rename(intent, entry);
      return Modify(intent, entry);
    case IntentOp::kAdd:
      break;
  }
  return Fail(Status::InvalidArgument("unknown intent operation"));
}

ApplyResult LdapWriter::Add(const Intent& intent) {
  if (intent.dn.empty())
    return Fail(Status::InvalidArgument(IntentName(intent) +
                                        ": an add needs the entry's DN"));
  const ObjectMap& map = MapFor(intent.kind);
  const ValueRules rules = RulesFor(intent.kind);
  // The entry: the intent's values, its object classes, the RDN's values,
  // and what the object classes require.
  AttrList desired = intent.set;
  for (const Attribute& a : intent.add_values) {
    std::vector<std::string> values = AttrValues(desired, a.name);
    values.insert(values.end(), a.values.begin(), a.values.end());
    SetAttr(&desired, a.name, values);
  }
  CanonicalizeAttrs(&desired);
  DropEmptyAttrs(&desired);
  if (!FindAttr(desired, "objectClass"))
    SetAttr(&desired, "objectClass", map.object_classes);
  auto rdn = RdnAttributes(intent.dn);
  if (!rdn.ok()) return Fail(rdn.status());
  for (const Attribute& a : *rdn) {
    std::vector<std::string> values = AttrValues(desired, a.name);
    if (std::find(values.begin(), values.end(), a.values[0]) == values.end()) {
      values.push_back(a.values[0]);
      SetAttr(&desired, a.name, values);
    }
  }
  const std::vector<std::string>& classes = AttrValues(desired, "objectClass");
  if (HasClass(classes, "inetOrgPerson") || HasClass(classes, "person")) {
    // person requires cn and sn.
    if (!FindAttr(desired, "cn")) {
      std::string cn(FirstValue(desired, "displayName"));
      if (cn.empty()) cn = FirstValue(desired, map.name_attribute);
      if (cn.empty()) cn = (*rdn)[0].values[0];
      SetAttr(&desired, "cn", {cn});
    }
    if (!FindAttr(desired, "sn"))
      SetAttr(&desired, "sn", {std::string(FirstValue(desired, "cn"))});
  }
  if (!rules.keep_one_attribute.empty() &&
      !FindAttr(desired, rules.keep_one_attribute))
    SetAttr(&desired, rules.keep_one_attribute, {rules.placeholder_value});

  std::vector<std::string> attrs = {"entryUUID"};
  for (const Attribute& a : desired) AddName(&attrs, a.name);
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto existing = ReadByDn(intent.dn, attrs);
    if (!existing.ok()) return Fail(existing.status());
    if (*existing) {
      // The entry itself, moved back by an attempt that stopped before its
      // values were written: they are written now.
      if (!intent.target_id.empty() &&
          FirstValue((*existing)->attrs, "entryUUID") == intent.target_id)
        return MoveBack(intent, **existing, desired);
      const std::vector<std::string> differ =
          MissingFromEntry(rules, (*existing)->attrs, desired);
      if (!differ.empty())
        return Fail(Status::Conflict(
            "add \"" + intent.dn + "\" on " + conn_->uri() +
            ": an entry exists there already with other values: " +
            Join(differ, "; ")));
      ApplyResult r = Done("the entry exists with the intended values", true);
      r.assigned_id = std::string(FirstValue((*existing)->attrs, "entryUUID"));
      return r;
    }
    WriteControls controls;
    controls.read_back = {"entryUUID"};
    // A rollback brings a deleted entry back under its old entryUUID
    // (target_id): the rootdn may write it with the Relax Rules control.
    // A server or bind that does not allow it gives the entry a new one.
    std::string id_note;
    Result<WriteReply> reply = Status::Unavailable("add not sent");
    bool plain = intent.target_id.empty();
    if (!plain) {
      // The old entryUUID may belong to an entry still there: one moved out
      // of the synced base (reported as a delete) is not deleted. It is
      // moved back, keeping its identity, its link and its groups (refint);
      // a second entry with that entryUUID (slapd takes one under Relax
      // Rules) would make every later write by entryUUID find two.
      if (naming_context_.empty())
        naming_context_ = NamingContextOf(*conn_, connector_.search_base);
      auto holder = FindById(naming_context_, intent.target_id, attrs);
      if (!holder.ok()) return Fail(holder.status());
      if (*holder) return MoveBack(intent, **holder, desired);
    }
    if (!plain) {
      AttrList with_id = desired;
      SetAttr(&with_id, "entryUUID", {intent.target_id});
      LdapModList mods = LdapModList::ForAdd(with_id);
      WriteControls relaxed = controls;
      relaxed.relax = true;
      reply = AddEntry(*conn_, intent.dn, mods, relaxed);
      const StatusCode code = reply.status().code();
      if (reply.ok()) {
        id_note = " with its entryUUID " + intent.target_id + " kept";
      } else if (code != StatusCode::kConflict &&
                 code != StatusCode::kUnavailable &&
                 code != StatusCode::kTimeout) {
        id_note =
            " with a new entryUUID (the server did not take the old "
            "one, " +
            intent.target_id + ": " + reply.status().message() + ")";
        plain = true;
      }
    }
    if (plain) {
      LdapModList mods = LdapModList::ForAdd(desired);
      reply = AddEntry(*conn_, intent.dn, mods, controls);
    }
    if (!reply.ok()) {
      // Added by someone else since we looked: decide again on what is there.
      if (reply.status().code() == StatusCode::kConflict && attempt == 0)
        continue;
      return Fail(reply.status());
    }
    ApplyResult r = Done(
        (reply->diagnostic.empty() ? "added" : reply->diagnostic) + id_note);
    if (reply->post_read)
      r.assigned_id =
          std::string(FirstValue(reply->post_read->attrs, "entryUUID"));
    if (r.assigned_id.empty()) {
      auto added = ReadByDn(intent.dn, {"entryUUID"});
      if (added.ok() && *added)
        r.assigned_id = std::string(FirstValue((*added)->attrs, "entryUUID"));
    }
    return r;
  }
  return Fail(Status::Conflict("add \"" + intent.dn + "\": raced twice"));
}

ApplyResult LdapWriter::MoveBack(const Intent& intent, const LdapEntry& holder,
                                 const AttrList& desired) {
  const bool there = SameDn(holder.dn, intent.dn);
  std::string message =
      "the entry with entryUUID " + intent.target_id + " is at the DN already";
  if (!there) {
    const auto [new_rdn, new_parent] = SplitFirstRdn(intent.dn);
    const auto [old_rdn, old_parent] = SplitFirstRdn(holder.dn);
    auto moved =
        RenameEntry(*conn_, holder.dn, new_rdn,
                    SameDn(new_parent, old_parent) ? "" : new_parent, {});
    if (!moved.ok())
      return Fail(moved.status().WithContext(
          "moving the entry with entryUUID " + intent.target_id +
          " back from \"" + holder.dn + "\""));
    message = "moved back from \"" + holder.dn + "\" with its entryUUID " +
              intent.target_id + " kept";
  }
  // The mapped attributes it has that the add does not name go: the entry
  // is brought back as it was. Others stay (an attribute the log does not
  // keep, such as a value over the size it stores, is not lost).
  const std::vector<std::string> mapped = MapFor(intent.kind).ValueAttributes();
  std::vector<std::string> attrs = AttributesOf(intent);
  for (const std::string& a : mapped) AddName(&attrs, a);
  auto now = ReadByDn(intent.dn, attrs);
  if (!now.ok()) return Fail(now.status().WithContext(message));
  if (!*now)
    return Fail(Status::NotFound(message + ", but no entry is at \"" +
                                 intent.dn + "\" after the move"));
  // The values the add would have written; the classes it names are added
  // to those the entry has (they may hold other attributes).
  Intent rest = intent;
  rest.op = IntentOp::kModify;
  rest.target_id.clear();
  rest.expect.clear();
  rest.set.clear();
  rest.add_values.clear();
  rest.delete_values.clear();
  for (const Attribute& a : desired) {
    if (EqualsIgnoreCase(a.name, "objectClass"))
      rest.add_values.push_back(a);
    else
      rest.set.push_back(a);
  }
  for (const std::string& a : mapped)
    if (FindAttr((*now)->attrs, a) && !FindAttr(desired, a))
      rest.set.push_back(Attribute{a, {}});
  ApplyResult r = Modify(rest, **now);
  if (!r.status.ok()) return Fail(r.status.WithContext(message));
  r.assigned_id = intent.target_id;
  if (there && r.already_applied) {
    r.message = "the entry exists with the intended values";
    return r;
  }
  r.already_applied = false;
  r.message =
      message + (r.message == "already in effect" ? "" : "; " + r.message);
  return r;
}

ApplyResult LdapWriter::Modify(const Intent& intent, const LdapEntry& entry) {
  const ValueRules rules = RulesFor(intent.kind);
  WritePlan plan = PlanModify(rules, entry.attrs, intent);
  const std::string what = "modify \"" + entry.dn + "\" on " + conn_->uri();
  if (!plan.conflicts.empty())
    return Fail(Status::Conflict(
        what + ": changed concurrently: " + Join(plan.conflicts, "; ")));
  if (plan.already_applied) return Done("already in effect", true);
  const std::string description = plan.mods.Describe();
  WriteControls controls;
  controls.assertion = plan.assertion;
  auto reply = ModifyEntry(*conn_, entry.dn, plan.mods, controls);
  if (reply.ok())
    return Done(reply->diagnostic.empty() ? description : reply->diagnostic);
  if (reply.status().code() != StatusCode::kConflict)
    return Fail(reply.status());
  // The assertion failed: say which attribute changed under us.
  auto again = Locate(intent);
  if (again.ok() && *again) {
    WritePlan now = PlanModify(rules, (*again)->attrs, intent);
    if (now.already_applied) return Done("already in effect", true);
    if (!now.conflicts.empty())
      return Fail(Status::Conflict(
          what + ": changed concurrently: " + Join(now.conflicts, "; ")));
  }
  return Fail(reply.status());
}

ApplyResult LdapWriter::Rename(const Intent& intent, const LdapEntry& entry) {
  if (intent.new_dn.empty())
    return Fail(Status::InvalidArgument(IntentName(intent) +
                                        ": a rename needs the new DN"));
  const ValueRules rules = RulesFor(intent.kind);
  bool renamed = false;
  std::string message;
  if (!SameDn(entry.dn, intent.new_dn)) {
    const std::string what = "rename \"" + entry.dn + "\" on " + conn_->uri();
    const std::vector<std::string> mismatches =
        ExpectMismatches(rules, entry.attrs, intent.expect);
    if (!mismatches.empty())
      return Fail(Status::Conflict(
          what + ": changed concurrently: " + Join(mismatches, "; ")));
    const auto [new_rdn, new_parent] = SplitFirstRdn(intent.new_dn);
    const auto [old_rdn, old_parent] = SplitFirstRdn(entry.dn);
    WriteControls controls;
    if (!intent.expect.empty())
      controls.assertion = AssertionFilter(intent.expect);
    auto reply =
        RenameEntry(*conn_, entry.dn, new_rdn,
                    SameDn(new_parent, old_parent) ? "" : new_parent, controls);
    if (!reply.ok()) return Fail(reply.status());
    renamed = true;
    message = "renamed to \"" + intent.new_dn + "\"";
  }
  const bool has_changes = !intent.set.empty() || !intent.add_values.empty() ||
                           !intent.delete_values.empty();
  if (!has_changes)
    return renamed ? Done(message) : Done("already at the new DN", true);
  auto now = ReadByDn(intent.new_dn, AttributesOf(intent));
  if (!now.ok()) return Fail(now.status());
  if (!*now)
    return Fail(Status::NotFound("no entry at \"" + intent.new_dn +
                                 "\" after the rename"));
  Intent rest = intent;
  rest.target_id.clear();
  rest.dn = intent.new_dn;
  if (renamed) {
    // The RDN value changed with the rename, as the intent wanted.
    auto rdn = RdnAttributes(intent.new_dn);
    if (rdn.ok())
      for (const Attribute& a : *rdn)
        rest.expect.erase(std::remove_if(rest.expect.begin(), rest.expect.end(),
                                         [&](const Attribute& e) {
                                           return EqualsIgnoreCase(e.name,
                                                                   a.name);
                                         }),
                          rest.expect.end());
  }
  ApplyResult r = Modify(rest, **now);
  if (!r.status.ok() || !renamed) return r;
  r.already_applied = false;
  r.message =
      message + (r.message == "already in effect" ? "" : "; " + r.message);
  return r;
}

ApplyResult LdapWriter::Delete(const Intent& intent, const LdapEntry& entry) {
  const ValueRules rules = RulesFor(intent.kind);
  const std::string what = "delete \"" + entry.dn + "\" on " + conn_->uri();
  std::vector<std::string> mismatches =
      ExpectMismatches(rules, entry.attrs, intent.expect);
  if (!mismatches.empty())
    return Fail(Status::Conflict(
        what + ": changed concurrently: " + Join(mismatches, "; ")));
  WriteControls controls;
  if (!intent.expect.empty())
    controls.assertion = AssertionFilter(intent.expect);
  auto reply = DeleteEntry(*conn_, entry.dn, controls);
  if (reply.ok())
    return Done(reply->diagnostic.empty() ? "deleted" : reply->diagnostic);
  if (reply.status().IsNotFound()) return Done("already deleted", true);
  if (reply.status().code() == StatusCode::kConflict) {
    auto again = Locate(intent);
    if (again.ok() && !*again) return Done("already deleted", true);
    if (again.ok()) {
      mismatches = ExpectMismatches(rules, (*again)->attrs, intent.expect);
      if (!mismatches.empty())
        return Fail(Status::Conflict(
            what + ": changed concurrently: " + Join(mismatches, "; ")));
    }
  }
  return Fail(reply.status());
}

}  // namespace dirledger

// Test support for replay/: configs, realistic events of both sides, and a
// Scenario that decides a history event by event the way intake does
// (Reconcile against the projection, then its delta), keeping events and
// decisions for assertions and golden text. Test-only.
#ifndef DIRLEDGER_REPLAY_REPLAY_TEST_UTIL_H_
#define DIRLEDGER_REPLAY_REPLAY_TEST_UTIL_H_

#include <string>
#include <vector>

#include "codecs/config.h"
#include "codecs/event.h"
#include "codecs/rules_version.h"
#include "replay/decision_text.h"
#include "replay/replayer.h"

namespace dirledger::testing {

struct ConnectorOptions {
  std::string direction = "ldap_to_axigen";
  std::string resolution;  // only with both_ways
  std::string server_type = "openldap";
  bool ignore_ldap_deletes = false;
  bool group_sync = true;
  bool ldap_sync = true;
  std::string account_base_dn = "ou=people,%D";
  std::string delete_threshold;  // "" = the default
};

inline std::string ConfigToml(const ConnectorOptions& o) {
  std::string t =
      "data_dir = \"./data\"\n"
      "[[connector]]\n"
      "name = \"corp\"\n"
      "server_type = \"" +
      o.server_type +
      "\"\n"
      "uris = [\"ldap://127.0.0.1:3890\"]\n"
      "direction = \"" +
      o.direction + "\"\n";
  if (!o.resolution.empty())
    t += "conflict_resolution = \"" + o.resolution + "\"\n";
  t += "account_base_dn = \"" + o.account_base_dn + "\"\n";
  if (o.group_sync)
    t += "group_sync = true\ngroup_base_dn = \"ou=groups,%D\"\n";
  if (!o.delete_threshold.empty())
    t += "delete_threshold = " + o.delete_threshold + "\n";
  t += std::string("ignore_ldap_deletes = ") +
       (o.ignore_ldap_deletes ? "true" : "false") + "\n";
  t += "[[domain]]\nname = \"example.com\"\nconnector = \"corp\"\n";
  t += std::string("ldap_sync = ") + (o.ldap_sync ? "true" : "false") + "\n";
  return t;
}

inline ConfigChange ConfigEvent(const std::string& toml) {
  auto cfg = ParseConfig(toml, "dirledger.toml",
                         [](const std::string& p) -> Result<std::string> {
                           return Status::NotFound("no file " + p);
                         });
  if (!cfg.ok()) throw std::runtime_error(cfg.status().ToString());
  return MakeConfigChange(*cfg, toml);
}

inline std::string PersonDn(const std::string& uid) {
  return "uid=" + uid + ",ou=people,dc=example,dc=com";
}
inline std::string GroupDn(const std::string& cn) {
  return "cn=" + cn + ",ou=groups,dc=example,dc=com";
}

// An inetOrgPerson as syncrepl reports it: `fields` are LDAP attributes on
// top of objectClass, uid, cn and mail.
inline ObservedChange LdapPerson(const std::string& id, const std::string& uid,
                                 AttrList fields,
                                 ChangeOp op = ChangeOp::kModify) {
  ObservedChange c;
  c.side = Side::kLdap;
  c.source = "corp/syncrepl";
  c.connector = "corp";
  c.domain = "example.com";
  c.kind = ObjectKind::kAccount;
  c.id = id;
  c.dn = PersonDn(uid);
  c.op = op;
  c.full_image = true;
  c.attrs = std::move(fields);
  c.attrs.push_back(
      {"objectClass",
       {"inetOrgPerson", "organizationalPerson", "person", "top"}});
  c.attrs.push_back({"uid", {uid}});
  if (!FindAttr(c.attrs, "cn")) c.attrs.push_back({"cn", {uid}});
  if (!FindAttr(c.attrs, "sn")) c.attrs.push_back({"sn", {uid}});
  if (!FindAttr(c.attrs, "mail"))
    c.attrs.push_back({"mail", {uid + "@example.com"}});
  CanonicalizeAttrs(&c.attrs);
  return c;
}

inline ObservedChange LdapGroup(const std::string& id, const std::string& cn,
                                std::vector<std::string> member_dns,
                                AttrList fields = {},
                                ChangeOp op = ChangeOp::kModify) {
  ObservedChange c;
  c.side = Side::kLdap;
  c.source = "corp/syncrepl";
  c.connector = "corp";
  c.domain = "example.com";
  c.kind = ObjectKind::kGroup;
  c.id = id;
  c.dn = GroupDn(cn);
  c.op = op;
  c.full_image = true;
  c.attrs = std::move(fields);
  c.attrs.push_back({"objectClass", {"groupOfNames", "top"}});
  c.attrs.push_back({"cn", {cn}});
  if (!member_dns.empty()) c.attrs.push_back({"member", std::move(member_dns)});
  CanonicalizeAttrs(&c.attrs);
  return c;
}

inline ObservedChange LdapDelete(const std::string& id, const std::string& dn,
                                 ObjectKind kind = ObjectKind::kAccount) {
  ObservedChange c;
  c.side = Side::kLdap;
  c.source = "corp/syncrepl";
  c.connector = "corp";
  c.domain = "example.com";
  c.kind = kind;
  c.id = id;
  c.dn = dn;
  c.op = ChangeOp::kDelete;
  return c;
}

// A mail object as the mail directory reports it (full image, field names).
inline ObservedChange MailObject(const std::string& address, AttrList fields,
                                 ObjectKind kind = ObjectKind::kAccount,
                                 ChangeOp op = ChangeOp::kModify) {
  ObservedChange c;
  c.side = Side::kMail;
  c.source = "mail/embedded";
  c.domain = "example.com";
  c.kind = kind;
  c.id = address;
  c.op = op;
  c.full_image = op != ChangeOp::kDelete;
  c.attrs = std::move(fields);
  CanonicalizeAttrs(&c.attrs);
  return c;
}

inline ObservedChange MailDelete(const std::string& address,
                                 ObjectKind kind = ObjectKind::kAccount) {
  return MailObject(address, {}, kind, ChangeOp::kDelete);
}

inline WriteOutcome OkOutcome(const Intent& i, std::string assigned = "") {
  WriteOutcome o;
  o.intent_id = i.id;
  o.ok = true;
  o.side = i.target;
  o.target_id = i.target_id;
  o.assigned_id = std::move(assigned);
  o.attempts = 1;
  return o;
}

inline WriteOutcome FailedOutcome(const Intent& i, std::string message) {
  WriteOutcome o = OkOutcome(i);
  o.ok = false;
  o.message = std::move(message);
  return o;
}

// Decides a history event by event.
class Scenario {
 public:
  explicit Scenario(const ConnectorOptions& o = {})
      : replayer_(ReplayOptions{0, {}, false}) {
    Feed(ConfigEvent(ConfigToml(o)));
  }

  // `time_us`: the event's time as the log stamped it.
  const Decision& Feed(EventBody body, std::int64_t time_us = 0) {
    Event e;
    e.seq = ++seq_;
    e.time_us = time_us;
    e.body = std::move(body);
    Status s = replayer_.Feed(e, nullptr);
    if (!s.ok()) throw std::runtime_error(s.ToString());
    events_.push_back(std::move(e));
    decisions_.push_back(replayer_.last_decision());
    return decisions_.back();
  }

  // Feeds a new config.
  const Decision& Configure(const ConnectorOptions& o) {
    return Feed(ConfigEvent(ConfigToml(o)));
  }

  const InMemoryProjection& projection() const {
    return replayer_.projection();
  }
  const std::vector<Event>& events() const { return events_; }
  const std::vector<Decision>& decisions() const { return decisions_; }
  std::uint64_t seq() const { return seq_; }

  // Events and decisions from index `from` as text (skipping the config).
  std::string Text(size_t from = 1) const {
    std::string out;
    for (size_t i = from; i < events_.size(); ++i) {
      out += EventText(events_[i]) + "\n";
      out += DecisionText(decisions_[i]);
    }
    return out;
  }

 private:
  Replayer replayer_;
  std::uint64_t seq_ = 0;
  std::vector<Event> events_;
  std::vector<Decision> decisions_;
};

// Records the config `o` (and `extra` TOML after it) again, decided under
// rules version `rules` from here.
inline void FeedConfig(Scenario& s, const ConnectorOptions& o,
                       std::uint32_t rules, const std::string& extra = "") {
  ConfigChange c = ConfigEvent(ConfigToml(o) + extra);
  c.reconciler_rules = rules;
  s.Feed(c);
}

// FeedConfig, but nothing when `rules` is this build's: the scenario's own
// config stands.
inline void UnderRules(Scenario& s, const ConnectorOptions& o,
                       std::uint32_t rules) {
  if (rules != kReconcilerRules) FeedConfig(s, o, rules);
}

}  // namespace dirledger::testing

#endif  // DIRLEDGER_REPLAY_REPLAY_TEST_UTIL_H_

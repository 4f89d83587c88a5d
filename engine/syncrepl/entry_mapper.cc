#include "engine/syncrepl/entry_mapper.h"

#include <algorithm>

#include "codecs/secret_attributes.h"
#include "engine/mail_object.h"

namespace dirledger {

EntryMapper::EntryMapper(std::shared_ptr<const RuleSet> rules,
                         std::string connector, std::string source)
    : rules_(std::move(rules)),
      rules_for_connector_(rules_->connector(connector)),
      connector_(std::move(connector)),
      source_(std::move(source)) {}

ObjectError EntryMapper::Error(std::string_view id, std::string_view dn,
                               std::string message) const {
  ObjectError e;
  e.side = Side::kLdap;
  e.source = source_;
  e.connector = connector_;
  e.id = std::string(id);
  e.dn = std::string(dn);
  e.message = std::move(message);
  return e;
}

MappedEntry EntryMapper::Map(std::string_view id, LdapEntry entry,
                             bool known) const {
  MappedEntry out;
  std::optional<Classification> c =
      rules_->Classify(connector_, entry.dn, entry.attrs);
  if (!c) return out;  // kOutOfScope
  const ObjectMap& map = c->kind == ObjectKind::kAccount
                             ? rules_for_connector_->map.account
                             : rules_for_connector_->map.group;
  const std::string what = std::string(KindName(c->kind)) + " \"" + entry.dn +
                           "\" (entryUUID " + std::string(id) + ")";
  if (!entry.problem.empty()) {
    out.kind = MappedEntry::Kind::kError;
    out.error = Error(id, entry.dn, what + ": " + entry.problem);
    return out;
  }
  if (c->name.empty()) {
    out.kind = MappedEntry::Kind::kError;
    out.error = Error(id, entry.dn,
                      what + ": no " + map.name_attribute + " value (the " +
                          std::string(KindName(c->kind)) +
                          " name); the entry is not synced until it has one");
    return out;
  }
  // The name must make a mail address the mail side takes; otherwise every
  // write for the entry would be refused there, one failed intent at a time.
  if (Result<std::string> address = NormalizeAddress(c->address);
      !address.ok()) {
    out.kind = MappedEntry::Kind::kError;
    out.error = Error(id, entry.dn,
                      what + ": " + map.name_attribute + " \"" + c->name +
                          "\" does not make a mail address (" +
                          address.status().message() +
                          "); the entry is not synced until it does");
    return out;
  }
  // The whole entry as the server reported it, every user attribute,
  // mapped or not, except secrets (never stored, whoever sent them). The id
  // is the object's key, not part of its image; an empty DN in a group's
  // member list is the placeholder that keeps groupOfNames valid without
  // members.
  AttrList& attrs = entry.attrs;
  const std::vector<std::string>& secrets =
      rules_for_connector_->config.secret_attributes;
  attrs.erase(std::remove_if(attrs.begin(), attrs.end(),
                             [&](const Attribute& a) {
                               return EqualsIgnoreCase(a.name, "entryUUID") ||
                                      IsSecretAttribute(a.name, secrets);
                             }),
              attrs.end());
  if (!map.members_attribute.empty()) {
    for (Attribute& a : attrs) {
      if (!EqualsIgnoreCase(a.name, map.members_attribute)) continue;
      a.values.erase(std::remove(a.values.begin(), a.values.end(), ""),
                     a.values.end());
    }
  }
  CanonicalizeAttrs(&attrs);
  DropEmptyAttrs(&attrs);

  out.kind = MappedEntry::Kind::kChange;
  ObservedChange& ch = out.change;
  ch.side = Side::kLdap;
  ch.source = source_;
  ch.connector = connector_;
  ch.domain = c->domain;
  ch.kind = c->kind;
  ch.id = std::string(id);
  ch.dn = std::move(entry.dn);
  ch.op = known ? ChangeOp::kModify : ChangeOp::kAdd;
  ch.full_image = true;
  ch.attrs = std::move(attrs);
  return out;
}

ObservedChange EntryMapper::Delete(const ObjectState& known) const {
  ObservedChange ch;
  ch.side = Side::kLdap;
  ch.source = source_;
  ch.connector = connector_;
  ch.domain = known.domain;
  ch.kind = known.kind;
  ch.id = known.id;
  ch.dn = known.dn;
  ch.op = ChangeOp::kDelete;
  return ch;
}

}  // namespace dirledger

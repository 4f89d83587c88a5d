#include "engine/embedded_mail/mail_admin.h"

#include <map>

#include "codecs/printable.h"

namespace dirledger {
namespace {

// Builds the intent-shaped description of `edits` for PlanIntent: set
// edits accumulate per field into one replacement, += and -= become value
// additions and removals.
Intent EditsToIntent(std::string_view address, ObjectKind kind, IntentOp op,
                     const std::vector<FieldEdit>& edits) {
  Intent in;
  in.target = Side::kMail;
  in.kind = kind;
  in.op = op;
  in.target_id = std::string(address);
  std::map<std::string, std::vector<std::string>> sets, adds, removes;
  for (const FieldEdit& e : edits) {
    const std::string key = AsciiLower(e.field);
    auto& bucket = e.op == FieldEdit::Op::kSet   ? sets
                   : e.op == FieldEdit::Op::kAdd ? adds
                                                 : removes;
    auto& values = bucket[key];
    if (!e.value.empty()) values.push_back(e.value);
  }
  // Keep the user's spelling for error messages: the first edit naming it.
  auto spelled = [&](const std::string& key) {
    for (const FieldEdit& e : edits)
      if (AsciiLower(e.field) == key) return e.field;
    return key;
  };
  for (auto& [k, v] : sets) in.set.push_back({spelled(k), v});
  for (auto& [k, v] : adds) in.add_values.push_back({spelled(k), v});
  for (auto& [k, v] : removes) {
    if (v.empty()) continue;  // "field-=" removes nothing
    in.delete_values.push_back({spelled(k), v});
  }
  return in;
}

}  // namespace

Result<MailEdits> ParseMailEdits(const std::vector<std::string>& words) {
  MailEdits out;
  for (const std::string& w : words) {
    const auto eq = w.find('=');
    if (eq == std::string::npos || eq == 0)
      return Status::InvalidArgument("\"" + w +
                                     "\": expected FIELD=VALUE, FIELD+=VALUE "
                                     "or FIELD-=VALUE");
    FieldEdit e;
    std::string name = w.substr(0, eq);
    if (name.back() == '+') {
      e.op = FieldEdit::Op::kAdd;
      name.pop_back();
    } else if (name.back() == '-') {
      e.op = FieldEdit::Op::kRemove;
      name.pop_back();
    }
    if (name.empty())
      return Status::InvalidArgument("\"" + w + "\": the field name is empty");
    e.field = name;
    e.value = w.substr(eq + 1);
    if (EqualsIgnoreCase(name, "kind")) {
      if (e.op != FieldEdit::Op::kSet)
        return Status::InvalidArgument("kind takes kind=account or kind=group");
      if (EqualsIgnoreCase(e.value, "account")) {
        out.kind = ObjectKind::kAccount;
      } else if (EqualsIgnoreCase(e.value, "group")) {
        out.kind = ObjectKind::kGroup;
      } else {
        return Status::InvalidArgument("kind=\"" + e.value +
                                       "\": expected account or group");
      }
      continue;
    }
    if (EqualsIgnoreCase(name, "password"))
      return Status::InvalidArgument(
          "a password is never given as password=VALUE (it would be visible "
          "to other users of this machine); give it from a file or the "
          "environment");
    out.edits.push_back(std::move(e));
  }
  return out;
}

nlohmann::json ToJson(const MailEntry& entry) {
  nlohmann::json j = nlohmann::json::object();
  j["address"] = entry.address;
  j["kind"] = std::string(KindName(entry.kind));
  j["domain"] = entry.domain;
  for (const Attribute& a : entry.fields) {
    if (IsAddressField(a.name)) {
      j[a.name] = a.values;
    } else if (!a.values.empty()) {
      j[a.name] = a.values.front();
    }
  }
  if (entry.kind == ObjectKind::kAccount)
    j["password_set"] = entry.has_password;
  return j;
}

std::string ToText(const MailEntry& entry) {
  // Values come from whoever edits either side: shown escaped, so none can
  // forge a line on the reader's terminal.
  std::string out = PrintableText(entry.address) + " (" +
                    std::string(KindName(entry.kind)) + ")\n";
  for (const Attribute& a : entry.fields) {
    for (const auto& v : a.values)
      out += "  " + PrintableText(a.name) + ": " + PrintableText(v) + "\n";
  }
  if (entry.kind == ObjectKind::kAccount)
    out += std::string("  password: ") + (entry.has_password ? "set" : "none") +
           "\n";
  return out;
}

Result<MailEntry> MailAdmin::Entry(const MailObject& o) const {
  MailEntry e;
  e.address = o.address;
  e.kind = o.kind;
  e.domain = std::string(o.domain());
  e.fields = o.attrs;
  e.has_password =
      o.kind == ObjectKind::kAccount && dir_->HasPassword(o.address);
  return e;
}

Result<std::vector<MailEntry>> MailAdmin::List(std::string_view domain) const {
  std::string d;
  if (!domain.empty()) {
    auto nd = NormalizeDomain(domain);
    if (!nd.ok()) return nd.status();
    d = *nd;
  }
  std::vector<MailEntry> out;
  Status err;
  DIRLEDGER_RETURN_IF_ERROR(dir_->ForEach(d, [&](const MailObject& o) {
    auto e = Entry(o);
    if (!e.ok()) {
      err = e.status();
      return false;
    }
    out.push_back(std::move(e).value());
    return true;
  }));
  if (!err.ok()) return err;
  return out;
}

Result<MailEntry> MailAdmin::Show(std::string_view address) const {
  auto a = NormalizeAddress(address);
  if (!a.ok()) return a.status();
  auto o = dir_->Get(*a);
  if (!o.ok()) return o.status();
  if (!*o) return Status::NotFound("no account or group " + *a);
  return Entry(**o);
}

Result<std::vector<std::string>> MailAdmin::Domains() const {
  return dir_->Domains();
}

Status MailAdmin::AddDomain(std::string_view domain) {
  return dir_->AddDomain(domain);
}

Result<MailEntry> MailAdmin::Add(std::string_view address,
                                 const MailEdits& edits,
                                 const std::optional<Secret>& password) {
  auto a = NormalizeAddress(address);
  if (!a.ok()) return a.status();
  const ObjectKind kind = edits.kind.value_or(ObjectKind::kAccount);
  if (password && kind == ObjectKind::kGroup)
    return Status::InvalidArgument(*a + ": a group has no password");
  const std::string domain = a->substr(a->find('@') + 1);
  if (!dir_->HasDomain(domain))
    return Status::NotFound("domain " + domain +
                            " does not exist in the mail directory");
  const Intent in = EditsToIntent(*a, kind, IntentOp::kAdd, edits.edits);
  MailObject made;
  auto seq = dir_->Update(
      *a,
      [&](const std::optional<MailObject>& current)
          -> Result<std::optional<MailWrite>> {
        if (current)
          return Status::Conflict(*a + " already exists (as " +
                                  std::string(KindName(current->kind)) +
                                  "); use set to change it");
        auto plan = PlanIntent(in, current);
        if (!plan.ok()) return plan.status();
        MailWrite w;
        w.op = ChangeOp::kAdd;
        w.object = plan->target;
        if (password) w.password_hash = HashPassword(password->reveal());
        made = w.object;
        return std::optional<MailWrite>(std::move(w));
      });
  if (!seq.ok()) return seq.status();
  return Entry(made);
}

Result<MailEntry> MailAdmin::Set(std::string_view address,
                                 const MailEdits& edits,
                                 const std::optional<Secret>& password) {
  auto a = NormalizeAddress(address);
  if (!a.ok()) return a.status();
  if (edits.kind)
    return Status::InvalidArgument(*a +
                                   ": the kind of an object cannot change");
  if (edits.edits.empty() && !password)
    return Status::InvalidArgument(*a + ": nothing to set");
  MailObject result;
  auto seq = dir_->Update(
      *a,
      [&](const std::optional<MailObject>& current)
          -> Result<std::optional<MailWrite>> {
        if (!current) return Status::NotFound("no account or group " + *a);
        if (password && current->kind == ObjectKind::kGroup)
          return Status::InvalidArgument(*a + ": a group has no password");
        const Intent in =
            EditsToIntent(*a, current->kind, IntentOp::kModify, edits.edits);
        auto plan = PlanIntent(in, current);
        if (!plan.ok()) return plan.status();
        result = plan->action == ApplyPlan::Action::kNothing ? *current
                                                             : plan->target;
        if (plan->action == ApplyPlan::Action::kNothing && !password)
          return std::optional<MailWrite>();
        MailWrite w;
        w.op = ChangeOp::kModify;
        w.object = result;
        if (password) w.password_hash = HashPassword(password->reveal());
        return std::optional<MailWrite>(std::move(w));
      });
  if (!seq.ok()) return seq.status();
  return Entry(result);
}

Status MailAdmin::Remove(std::string_view address) {
  auto a = NormalizeAddress(address);
  if (!a.ok()) return a.status();
  auto seq =
      dir_->Update(*a,
                   [&](const std::optional<MailObject>& current)
                       -> Result<std::optional<MailWrite>> {
                     if (!current)
                       return Status::NotFound("no account or group " + *a);
                     MailWrite w;
                     w.op = ChangeOp::kDelete;
                     w.object.kind = current->kind;
                     w.object.address = *a;
                     return std::optional<MailWrite>(std::move(w));
                   });
  return seq.ok() ? Status::Ok() : seq.status();
}

}  // namespace dirledger

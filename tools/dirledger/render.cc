#include "tools/dirledger/render.h"

#include <sstream>

#include "codecs/ldif.h"
#include "codecs/printable.h"
#include "codecs/sha256.h"
#include "tools/dirledger/cli_context.h"

namespace dirledger::cli {

using nlohmann::json;

json ValueJson(const std::string& v) {
  if (IsValidUtf8(v)) return v;
  return json{{"base64", Base64Encode(v)}};
}

namespace {

std::string AttrsText(const AttrList& attrs, std::string_view indent) {
  std::string out;
  for (const Attribute& a : attrs) {
    out += indent;
    out += PrintableText(a.name);
    out += ":";
    if (a.values.empty()) out += " (removed)";
    for (size_t i = 0; i < a.values.size(); ++i) {
      out += i ? ", " : " ";
      out += ValueText(a.values[i]);
    }
    out += "\n";
  }
  return out;
}

std::string Short(const std::string& s, size_t n = 48) {
  if (s.size() <= n) return PrintableText(s);
  return PrintableText(s.substr(0, n - 3)) + "...";
}

}  // namespace

std::string ValueText(const std::string& v) {
  if (IsValidUtf8(v)) return PrintableText(v);
  return "b64:" + Base64Encode(v);
}

std::string IntentIdText(std::uint64_t id) { return IntentName(id); }

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    if (c < 0x80)
      n = 0;
    else if (c >= 0xc2 && c <= 0xdf)
      n = 1;
    else if (c >= 0xe0 && c <= 0xef)
      n = 2;
    else if (c >= 0xf0 && c <= 0xf4)
      n = 3;
    else
      return false;
    if (i + n >= s.size() && n > 0) return false;
    for (size_t k = 1; k <= n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return false;
    i += n + 1;
  }
  return true;
}

std::string EventSide(const Event& e) {
  if (const auto* c = std::get_if<ObservedChange>(&e.body))
    return std::string(SideName(c->side));
  if (const auto* w = std::get_if<WriteOutcome>(&e.body))
    return std::string(SideName(w->side));
  if (const auto* x = std::get_if<ObjectError>(&e.body))
    return std::string(SideName(x->side));
  if (const auto* h = std::get_if<DeleteHold>(&e.body))
    return h->deletes.empty() ? "" : std::string(SideName(h->deletes[0].side));
  if (const auto* c = std::get_if<CursorAdvance>(&e.body))
    return c->source == "mail" ? "mail" : "ldap";
  if (const auto* p = std::get_if<RefreshPhase>(&e.body))
    return p->source == "mail" ? "mail" : "ldap";
  return "";
}

std::string EventObject(const Event& e) {
  if (const auto* c = std::get_if<ObservedChange>(&e.body)) return c->id;
  if (const auto* w = std::get_if<WriteOutcome>(&e.body)) return w->target_id;
  if (const auto* x = std::get_if<ObjectError>(&e.body)) return x->id;
  if (const auto* h = std::get_if<DeleteHold>(&e.body)) return h->hold_id;
  if (const auto* a = std::get_if<OperatorAction>(&e.body))
    return a->failure_id.empty() ? a->hold_id : a->failure_id;
  return "";
}

json AttrsJson(const AttrList& attrs) {
  json out = json::object();
  for (const Attribute& a : attrs) {
    json values = json::array();
    for (const std::string& v : a.values) values.push_back(ValueJson(v));
    out[a.name] = std::move(values);
  }
  return out;
}

json IntentJson(const Intent& i) {
  json j{{"id", IntentIdText(i.id)}, {"target", SideName(i.target)},
         {"op", IntentOpName(i.op)}, {"object_kind", KindName(i.kind)},
         {"target_id", i.target_id}, {"dn", i.dn},
         {"domain", i.domain},       {"connector", i.connector}};
  if (!i.new_dn.empty()) j["new_dn"] = i.new_dn;
  if (!i.set.empty()) j["set"] = AttrsJson(i.set);
  if (!i.add_values.empty()) j["add_values"] = AttrsJson(i.add_values);
  if (!i.delete_values.empty()) j["delete_values"] = AttrsJson(i.delete_values);
  if (!i.expect.empty()) j["expect"] = AttrsJson(i.expect);
  if (!i.source_id.empty()) j["source_id"] = i.source_id;
  return j;
}

json EventJson(const Event& e, const Decision* d) {
  json j{
      {"seq", e.seq},
      {"time", FormatTime(e.time_us)},
      {"side", EventSide(e)},
      {"kind", EventKindName(e.body)},
      {"object", ValueJson(EventObject(e))},
      {"decision", d ? std::string(OutcomeName(d->outcome)) : std::string()}};
  if (d) {
    j["rule"] = d->rule;
    j["reason"] = ValueJson(d->reason);
    if (!d->intents.empty()) {
      json intents = json::array();
      for (const Intent& i : d->intents) intents.push_back(IntentJson(i));
      j["intents"] = std::move(intents);
    }
    if (!d->link_ldap_id.empty())
      j["link"] = json{{"ldap", d->link_ldap_id}, {"mail", d->link_mail_id}};
    if (!d->conflict_fields.empty()) {
      j["conflict_fields"] = d->conflict_fields;
      // An open conflict (no_change) has no winner.
      if (d->outcome == Outcome::kConflictResolved)
        j["winner"] = SideName(d->winner);
    }
  }
  std::visit(
      [&](const auto& b) {
        using B = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<B, ObservedChange>) {
          j["source"] = b.source;
          j["connector"] = b.connector;
          j["domain"] = b.domain;
          j["object_kind"] = KindName(b.kind);
          j["op"] = ChangeOpName(b.op);
          j["dn"] = ValueJson(b.dn);
          j["full_image"] = b.full_image;
          if (!b.attrs.empty()) j["attrs"] = AttrsJson(b.attrs);
          if (b.delete_delay_s != 0) {
            j["delete_delay_s"] = b.delete_delay_s;
            if (b.op == ChangeOp::kDelete) j["source_known"] = b.source_known;
          }
          if (!b.value_adds.empty()) j["value_adds"] = AttrsJson(b.value_adds);
          if (!b.value_deletes.empty())
            j["value_deletes"] = AttrsJson(b.value_deletes);
          if (b.origin_intent)
            j["origin_intent"] = IntentIdText(b.origin_intent);
          if (!b.remains_at.empty()) j["remains_at"] = ValueJson(b.remains_at);
        } else if constexpr (std::is_same_v<B, CursorAdvance>) {
          j["source"] = b.source;
          j["cookie"] = ValueJson(b.cookie);
        } else if constexpr (std::is_same_v<B, RefreshPhase>) {
          j["source"] = b.source;
          j["connector"] = b.connector;
          j["phase"] = b.kind == PhaseKind::kBegin ? "begin" : "end";
          static const char* kModes[] = {"incremental", "full", "present",
                                         "delete"};
          j["mode"] = kModes[static_cast<int>(b.mode)];
          if (b.kind == PhaseKind::kEnd) {
            j["entries"] = b.entries;
            j["present"] = b.present;
            j["missing"] = b.missing;
          }
        } else if constexpr (std::is_same_v<B, ConfigChange>) {
          j["path"] = b.path;
          j["sha256"] = HexEncode(b.sha256);
          j["text"] = ValueJson(b.text);
        } else if constexpr (std::is_same_v<B, OperatorAction>) {
          j["action"] = ActionKindName(b.kind);
          j["actor"] = b.actor;
          if (!b.hold_id.empty()) j["hold_id"] = b.hold_id;
          if (!b.failure_id.empty()) j["failure_id"] = b.failure_id;
          if (b.kind == ActionKind::kRollback) {
            j["to_seq"] = b.to_seq;
            j["side_filter"] = b.side_filter;
            j["domain_filter"] = b.domain_filter;
            j["targets"] = b.targets.size();
          }
          j["command"] = ValueJson(b.command);
        } else if constexpr (std::is_same_v<B, WriteOutcome>) {
          j["intent"] = IntentIdText(b.intent_id);
          j["ok"] = b.ok;
          j["message"] = ValueJson(b.message);
          if (!b.assigned_id.empty()) j["assigned_id"] = b.assigned_id;
          j["already_applied"] = b.already_applied;
        } else if constexpr (std::is_same_v<B, DeleteHold>) {
          j["hold_id"] = b.hold_id;
          j["source"] = b.source;
          j["connector"] = b.connector;
          j["reason"] = b.reason;
          j["deletes"] = b.deletes.size();
          j["known"] = b.known;
        } else if constexpr (std::is_same_v<B, ObjectError>) {
          j["source"] = b.source;
          j["connector"] = b.connector;
          j["dn"] = ValueJson(b.dn);
          j["message"] = ValueJson(b.message);
        }
      },
      e.body);
  return j;
}

std::string IntentText(const Intent& i) {
  std::ostringstream os;
  os << "intent " << IntentIdText(i.id) << ": " << IntentOpName(i.op) << " "
     << KindName(i.kind) << " on " << SideName(i.target) << " "
     << ValueText(i.dn.empty() ? i.target_id : i.dn);
  if (!i.new_dn.empty()) os << " -> " << ValueText(i.new_dn);
  os << "\n";
  std::string out = os.str();
  if (!i.set.empty()) out += AttrsText(i.set, "      set ");
  if (!i.add_values.empty()) out += AttrsText(i.add_values, "      add ");
  if (!i.delete_values.empty())
    out += AttrsText(i.delete_values, "      remove ");
  return out;
}

std::string EventLine(const Event& e, const Decision* d) {
  std::ostringstream os;
  os << e.seq << "  " << FormatTime(e.time_us) << "  ";
  const std::string side = EventSide(e);
  os << (side.empty() ? "-" : side) << "  " << EventKindName(e.body) << "  ";
  std::visit(
      [&](const auto& b) {
        using B = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<B, ObservedChange>) {
          os << ChangeOpName(b.op) << " " << KindName(b.kind) << " "
             << ValueText(b.dn.empty() ? b.id : b.dn);
          if (!b.remains_at.empty())
            os << " (left the scope, at " << ValueText(b.remains_at) << ")";
        } else if constexpr (std::is_same_v<B, CursorAdvance>) {
          os << PrintableText(b.source) << " cursor advanced";
        } else if constexpr (std::is_same_v<B, RefreshPhase>) {
          os << PrintableText(b.source) << " refresh "
             << (b.kind == PhaseKind::kBegin ? "begins" : "ends");
          if (b.kind == PhaseKind::kEnd)
            os << " (" << b.entries << " entries, " << b.missing << " missing)";
        } else if constexpr (std::is_same_v<B, ConfigChange>) {
          os << "config " << PrintableText(b.path) << " sha256 "
             << HexEncode(b.sha256).substr(0, 16);
        } else if constexpr (std::is_same_v<B, OperatorAction>) {
          os << ActionKindName(b.kind) << " by " << PrintableText(b.actor);
          if (!b.hold_id.empty()) os << " " << PrintableText(b.hold_id);
          if (!b.failure_id.empty()) os << " " << PrintableText(b.failure_id);
          if (b.kind == ActionKind::kRollback) os << " to " << b.to_seq;
        } else if constexpr (std::is_same_v<B, WriteOutcome>) {
          os << "intent " << IntentIdText(b.intent_id)
             << (b.ok ? " applied" : " failed");
          if (b.already_applied) os << " (already in place)";
          if (!b.ok) os << ": " << Short(b.message, 80);
        } else if constexpr (std::is_same_v<B, DeleteHold>) {
          os << PrintableText(b.hold_id) << ": " << b.deletes.size()
             << " deletes held";
        } else if constexpr (std::is_same_v<B, ObjectError>) {
          os << ValueText(b.dn.empty() ? b.id : b.dn) << ": "
             << Short(b.message, 80);
        }
      },
      e.body);
  if (d) {
    os << "  -> " << OutcomeName(d->outcome);
    if (!d->intents.empty()) os << " [" << d->intents.size() << " intents]";
  }
  return os.str();
}

std::string EventBlock(const Event& e, const Decision* d) {
  std::string out = EventLine(e, d) + "\n";
  if (const auto* c = std::get_if<ObservedChange>(&e.body)) {
    out += "    " + std::string(SideName(c->side)) + " said (" +
           PrintableText(c->source) + ", id " + ValueText(c->id) + "):\n";
    out += AttrsText(c->attrs, "      ");
    if (!c->value_adds.empty()) out += AttrsText(c->value_adds, "      + ");
    if (!c->value_deletes.empty())
      out += AttrsText(c->value_deletes, "      - ");
  }
  if (const auto* h = std::get_if<DeleteHold>(&e.body)) {
    out += "    " + PrintableText(h->reason) + "\n";
    for (const auto& r : h->deletes)
      out += "      delete " + ValueText(r.dn.empty() ? r.id : r.dn) + "\n";
  }
  if (d) {
    out += "    rule " + PrintableText(d->rule) + ": " + ValueText(d->reason) +
           "\n";
    if (!d->link_ldap_id.empty())
      out += "    linked " + ValueText(d->link_ldap_id) + " <-> " +
             ValueText(d->link_mail_id) + "\n";
    if (!d->conflict_fields.empty()) {
      out += "    conflict on";
      for (const auto& f : d->conflict_fields) out += " " + PrintableText(f);
      out += d->outcome == Outcome::kConflictResolved
                 ? ", " + std::string(SideName(d->winner)) + " wins\n"
                 : ", open: no side wins\n";
    }
    for (const Intent& i : d->intents) out += "    " + IntentText(i);
  }
  return out;
}

}  // namespace dirledger::cli

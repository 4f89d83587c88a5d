#include "replay/decision_text.h"

namespace dirledger {
namespace {

// Length of the valid UTF-8 sequence starting at s[i] (0 if invalid).
size_t Utf8Length(std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  size_t n = 0;
  if (c >= 0xc2 && c <= 0xdf)
    n = 2;
  else if (c >= 0xe0 && c <= 0xef)
    n = 3;
  else if (c >= 0xf0 && c <= 0xf4)
    n = 4;
  else
    return 0;
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return 0;
  return n;
}

void AppendList(std::string* out, const std::vector<std::string>& v) {
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) *out += ", ";
    *out += ValueText(v[i]);
  }
}

struct BodyText {
  std::string operator()(const ObservedChange& c) const {
    std::string out = "change " + std::string(SideName(c.side)) + " " +
                      std::string(KindName(c.kind)) + " " +
                      std::string(ChangeOpName(c.op)) + " ";
    out += ValueText(c.side == Side::kLdap && !c.dn.empty() ? c.dn : c.id);
    if (c.side == Side::kLdap) out += " id=" + ValueText(c.id);
    out += " domain=" + ValueText(c.domain);
    if (!c.connector.empty()) out += " connector=" + ValueText(c.connector);
    out += " source=" + ValueText(c.source);
    if (c.origin_intent) out += " origin=" + IntentName(c.origin_intent);
    if (c.op != ChangeOp::kDelete) {
      out += c.full_image ? " full: " : " replace: ";
      out += AttrsText(c.attrs);
    }
    if (!c.value_adds.empty()) out += " add: " + AttrsText(c.value_adds);
    if (!c.value_deletes.empty())
      out += " delete: " + AttrsText(c.value_deletes);
    return out;
  }
  std::string operator()(const CursorAdvance& c) const {
    return "cursor " + ValueText(c.source) + " (" +
           std::to_string(c.cookie.size()) + " bytes)";
  }
  std::string operator()(const RefreshPhase& p) const {
    std::string out = "phase " + ValueText(p.source) + " " +
                      (p.kind == PhaseKind::kBegin ? "begin" : "end");
    if (p.kind == PhaseKind::kEnd)
      out += " entries=" + std::to_string(p.entries) +
             " present=" + std::to_string(p.present) +
             " missing=" + std::to_string(p.missing);
    return out;
  }
  std::string operator()(const ConfigChange& c) const {
    return "config " + ValueText(c.path) + " (" +
           std::to_string(c.text.size()) + " bytes, " +
           std::to_string(c.files.size()) + " files)";
  }
  std::string operator()(const OperatorAction& a) const {
    std::string out = "operator " + std::string(ActionKindName(a.kind));
    if (!a.actor.empty()) out += " by " + ValueText(a.actor);
    if (!a.hold_id.empty()) out += " hold=" + ValueText(a.hold_id);
    if (a.kind == ActionKind::kRollback) {
      out += " to=" + std::to_string(a.to_seq);
      if (!a.side_filter.empty()) out += " side=" + ValueText(a.side_filter);
      if (!a.domain_filter.empty())
        out += " domain=" + ValueText(a.domain_filter);
      out += " targets=" + std::to_string(a.targets.size());
    }
    if (!a.command.empty()) out += ": " + ValueText(a.command);
    return out;
  }
  std::string operator()(const WriteOutcome& w) const {
    std::string out =
        "outcome " + IntentName(w.intent_id) + " " + (w.ok ? "ok" : "failed") +
        " " + std::string(SideName(w.side)) + " " + ValueText(w.target_id);
    if (!w.assigned_id.empty()) out += " assigned=" + ValueText(w.assigned_id);
    if (w.already_applied) out += " already-applied";
    if (!w.message.empty()) out += ": " + ValueText(w.message);
    return out;
  }
  std::string operator()(const DeleteHold& h) const {
    std::string out = "hold " + ValueText(h.hold_id) + " " +
                      std::to_string(h.deletes.size()) + " deletes from " +
                      ValueText(h.source) + ":";
    for (const ObjectRef& r : h.deletes)
      out += " " + std::string(SideName(r.side)) + "/" +
             ValueText(r.dn.empty() ? r.id : r.dn);
    return out;
  }
  std::string operator()(const ObjectError& e) const {
    return "error " + std::string(SideName(e.side)) + " " +
           ValueText(e.dn.empty() ? e.id : e.dn) + " from " +
           ValueText(e.source) + ": " + ValueText(e.message);
  }
};

}  // namespace

std::string ValueText(std::string_view v) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(v.size());
  for (size_t i = 0; i < v.size();) {
    const auto c = static_cast<unsigned char>(v[i]);
    if (c == '\\') {
      out += "\\\\";
      ++i;
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
      ++i;
    } else if (size_t n = c >= 0x80 ? Utf8Length(v, i) : 0; n > 0) {
      out.append(v.substr(i, n));
      i += n;
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
      ++i;
    }
  }
  return out;
}

std::string AttrsText(const AttrList& attrs) {
  if (attrs.empty()) return "-";
  std::string out;
  for (size_t i = 0; i < attrs.size(); ++i) {
    if (i) out += ' ';
    out += ValueText(attrs[i].name);
    out += "=[";
    AppendList(&out, attrs[i].values);
    out += ']';
  }
  return out;
}

std::string IntentText(const Intent& i) {
  std::string out = IntentName(i.id) + " " + std::string(IntentOpName(i.op)) +
                    " " + std::string(SideName(i.target)) + " " +
                    std::string(KindName(i.kind)) + " ";
  if (i.target == Side::kLdap) {
    out += ValueText(i.dn);
    out += " id=" + (i.target_id.empty() ? std::string("(new)")
                                         : ValueText(i.target_id));
  } else {
    out += ValueText(
        i.target_id.empty() || i.op == IntentOp::kRename ? i.dn : i.target_id);
  }
  if (!i.new_dn.empty()) out += " to " + ValueText(i.new_dn);
  if (!i.set.empty()) out += " set " + AttrsText(i.set);
  if (!i.add_values.empty()) out += " add " + AttrsText(i.add_values);
  if (!i.delete_values.empty()) out += " delete " + AttrsText(i.delete_values);
  if (!i.expect.empty()) out += " expect " + AttrsText(i.expect);
  if (i.expected_version)
    out += " version=" + std::to_string(i.expected_version);
  if (!i.source_id.empty()) out += " from=" + ValueText(i.source_id);
  return out;
}

std::string EventText(const Event& e) {
  return "#" + std::to_string(e.seq) + " " + std::visit(BodyText{}, e.body);
}

std::string DecisionText(const Decision& d) {
  std::string out = "#" + std::to_string(d.seq) + " " +
                    std::string(OutcomeName(d.outcome)) + " [" + d.rule + "]\n";
  if (!d.reason.empty()) out += "    " + ValueText(d.reason) + "\n";
  for (const Intent& i : d.intents) out += "    intent " + IntentText(i) + "\n";
  if (!d.link_ldap_id.empty() || !d.link_mail_id.empty())
    out += "    link ldap " + ValueText(d.link_ldap_id) + " <-> mail " +
           ValueText(d.link_mail_id) + "\n";
  if (!d.conflict_fields.empty()) {
    out += "    conflict ";
    AppendList(&out, d.conflict_fields);
    if (d.outcome == Outcome::kConflictResolved)
      out += " winner=" + std::string(SideName(d.winner));
    out += "\n";
  }
  if (!d.object_ids.empty()) {
    out += "    objects: ";
    AppendList(&out, d.object_ids);
    out += "\n";
  }
  return out;
}

}  // namespace dirledger

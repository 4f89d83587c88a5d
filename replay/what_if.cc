#include "replay/what_if.h"

#include <map>
#include <tuple>
#include <variant>

#include "replay/decision_text.h"
#include "replay/field_image.h"
#include "replay/intent_writes.h"

namespace dirledger {

WhatIf::WhatIf(WhatIfOptions options)
    : options_(std::move(options)),
      as_recorded_(ReplayOptions{options_.until, {}, false}),
      what_if_(ReplayOptions{options_.until, options_.overrides, false}) {}

WhatIf::~WhatIf() = default;

bool WhatIf::done() const { return what_if_.done(); }

Status WhatIf::Feed(const Event& event) {
  if (options_.until != 0 && event.seq > options_.until) return Status::Ok();
  DIRLEDGER_RETURN_IF_ERROR(as_recorded_.Feed(event, nullptr));
  DIRLEDGER_RETURN_IF_ERROR(what_if_.Feed(event, nullptr));
  ++report_.events;
  if (a_.Encode(as_recorded_.last_decision()) ==
      b_.Encode(what_if_.last_decision()))
    return Status::Ok();
  const bool own = IsOwnWrite(event, as_recorded_.last_decision());
  // Each kind is kept up to the limit, so echoes never crowd out the rest.
  std::uint64_t& counted =
      own ? report_.own_writes_differing : report_.decisions_differing;
  if (++counted <= options_.keep_decisions)
    report_.decisions.push_back(DecisionDiff{event.seq, EventText(event),
                                             as_recorded_.last_decision(),
                                             what_if_.last_decision(), own});
  return Status::Ok();
}

bool IsOwnWrite(const Event& event, const Decision& recorded) {
  if (std::holds_alternative<WriteOutcome>(event.body)) return true;
  if (const auto* c = std::get_if<ObservedChange>(&event.body))
    return c->origin_intent != 0 || recorded.outcome == Outcome::kEcho;
  return false;
}

std::vector<ObjectState> Foreseen(const InMemoryProjection& projection,
                                  Side side) {
  using Key = std::tuple<ObjectKind, std::string>;
  std::map<Key, ObjectState> out;
  // In memory (InMemoryProjection): its listings cannot fail.
  (void)projection.ForEachObject(side, [&](const ObjectState& o) {
    out[{o.kind, o.id}] = o;
    return true;
  });
  // Pending intents on this side, in id order (a mail rename is seen from
  // its new address, as an add of the object at `dn`).
  (void)projection.ForEachPending([&](const PendingIntent& p) {
    const Intent& i = p.intent;
    if (p.applied || i.target != side) return true;
    std::string id = i.target_id;
    if (id.empty()) {
      if (const std::string_view* found = projection.FindIdByDnRef(side, i.dn))
        id = *found;
      else
        id = "(new) " + i.dn;
    }
    auto it = out.find({i.kind, id});
    switch (i.op) {
      case IntentOp::kDelete:
        if (it != out.end()) out.erase(it);
        break;
      case IntentOp::kAdd: {
        ObjectState& o = out[{i.kind, id}];
        o.side = side;
        o.kind = i.kind;
        o.id = id;
        o.dn = side == Side::kMail ? id : i.dn;
        ApplyWrites(i, &o.attrs);
        break;
      }
      case IntentOp::kRename:
        if (IsMailRename(i)) {
          auto from = out.find({i.kind, i.dn});
          if (from == out.end()) break;
          ObjectState o = std::move(from->second);
          out.erase(from);
          o.id = o.dn = o.address = id;
          ApplyWrites(i, &o.attrs);
          out[{i.kind, id}] = std::move(o);
        } else if (it != out.end()) {
          it->second.dn = i.new_dn;
          ApplyWrites(i, &it->second.attrs);
        }
        break;
      case IntentOp::kModify:
        if (it != out.end()) ApplyWrites(i, &it->second.attrs);
        break;
    }
    return true;
  });
  std::vector<ObjectState> list;
  list.reserve(out.size());
  for (auto& [key, o] : out) list.push_back(std::move(o));
  return list;
}

WhatIfReport WhatIf::Finish() {
  for (Side side : {Side::kLdap, Side::kMail}) {
    std::vector<ObjectState> a = Foreseen(as_recorded_.projection(), side);
    std::vector<ObjectState> b = Foreseen(what_if_.projection(), side);
    size_t i = 0, j = 0;
    auto key = [](const ObjectState& o) { return std::tie(o.kind, o.id); };
    while (i < a.size() || j < b.size()) {
      ValueDiff d;
      d.side = side;
      if (j == b.size() || (i < a.size() && key(a[i]) < key(b[j]))) {
        d.kind = a[i].kind;
        d.id = a[i].id;
        d.dn = a[i].dn;
        d.exists_as_recorded = true;
        d.as_recorded = a[i++].attrs;
      } else if (i == a.size() || key(b[j]) < key(a[i])) {
        d.kind = b[j].kind;
        d.id = b[j].id;
        d.dn = b[j].dn;
        d.exists_what_if = true;
        d.what_if = b[j++].attrs;
      } else {
        const ObjectState& x = a[i++];
        const ObjectState& y = b[j++];
        d.attributes = DiffFields(x.attrs, y.attrs);
        if (x.dn != y.dn) d.attributes.insert(d.attributes.begin(), "(dn)");
        if (d.attributes.empty()) continue;
        d.kind = x.kind;
        d.id = x.id;
        d.dn = y.dn;
        d.exists_as_recorded = d.exists_what_if = true;
        for (const std::string& n : d.attributes) {
          if (const Attribute* v = FindAttr(x.attrs, n))
            d.as_recorded.push_back(*v);
          if (const Attribute* v = FindAttr(y.attrs, n))
            d.what_if.push_back(*v);
        }
      }
      report_.values.push_back(std::move(d));
    }
  }
  return std::move(report_);
}

namespace {

std::string Indent(const std::string& text) {
  std::string out;
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size() - 1;
    out += "    " + text.substr(start, end - start + 1);
    start = end + 1;
  }
  return out;
}

}  // namespace

std::string WhatIfReport::ToText() const {
  std::string out = std::to_string(events) + " events replayed; " +
                    std::to_string(decisions_differing) +
                    " decided differently; " + std::to_string(values.size()) +
                    " objects would end up differently\n";
  if (own_writes_differing > 0)
    out += std::to_string(own_writes_differing) +
           " decisions on dirledger's own writes (their outcomes and echoes) "
           "differ too, as expected when the rules change the writes; not "
           "shown\n";
  std::uint64_t shown = 0;
  for (const DecisionDiff& d : decisions) {
    if (d.own_write) continue;
    ++shown;
    out += "\n" + d.event + "\n";
    out += "  as recorded:\n" + Indent(DecisionText(d.as_recorded));
    out += "  what if:\n" + Indent(DecisionText(d.what_if));
  }
  if (shown < decisions_differing)
    out += "\n(" + std::to_string(decisions_differing - shown) +
           " more differing decisions not shown)\n";
  if (!values.empty()) out += "\n";
  for (const ValueDiff& v : values) {
    out += std::string(SideName(v.side)) + " " + std::string(KindName(v.kind)) +
           " " +
           ValueText(v.side == Side::kLdap && !v.dn.empty() ? v.dn : v.id);
    if (!v.exists_what_if) {
      out += ": would not exist (now " + AttrsText(v.as_recorded) + ")\n";
    } else if (!v.exists_as_recorded) {
      out += ": would exist: " + AttrsText(v.what_if) + "\n";
    } else {
      out += ": " + AttrsText(v.as_recorded) + " -> " + AttrsText(v.what_if) +
             "\n";
    }
  }
  return out;
}

}  // namespace dirledger

#include "replay/rollback_planner.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "replay/decision_text.h"
#include "replay/field_image.h"
#include "replay/rules.h"

namespace dirledger {
namespace {

using Key = std::tuple<ObjectKind, std::string>;

Status Collect(const ObjectLister& lister, Side side,
               const RollbackFilter& filter, std::map<Key, ObjectState>* out) {
  return lister(side, [&](const ObjectState& o) {
    if (filter.domain.empty() || EqualsIgnoreCase(o.domain, filter.domain))
      (*out)[{o.kind, o.id}] = o;
    return true;
  });
}

ObjectTarget TargetOf(const ObjectState& o, bool exists) {
  ObjectTarget t;
  t.side = o.side;
  t.kind = o.kind;
  t.id = o.id;
  t.dn = o.dn;
  t.domain = o.domain;
  t.connector = o.connector;
  t.exists = exists;
  if (exists) t.attrs = o.attrs;
  return t;
}

// An LDAP entry deleted and created again since SEQ has a new stable id
// under the same DN: by id it is one add (the old id) and one delete (the
// new id) of the same DN, which would delete the entry that is there and
// create it once more, or, when the add finds it in place, only delete it.
// It is the same entry: a modify of the one there now (or nothing).
void PairSameDn(RollbackPlan* plan) {
  std::map<std::pair<ObjectKind, std::string>, size_t> deleted;
  for (size_t i = 0; i < plan->objects.size(); ++i) {
    const PlannedObject& p = plan->objects[i];
    if (p.step == RollbackStep::kDelete && p.target.side == Side::kLdap &&
        !p.current_dn.empty())
      deleted[{p.target.kind, NormalizeDn(p.current_dn)}] = i;
  }
  std::vector<bool> drop(plan->objects.size(), false);
  for (PlannedObject& add : plan->objects) {
    if (add.step != RollbackStep::kAdd || add.target.side != Side::kLdap)
      continue;
    auto it = deleted.find({add.target.kind, NormalizeDn(add.target.dn)});
    if (it == deleted.end() || drop[it->second]) continue;
    const size_t di = it->second;
    const PlannedObject& del = plan->objects[di];
    drop[di] = true;
    --plan->adds;
    --plan->deletes;
    PlannedObject m;
    m.target = add.target;
    m.target.id = del.target.id;  // the entry there now
    m.current_dn = del.current_dn;
    m.attributes = DiffFields(add.target.attrs, del.current);
    for (const std::string& n : m.attributes)
      if (const Attribute* v = FindAttr(del.current, n))
        m.current.push_back(*v);
    if (m.attributes.empty()) {
      drop[&add - plan->objects.data()] = true;
      continue;
    }
    m.step = RollbackStep::kModify;
    ++plan->modifies;
    add = std::move(m);
  }
  std::vector<PlannedObject> kept;
  for (size_t i = 0; i < plan->objects.size(); ++i)
    if (!drop[i]) kept.push_back(std::move(plan->objects[i]));
  plan->objects = std::move(kept);
}

// " attr [now] -> [then]" for each attribute a modify or rename back
// changes (" dn A -> B" for an entry's move).
std::string ChangesText(const PlannedObject& p) {
  std::string out;
  for (const std::string& n : p.attributes) {
    if (n == "(dn)") {
      out += " dn " + ValueText(p.current_dn) + " -> " + ValueText(p.target.dn);
      continue;
    }
    std::string from = "[]", to = "[]";
    if (const Attribute* v = FindAttr(p.current, n))
      from = AttrsText({*v}).substr(v->name.size() + 1);
    if (const Attribute* v = FindAttr(p.target.attrs, n))
      to = AttrsText({*v}).substr(v->name.size() + 1);
    out += " " + ValueText(n) + " " + from + " -> " + to;
  }
  return out;
}

// A mail object that dirledger renamed since SEQ from an address to add is
// that object: it is renamed back, with the values it had then, instead of
// deleted. Where another object had its address at SEQ (deleted since, and
// the renamed object took the address), that one is added again, after
// the rename back frees the address, instead of modified (or left alone,
// its values being the renamed object's).
void PairRenamed(const RollbackFilter& filter,
                 const std::map<Key, ObjectState>& mail_then,
                 const std::map<Key, ObjectState>& mail_now,
                 RollbackPlan* plan) {
  if (!filter.renamed_from) return;
  std::map<Key, size_t> added, planned;
  for (size_t i = 0; i < plan->objects.size(); ++i) {
    const PlannedObject& p = plan->objects[i];
    if (p.target.side != Side::kMail) continue;
    planned[{p.target.kind, p.target.id}] = i;
    if (p.step == RollbackStep::kAdd)
      added[{p.target.kind, AsciiLower(p.target.id)}] = i;
  }
  std::vector<bool> drop(plan->objects.size(), false);
  std::vector<PlannedObject> again;
  for (const auto& [key, now] : mail_now) {
    const std::string from = filter.renamed_from(Side::kMail, now.id);
    if (from.empty()) continue;
    auto it = added.find({now.kind, AsciiLower(from)});
    if (it == added.end()) continue;
    auto step = planned.find(key);
    auto was = mail_then.find(key);
    // Neither to delete, nor an address another object had at SEQ.
    if (step == planned.end() && was == mail_then.end()) continue;
    PlannedObject& back = plan->objects[it->second];
    added.erase(it);
    back.step = RollbackStep::kRename;
    back.target.renamed_from = now.id;
    back.current_dn = now.id;
    back.attributes = DiffFields(back.target.attrs, now.attrs);
    for (const std::string& n : back.attributes)
      if (const Attribute* v = FindAttr(now.attrs, n))
        back.current.push_back(*v);
    --plan->adds;
    ++plan->renames;
    if (was == mail_then.end()) {  // to delete: the rename is its end
      drop[step->second] = true;
      --plan->deletes;
      continue;
    }
    PlannedObject add;
    add.step = RollbackStep::kAdd;
    add.target = TargetOf(was->second, true);
    ++plan->adds;
    if (step == planned.end()) {
      again.push_back(std::move(add));
    } else {
      --plan->modifies;
      plan->objects[step->second] = std::move(add);
    }
  }
  std::vector<PlannedObject> kept;
  for (size_t i = 0; i < plan->objects.size(); ++i)
    if (!drop[i]) kept.push_back(std::move(plan->objects[i]));
  for (PlannedObject& p : again) kept.push_back(std::move(p));
  // In the plan's order: LDAP before mail, each by kind, id.
  std::stable_sort(kept.begin(), kept.end(),
                   [](const PlannedObject& x, const PlannedObject& y) {
                     return std::tie(x.target.side, x.target.kind,
                                     x.target.id) <
                            std::tie(y.target.side, y.target.kind, y.target.id);
                   });
  plan->objects = std::move(kept);
}

}  // namespace

Status CheckRollbackSide(std::string_view side) {
  if (side == "ldap" || side == "mail" || side == "both") return Status::Ok();
  return Status::InvalidArgument("--side " + std::string(side) +
                                 ": allowed values: ldap, mail, both");
}

Result<RollbackPlan> PlanRollback(const ObjectLister& then,
                                  const ObjectLister& now, std::uint64_t to_seq,
                                  const RollbackFilter& filter) {
  DIRLEDGER_RETURN_IF_ERROR(CheckRollbackSide(filter.side));
  RollbackPlan plan;
  plan.to_seq = to_seq;
  plan.filter = filter;
  std::map<Key, ObjectState> mail_then, mail_now;  // for PairRenamed
  for (Side side : {Side::kLdap, Side::kMail}) {
    if (filter.side != "both" && filter.side != SideName(side)) continue;
    std::map<Key, ObjectState> a, b;
    DIRLEDGER_RETURN_IF_ERROR(Collect(then, side, filter, &a));
    DIRLEDGER_RETURN_IF_ERROR(Collect(now, side, filter, &b));
    auto ia = a.begin();
    auto ib = b.begin();
    while (ia != a.end() || ib != b.end()) {
      PlannedObject p;
      if (ib == b.end() || (ia != a.end() && ia->first < ib->first)) {
        p.step = RollbackStep::kAdd;
        p.target = TargetOf(ia->second, true);
        ++plan.adds;
        ++ia;
      } else if (ia == a.end() || ib->first < ia->first) {
        p.step = RollbackStep::kDelete;
        p.target = TargetOf(ib->second, false);
        p.current_dn = ib->second.dn;
        p.current = ib->second.attrs;
        ++plan.deletes;
        ++ib;
      } else {
        const ObjectState& x = ia->second;
        const ObjectState& y = ib->second;
        p.attributes = DiffFields(x.attrs, y.attrs);
        const bool moved = side == Side::kLdap && !SameDn(x.dn, y.dn);
        if (moved) p.attributes.insert(p.attributes.begin(), "(dn)");
        ++ia;
        ++ib;
        if (p.attributes.empty()) continue;
        p.step = RollbackStep::kModify;
        p.target = TargetOf(x, true);
        p.current_dn = y.dn;
        for (const std::string& n : p.attributes)
          if (const Attribute* v = FindAttr(y.attrs, n))
            p.current.push_back(*v);
        ++plan.modifies;
      }
      plan.objects.push_back(std::move(p));
    }
    // Kept for PairRenamed: moved, not copied (a whole side's objects).
    if (side == Side::kMail) {
      mail_then = std::move(a);
      mail_now = std::move(b);
    }
  }
  PairSameDn(&plan);
  PairRenamed(filter, mail_then, mail_now, &plan);
  if (filter.created_after) {
    // What is left to delete and was not created after SEQ is kept.
    std::vector<PlannedObject> planned;
    for (PlannedObject& p : plan.objects) {
      if (p.step == RollbackStep::kDelete &&
          !filter.created_after(p.target.side, p.target.id)) {
        --plan.deletes;
        ObjectState o;
        o.side = p.target.side;
        o.kind = p.target.kind;
        o.id = p.target.id;
        o.dn = p.current_dn;
        o.domain = p.target.domain;
        o.connector = p.target.connector;
        o.attrs = std::move(p.current);
        plan.kept.push_back(std::move(o));
        continue;
      }
      planned.push_back(std::move(p));
    }
    plan.objects = std::move(planned);
  }
  return plan;
}

std::vector<ObjectTarget> RollbackPlan::Targets() const {
  std::vector<ObjectTarget> out;
  out.reserve(objects.size());
  for (const PlannedObject& p : objects) out.push_back(p.target);
  return out;
}

OperatorAction RollbackPlan::Action(std::string actor,
                                    std::string command) const {
  OperatorAction a;
  a.kind = ActionKind::kRollback;
  a.actor = std::move(actor);
  a.to_seq = to_seq;
  a.side_filter = filter.side;
  a.domain_filter = filter.domain;
  a.targets = Targets();
  a.command = std::move(command);
  return a;
}

std::string RollbackPlan::ToText() const {
  std::string out;
  for (const PlannedObject& p : objects) {
    const ObjectTarget& t = p.target;
    out += std::string(SideName(t.side)) + " " + std::string(KindName(t.kind)) +
           " " +
           ValueText(t.side == Side::kLdap && !t.dn.empty() ? t.dn : t.id);
    switch (p.step) {
      case RollbackStep::kAdd:
        out += ": add " + AttrsText(t.attrs);
        if (t.side == Side::kLdap) {
          auto type = filter.server_types.find(t.connector);
          const bool ad = type != filter.server_types.end() &&
                          type->second == ServerType::kActiveDirectory;
          out += ad ? " (the whole entry as last stored: its tombstone " +
                          t.id +
                          " is reanimated where the DC allows, else a new "
                          "entry is created)"
                    : " (the whole entry as last stored, asking back its "
                      "entryUUID " +
                          t.id +
                          ": the entry that has it, if moved out of the base, "
                          "is moved back; else a new one where the server "
                          "refuses)";
          if (t.kind == ObjectKind::kAccount)
            out += std::string("; ") + (ad ? "unicodePwd" : "userPassword") +
                   " not restored: secrets are never stored";
        }
        break;
      case RollbackStep::kDelete:
        out += ": delete (now " + AttrsText(p.current) + ")";
        break;
      case RollbackStep::kRename:
        out +=
            ": rename back from " + ValueText(p.current_dn) +
            " (dirledger renamed it since: renamed back, not deleted and made "
            "again)" +
            ChangesText(p);
        break;
      case RollbackStep::kModify:
        out += ": modify" + ChangesText(p);
        break;
    }
    out += "\n";
  }
  for (const ObjectState& o : kept)
    out += std::string(SideName(o.side)) + " " + std::string(KindName(o.kind)) +
           " " +
           ValueText(o.side == Side::kLdap && !o.dn.empty() ? o.dn : o.id) +
           ": kept (first seen after seq " + std::to_string(to_seq) +
           ", when dirledger began to sync it: it was not created after "
           "that point, and its state then is unknown)\n";
  out += "rollback to seq " + std::to_string(to_seq) + ": " +
         std::to_string(adds) + " adds, " + std::to_string(modifies) +
         " changes, " +
         (renames ? std::to_string(renames) + " renamed back, " : "") +
         std::to_string(deletes) + " deletes";
  if (!kept.empty()) out += ", " + std::to_string(kept.size()) + " kept";
  out += "\n";
  return out;
}

}  // namespace dirledger

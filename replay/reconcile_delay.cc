// Deletes that wait (rules 3, service mode): a delete taken with
// delete_delay_s joins its source's window, a HoldState in kWaiting found
// through the wait key "delete-window:" + source. Each waits until its own
// event time plus its delay; when the deletes of the source seen within one
// delay exceed delete_threshold, the whole window becomes one hold (kOpen),
// which later deletes of the burst join. A later change of the same object
// from its source (a re-add: a move out of and back into the base) takes it
// out of the window. A Release event (the run loop, when deletes are due)
// decides each due delete as the delete it was, as an approval would.
//
// Everything here is decided from the event (its time, its recorded delay
// and the source's object count) and the projection: replay decides the
// same.
#include <map>
#include <set>
#include <tuple>

#include "replay/reconcile_internal.h"

namespace dirledger {
namespace {

constexpr std::int64_t kMicros = 1000000;

std::string WindowKey(std::string_view source) {
  return "delete-window:" + std::string(source);
}

// The source's window (or the hold it became), or nullptr; its id in `*id`.
const HoldState* WindowOf(DecisionBuilder& b, Side side,
                          std::string_view source, std::string* id) {
  const std::vector<std::string> ids =
      b.state.WaitingFor(side, WindowKey(source));
  if (ids.empty()) return nullptr;
  *id = ids.front();
  return b.state.Hold(ids.front());
}

ObjectRef RefOf(const ObservedChange& c) {
  return ObjectRef{c.side, c.kind, c.id, c.dn, c.domain, c.remains_at};
}

bool SameObject(const ObjectRef& r, const ObservedChange& c) {
  return r.side == c.side && r.kind == c.kind && r.id == c.id;
}

std::string Seconds(std::uint32_t s) { return std::to_string(s) + " s"; }

}  // namespace

bool DelaysDelete(DecisionBuilder& b, const ObservedChange& c) {
  if (b.rules.config().reconciler_rules < 3) return false;
  if (c.op != ChangeOp::kDelete || c.delete_delay_s == 0) return false;
  const ConnectorRules* cr = b.rules.connector(c.connector);
  if (!cr) return false;
  if (c.side == Side::kLdap && cr->config.ignore_ldap_deletes) return false;
  return b.state.Object(c.side, c.kind, c.id) != nullptr;
}

Verdict DecideDelayedDelete(DecisionBuilder& b, const ObservedChange& c,
                            std::int64_t time_us) {
  b.Id(c.id);
  b.Id(c.dn);
  const std::string subject = Describe(c.side, c.kind, c.id, c.dn);
  const std::int64_t due = time_us + std::int64_t{c.delete_delay_s} * kMicros;
  const std::uint64_t threshold =
      b.rules.connector(c.connector)->DeleteThreshold(c.source_known);
  std::string window_id;
  const HoldState* w = WindowOf(b, c.side, c.source, &window_id);
  if (w) b.Id(window_id);

  // A burst already held: the delete joins the hold while the burst lasts.
  if (w && w->status == HoldStatus::kOpen && time_us < w->until_us) {
    HoldState h = *w;
    bool known = false;
    for (const ObjectRef& r : h.hold.deletes) known |= SameObject(r, c);
    if (!known) h.hold.deletes.push_back(RefOf(c));
    h.until_us = std::max(h.until_us, due);
    const std::size_t n = h.hold.deletes.size();
    b.Put(PutHold{std::move(h)});
    return Verdict{"hold/join", Outcome::kHeld,
                   subject + " deleted: joins hold " + window_id + " (" +
                       std::to_string(n) + " deletes from " + c.source +
                       "), held until approved"};
  }

  HoldState h;
  if (w && w->status == HoldStatus::kWaiting) {
    h = *w;
    for (std::size_t i = 0; i < h.hold.deletes.size(); ++i)
      if (SameObject(h.hold.deletes[i], c))
        return Verdict{"delete/waiting", Outcome::kDelayed,
                       subject + " deleted: its delete waits already (until " +
                           std::to_string(h.due_us[i]) + " us)"};
  } else {
    // A new window; the one before (a hold, or all released) is done with.
    if (w) b.Put(EraseWait{c.side, WindowKey(c.source), window_id});
    window_id = "hold-" + std::to_string(b.seq);
    b.Id(window_id);
    h.hold.hold_id = window_id;
    h.hold.source = c.source;
    h.hold.connector = c.connector;
    h.status = HoldStatus::kWaiting;
    h.seq = b.seq;
    b.Put(PutWait{c.side, WindowKey(c.source), window_id});
  }
  // Counted together: this delete and those of the window seen within one
  // delay before it (all still waiting are held with them).
  std::uint64_t within = 1;
  for (std::int64_t d : h.due_us) within += d > time_us ? 1 : 0;
  h.hold.deletes.push_back(RefOf(c));
  h.due_us.push_back(due);
  h.hold.known = c.source_known;
  if (within > threshold) {
    const std::size_t n = h.hold.deletes.size();
    h.status = HoldStatus::kOpen;
    h.due_us.clear();
    h.until_us = due;
    h.hold.reason = std::to_string(within) + " deletes within " +
                    Seconds(c.delete_delay_s) + " exceed delete_threshold " +
                    std::to_string(threshold) + " (of " +
                    std::to_string(c.source_known) +
                    " known objects); held until approved";
    const std::string reason = h.hold.reason;
    b.Put(PutHold{std::move(h)});
    return Verdict{"hold/open", Outcome::kHeld,
                   "hold " + window_id + ": " + std::to_string(n) +
                       " deletes from " + c.source +
                       " are held until approved (" + reason + ")"};
  }
  h.hold.reason = "deletes waiting for delete_delay_s";
  b.Put(PutHold{std::move(h)});
  return Verdict{"delete/delayed", Outcome::kDelayed,
                 subject + " deleted: the delete waits " +
                     Seconds(c.delete_delay_s) + " (" + std::to_string(within) +
                     " deletes from " + c.source + " within it, threshold " +
                     std::to_string(threshold) + ")"};
}

std::string CancelWaitingDelete(DecisionBuilder& b, const ObservedChange& c) {
  if (b.rules.config().reconciler_rules < 3) return "";
  if (c.op == ChangeOp::kDelete || c.delete_delay_s == 0) return "";
  std::string window_id;
  const HoldState* w = WindowOf(b, c.side, c.source, &window_id);
  if (!w ||
      (w->status != HoldStatus::kWaiting && w->status != HoldStatus::kOpen))
    return "";
  HoldState h = *w;
  const bool waiting = h.status == HoldStatus::kWaiting;
  bool found = false;
  for (std::size_t i = 0; i < h.hold.deletes.size(); ++i) {
    if (!SameObject(h.hold.deletes[i], c)) continue;
    h.hold.deletes.erase(h.hold.deletes.begin() + static_cast<long>(i));
    if (waiting) h.due_us.erase(h.due_us.begin() + static_cast<long>(i));
    found = true;
    break;
  }
  if (!found) return "";
  b.Id(window_id);
  if (waiting && h.hold.deletes.empty()) {
    h.status = HoldStatus::kReleased;
    h.decided_seq = b.seq;
    b.Put(EraseWait{c.side, WindowKey(c.source), window_id});
  }
  b.Put(PutHold{std::move(h)});
  return "its delete " + std::string(waiting ? "waiting in " : "held in ") +
         window_id + " is cancelled";
}

Verdict DecideRelease(DecisionBuilder& b, const OperatorAction& a,
                      std::int64_t time_us) {
  b.Id(a.hold_id);
  const HoldState* w = b.state.Hold(a.hold_id);
  if (!w || w->status != HoldStatus::kWaiting)
    return Verdict{"release/none", Outcome::kRecorded,
                   "no deletes wait in " + a.hold_id};
  HoldState h = *w;
  HoldState left = h;
  left.hold.deletes.clear();
  left.due_us.clear();
  std::set<std::tuple<Side, ObjectKind, std::string>> seen;
  std::map<std::string, int> counts;  // outcome name -> count (ordered)
  std::size_t decided = 0;
  for (std::size_t i = 0; i < h.hold.deletes.size(); ++i) {
    const ObjectRef& r = h.hold.deletes[i];
    if (h.due_us[i] > time_us) {
      left.hold.deletes.push_back(r);
      left.due_us.push_back(h.due_us[i]);
      continue;
    }
    if (!seen.emplace(r.side, r.kind, r.id).second) continue;
    ObservedChange c;
    c.side = r.side;
    c.source = h.hold.source;
    c.connector = h.hold.connector;
    c.domain = r.domain;
    c.kind = r.kind;
    c.id = r.id;
    c.dn = r.dn;
    c.remains_at = r.remains_at;
    c.op = ChangeOp::kDelete;
    Verdict v = DecideChange(b, c);
    ++counts[std::string(OutcomeName(v.outcome))];
    ++decided;
  }
  if (decided == 0)
    return Verdict{"release/none", Outcome::kRecorded,
                   "no deletes of " + a.hold_id + " are due yet"};
  if (left.hold.deletes.empty()) {
    left.status = HoldStatus::kReleased;
    left.decided_seq = b.seq;
    b.Put(EraseWait{h.hold.deletes.front().side, WindowKey(h.hold.source),
                    a.hold_id});
  }
  const std::size_t waiting = left.hold.deletes.size();
  b.Put(PutHold{std::move(left)});
  std::string summary;
  for (const auto& [name, n] : counts) {
    if (!summary.empty()) summary += ", ";
    summary += std::to_string(n) + " " + name;
  }
  return Verdict{"delete/due", Outcome::kReleased,
                 std::to_string(decided) + " deletes of " + a.hold_id +
                     " due, decided (" + summary + "); " +
                     std::to_string(waiting) + " still waiting"};
}

}  // namespace dirledger

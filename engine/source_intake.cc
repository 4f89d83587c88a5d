#include "engine/source_intake.h"

#include <algorithm>
#include <set>

namespace dirledger {
namespace {

bool IsDelete(const EventBody& b) {
  const auto* c = std::get_if<ObservedChange>(&b);
  return c && c->op == ChangeOp::kDelete;
}

ObjectRef RefOf(const ObservedChange& c) {
  return ObjectRef{c.side, c.kind, c.id, c.dn, c.domain, c.remains_at};
}

}  // namespace

SourceIntake::SourceIntake(Intake* intake, std::string source_id, Side side,
                           std::string connector, const std::atomic<bool>* stop,
                           AppendHook hook)
    : intake_(intake),
      source_id_(std::move(source_id)),
      side_(side),
      connector_(std::move(connector)),
      stop_(stop),
      hook_(std::move(hook)) {}

bool SourceIntake::StopRequested() const { return stop_ && stop_->load(); }

Result<std::uint64_t> SourceIntake::KnownCount() {
  std::uint64_t n = 0;
  Status scan;
  intake_->WithProjection([&](const ProjectionStore& p) {
    scan = p.ForEachObjectOfSource(source_id_,
                                   [&](Side, ObjectKind, std::string_view) {
                                     ++n;
                                     return true;
                                   });
  });
  if (!scan.ok())
    return scan.WithContext("counting the known objects of " + source_id_ +
                            " for the delete threshold");
  return n;
}

std::uint64_t SourceIntake::Threshold(std::uint64_t known) const {
  const ConnectorRules* c = intake_->rules().connector(connector_);
  if (!c) return 500;  // the mail side: the documented default
  return c->DeleteThreshold(known);
}

bool SourceIntake::Delays() const {
  return delete_delay_s_ > 0 && !connector_.empty() &&
         intake_->rules().connector(connector_) != nullptr &&
         intake_->rules().config().reconciler_rules >= 3;
}

Status SourceIntake::StampDelay(std::vector<EventBody>* events,
                                const std::vector<std::size_t>* only) {
  std::optional<std::uint64_t> known;
  const std::size_t n = only ? only->size() : events->size();
  for (std::size_t k = 0; k < n; ++k) {
    auto* c = std::get_if<ObservedChange>(&(*events)[only ? (*only)[k] : k]);
    if (!c) continue;
    c->delete_delay_s = delete_delay_s_;
    if (c->op != ChangeOp::kDelete) continue;
    if (!known) {
      const Result<std::uint64_t> n = KnownCount();
      if (!n.ok()) return n.status();
      known = n.value();
    }
    c->source_known = *known;
  }
  return Status::Ok();
}

Status SourceIntake::AppendAndCount(std::vector<EventBody> events,
                                    const std::optional<std::string>& cookie) {
  if (events.empty() && !cookie) return Status::Ok();
  std::uint64_t changes = 0, deletes = 0;
  for (const EventBody& b : events) {
    if (const auto* c = std::get_if<ObservedChange>(&b)) {
      ++changes;
      if (c->op == ChangeOp::kDelete) ++deletes;
    }
  }
  const std::size_t n = events.size();
  AppendResult result;
  std::optional<std::pair<std::string, std::string>> cursor;
  if (cookie) cursor.emplace(source_id_, *cookie);
  DIRLEDGER_RETURN_IF_ERROR(
      intake_->Append(std::move(events), cursor, &result));
  stats_.events += n;
  stats_.changes += changes;
  stats_.deletes += deletes;
  ++stats_.batches;
  if (hook_) hook_(result);
  if (after_append_) return after_append_(result);
  return Status::Ok();
}

Status SourceIntake::Settle(std::vector<EventBody> deletes,
                            std::vector<EventBody> tail,
                            const std::optional<std::string>& cookie,
                            std::string_view why, std::uint64_t counted) {
  // The known objects are counted (a scan of the source's index) only for
  // deletes to weigh against the threshold: an incremental pass without
  // deletes does not read every object's key.
  std::uint64_t known = 0, threshold = 0;
  if (!deletes.empty()) {
    const Result<std::uint64_t> counted_known = KnownCount();
    if (!counted_known.ok()) return counted_known.status();
    known = counted_known.value();
    threshold = Threshold(known);
  }
  if (counted == 0) counted = deletes.size();
  std::vector<EventBody> out;
  if (!deletes.empty() && counted > threshold) {
    DeleteHold hold;  // hold_id is assigned from its sequence by Intake
    hold.source = source_id_;
    hold.connector = connector_;
    hold.known = known;
    hold.reason = std::to_string(counted) + " deletes " + std::string(why) +
                  " exceed delete_threshold " + std::to_string(threshold) +
                  " (of " + std::to_string(known) +
                  " known objects); held until approved";
    for (const EventBody& b : deletes)
      hold.deletes.push_back(RefOf(std::get<ObservedChange>(b)));
    stats_.held += hold.deletes.size();
    out.emplace_back(std::move(hold));
  } else {
    out = std::move(deletes);
    // A poll's deletes wait, counted with those of the polls around it.
    if (Delays() && refresh_mode_ == RefreshMode::kIncremental)
      DIRLEDGER_RETURN_IF_ERROR(StampDelay(&out));
  }
  for (EventBody& b : tail) out.push_back(std::move(b));
  return AppendAndCount(std::move(out), cookie);
}

Status SourceIntake::Deliver(std::vector<EventBody> events,
                             const std::optional<std::string>& cookie) {
  DIRLEDGER_RETURN_IF_ERROR(lookup_error_);
  // Before anything is appended: an error leaves the cursor where it was.
  DIRLEDGER_RETURN_IF_ERROR(PlaceRemains(remains_finder_, &events));
  std::vector<EventBody> pass;
  // Persist-mode deletes stay in `pass`, in the order delivered (a delete
  // and a new add of the same mail address must be decided in that order);
  // these are their indexes.
  std::vector<size_t> persist_deletes;
  // Service mode: the persist-mode changes in `pass`, stamped with the delay.
  std::vector<size_t> persist_changes;
  const bool delays = Delays();
  std::optional<RefreshPhase> ended;
  for (EventBody& b : events) {
    if (const auto* p = std::get_if<RefreshPhase>(&b)) {
      if (p->kind == PhaseKind::kBegin) {
        in_refresh_ = true;
        refresh_mode_ = p->mode;
        pass.push_back(std::move(b));
      } else {
        ended = *p;
      }
      continue;
    }
    const bool persist = !in_refresh_ && !ended;
    if (IsDelete(b)) {
      if (!persist) {
        buffered_deletes_.push_back(std::move(b));
        continue;
      }
      // Service mode: the delete waits, the reconciler counts it.
      if (!delays) persist_deletes.push_back(pass.size());
    }
    // Changes of a poll are stamped too: a re-add cancels a waiting delete.
    if (delays && std::holds_alternative<ObservedChange>(b) &&
        (persist ||
         (in_refresh_ && refresh_mode_ == RefreshMode::kIncremental)))
      persist_changes.push_back(pass.size());
    pass.push_back(std::move(b));
  }
  if (!persist_changes.empty())
    DIRLEDGER_RETURN_IF_ERROR(StampDelay(&pass, &persist_changes));

  if (ended) {
    // The refresh is over: settle its deletes with the final cookie.
    in_refresh_ = false;
    DIRLEDGER_RETURN_IF_ERROR(AppendAndCount(std::move(pass), std::nullopt));
    std::vector<EventBody> tail;
    tail.emplace_back(*ended);
    std::optional<std::string> c = cookie ? cookie : deferred_cookie_;
    deferred_cookie_.reset();
    Status s = Settle(std::exchange(buffered_deletes_, {}), std::move(tail), c,
                      "in one refresh");
    if (s.ok()) CaughtUp();
    return s;
  }
  if (!persist_deletes.empty()) {
    // Persist mode: count deletes over a rolling window.
    const auto now = std::chrono::steady_clock::now();
    while (!recent_deletes_.empty() && now - recent_deletes_.front() > window_)
      recent_deletes_.pop_front();
    const std::uint64_t in_window =
        recent_deletes_.size() + persist_deletes.size();
    const Result<std::uint64_t> known = KnownCount();
    if (!known.ok()) return known.status();
    const std::uint64_t threshold = Threshold(known.value());
    for (size_t i = 0; i < persist_deletes.size(); ++i)
      recent_deletes_.push_back(now);
    if (in_window <= threshold) return AppendAndCount(std::move(pass), cookie);
    // Held: the deletes come out; the rest keeps its order.
    std::vector<EventBody> rest, deletes;
    size_t next = 0;
    for (size_t i = 0; i < pass.size(); ++i) {
      if (next < persist_deletes.size() && persist_deletes[next] == i) {
        deletes.push_back(std::move(pass[i]));
        ++next;
      } else {
        rest.push_back(std::move(pass[i]));
      }
    }
    DIRLEDGER_RETURN_IF_ERROR(AppendAndCount(std::move(rest), std::nullopt));
    return Settle(std::move(deletes), {}, cookie,
                  "within " + std::to_string(window_.count()) + " s",
                  in_window);
  }
  if (in_refresh_ && !buffered_deletes_.empty()) {
    // Keep the cursor back until the buffered deletes are settled.
    if (cookie) deferred_cookie_ = cookie;
    return AppendAndCount(std::move(pass), std::nullopt);
  }
  return AppendAndCount(std::move(pass), cookie);
}

Status SourceIntake::EndPresentPhase(std::vector<std::string> present_ids,
                                     RefreshPhase end,
                                     const std::optional<std::string>& cookie) {
  DIRLEDGER_RETURN_IF_ERROR(lookup_error_);
  std::sort(present_ids.begin(), present_ids.end());
  std::vector<EventBody> deletes = std::exchange(buffered_deletes_, {});
  std::set<std::string> already;
  for (const EventBody& b : deletes)
    already.insert(std::get<ObservedChange>(b).id);
  std::uint64_t known = 0;
  Status scan;
  intake_->WithProjection([&](const ProjectionStore& p) {
    std::vector<std::pair<ObjectKind, std::string>> missing;
    scan = p.ForEachObjectOfSource(
        source_id_, [&](Side side, ObjectKind kind, std::string_view id) {
          if (side != side_) return true;
          ++known;
          if (!std::binary_search(present_ids.begin(), present_ids.end(), id) &&
              !already.count(std::string(id)))
            missing.emplace_back(kind, std::string(id));
          return true;
        });
    for (const auto& [kind, id] : missing) {
      auto o = p.GetObject(side_, kind, id);
      if (!o) continue;
      ObservedChange c;
      c.side = side_;
      c.source = source_id_;
      c.connector = o->connector;
      c.domain = o->domain;
      c.kind = kind;
      c.id = id;
      c.dn = o->dn;
      c.op = ChangeOp::kDelete;
      deletes.emplace_back(std::move(c));
    }
  });
  DIRLEDGER_RETURN_IF_ERROR(scan);
  DIRLEDGER_RETURN_IF_ERROR(PlaceRemains(remains_finder_, &deletes));
  in_refresh_ = false;
  end.kind = PhaseKind::kEnd;
  end.present = present_ids.size();
  end.missing = deletes.size();
  std::vector<EventBody> tail;
  tail.emplace_back(std::move(end));
  std::optional<std::string> c = cookie ? cookie : deferred_cookie_;
  deferred_cookie_.reset();
  Status s =
      Settle(std::move(deletes), std::move(tail), c, "after a present phase");
  if (s.ok()) CaughtUp();
  return s;
}

void SourceIntake::Unavailable(const Status& why) {
  if (unavailable_hook_) unavailable_hook_(why);
}

void SourceIntake::CaughtUp() {
  if (contact_hook_) contact_hook_();
  if (caught_up_) return;
  caught_up_ = true;
  if (caught_up_hook_) caught_up_hook_();
}

Status SourceIntake::ForEachKnown(
    const std::function<bool(ObjectKind, std::string_view, const AttrList&)>&
        fn) {
  // Collect first: the callback may call back into the intake.
  std::vector<ObjectState> objects;
  Status s;
  intake_->WithProjection([&](const ProjectionStore& p) {
    std::vector<std::pair<ObjectKind, std::string>> ids;
    s = p.ForEachObjectOfSource(
        source_id_, [&](Side side, ObjectKind kind, std::string_view id) {
          if (side == side_) ids.emplace_back(kind, id);
          return true;
        });
    for (const auto& [kind, id] : ids)
      if (auto o = p.GetObject(side_, kind, id))
        objects.push_back(std::move(*o));
  });
  DIRLEDGER_RETURN_IF_ERROR(s);
  for (const ObjectState& o : objects)
    if (!fn(o.kind, o.id, o.attrs)) break;
  return Status::Ok();
}

std::optional<ObjectState> SourceIntake::LookupKnown(std::string_view id) {
  std::optional<ObjectState> out;
  intake_->WithProjection([&](const ProjectionStore& p) {
    for (ObjectKind kind : {ObjectKind::kAccount, ObjectKind::kGroup}) {
      Result<std::optional<ObjectState>> o = p.ReadObject(side_, kind, id);
      if (!o.ok()) {
        lookup_error_ = o.status().WithContext("source " + source_id_ +
                                               ": looking up object " +
                                               std::string(id) + " in the log");
        return;
      }
      out = std::move(o).value();
      if (out) return;
    }
  });
  if (!lookup_error_.ok()) return std::nullopt;
  return out;
}

}  // namespace dirledger

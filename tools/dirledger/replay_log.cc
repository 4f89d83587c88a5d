#include "tools/dirledger/replay_log.h"

#include <iostream>

#include "codecs/event_codec.h"
#include "storage/record_read_ahead.h"
#include "tools/dirledger/projection_checkpoints.h"

namespace dirledger::cli {

Status ReplayLog(const EventLog& log, Replayer* replayer, std::uint64_t until,
                 bool progress, const BeforeFeedFn& before) {
  if (until == 0) until = log.last_seq();
  if (replayer->last_seq() >= until) return Status::Ok();
  // The log is read a batch ahead on another thread; the recorded
  // decisions are compared as stored, decoded only when they differ.
  Event event;
  Status fed;
  Status s = ScanRecordsAhead(log, replayer->last_seq() + 1, until,
                              [&](std::uint64_t seq, std::string_view bytes,
                                  const std::string_view* recorded) {
                                fed = DecodeEvent(bytes, seq, &event);
                                if (!fed.ok()) return false;
                                if (before) before(event, recorded);
                                fed = replayer->FeedStored(event, recorded);
                                if (!fed.ok()) return false;
                                if (progress && seq % 100000 == 0)
                                  std::cerr << "replay: " << seq << " of "
                                            << until << " events\n";
                                return true;
                              });
  DIRLEDGER_RETURN_IF_ERROR(s);
  return fed;
}

Status ReplayToRecord(const EventLog& log, const std::string& data_dir,
                      Replayer* replayer, std::uint64_t until,
                      ReplayStart* start, const BeforeFeedFn& before) {
  Result<std::uint64_t> from = std::uint64_t{0};
  SourcePositions positions;
  if (!data_dir.empty())
    from = ResumeFromCheckpoint(log, data_dir, replayer, until, std::cerr,
                                &positions);
  if (!from.ok()) return from.status();
  if (start) {
    start->after = *from;
    start->positions = std::move(positions);
  }
  if (*from)
    std::cerr << "dirledger: starting from the projection checkpoint of record "
              << *from << ", " << until - *from
              << " records to replay after it\n";
  return ReplayLog(log, replayer, until, until - *from >= 100000, before);
}

namespace {

template <typename T, typename Encode>
Status CompareLists(
    const std::string& what,
    const std::function<Status(const std::function<bool(const T&)>&)>& a,
    const std::function<Status(const std::function<bool(const T&)>&)>& b,
    Encode encode, const std::function<std::string(const T&)>& key,
    std::string* where) {
  std::vector<std::pair<std::string, std::string>> left, right;
  DIRLEDGER_RETURN_IF_ERROR(a([&](const T& x) {
    left.emplace_back(key(x), encode(x));
    return true;
  }));
  DIRLEDGER_RETURN_IF_ERROR(b([&](const T& x) {
    right.emplace_back(key(x), encode(x));
    return true;
  }));
  std::sort(left.begin(), left.end());
  std::sort(right.begin(), right.end());
  size_t i = 0, j = 0;
  while (i < left.size() || j < right.size()) {
    if (j == right.size() ||
        (i < left.size() && left[i].first < right[j].first)) {
      *where =
          what + " " + left[i].first + " is missing from the stored projection";
      return Status::Ok();
    }
    if (i == left.size() || right[j].first < left[i].first) {
      *where = what + " " + right[j].first +
               " is in the stored projection but not in the log";
      return Status::Ok();
    }
    if (left[i].second != right[j].second) {
      *where = what + " " + left[i].first + " differs from what the log says";
      return Status::Ok();
    }
    ++i;
    ++j;
  }
  return Status::Ok();
}

}  // namespace

Status CompareProjections(const InMemoryProjection& replayed,
                          const ProjectionStore& stored, std::string* where) {
  where->clear();
  for (Side side : {Side::kLdap, Side::kMail}) {
    DIRLEDGER_RETURN_IF_ERROR(CompareLists<ObjectState>(
        std::string(SideName(side)) + " object",
        [&](auto fn) { return replayed.ForEachObject(side, fn); },
        [&](auto fn) { return stored.ForEachObject(side, fn); },
        EncodeObjectState,
        [](const ObjectState& o) {
          return std::string(KindName(o.kind)) + " " + o.id;
        },
        where));
    if (!where->empty()) return Status::Ok();
  }
  DIRLEDGER_RETURN_IF_ERROR(CompareLists<LinkState>(
      "link", [&](auto fn) { return replayed.ForEachLink(fn); },
      [&](auto fn) { return stored.ForEachLink(fn); }, EncodeLinkState,
      [](const LinkState& l) { return l.ldap_id + " <-> " + l.mail_id; },
      where));
  if (!where->empty()) return Status::Ok();
  DIRLEDGER_RETURN_IF_ERROR(CompareLists<PendingIntent>(
      "pending intent", [&](auto fn) { return replayed.ForEachPending(fn); },
      [&](auto fn) { return stored.ForEachPending(fn); }, EncodePendingIntent,
      [](const PendingIntent& p) { return std::to_string(p.intent.id); },
      where));
  if (!where->empty()) return Status::Ok();
  DIRLEDGER_RETURN_IF_ERROR(CompareLists<ConflictState>(
      "conflict", [&](auto fn) { return replayed.ForEachConflict(fn); },
      [&](auto fn) { return stored.ForEachConflict(fn); }, EncodeConflictState,
      [](const ConflictState& c) { return c.ldap_id; }, where));
  if (!where->empty()) return Status::Ok();
  DIRLEDGER_RETURN_IF_ERROR(CompareLists<HoldState>(
      "hold", [&](auto fn) { return replayed.ForEachHold(fn); },
      [&](auto fn) { return stored.ForEachHold(fn); }, EncodeHoldState,
      [](const HoldState& h) { return h.hold.hold_id; }, where));
  if (!where->empty()) return Status::Ok();
  DIRLEDGER_RETURN_IF_ERROR(CompareLists<DriftState>(
      "drift", [&](auto fn) { return replayed.ForEachDrift(fn); },
      [&](auto fn) { return stored.ForEachDrift(fn); }, EncodeDriftState,
      [](const DriftState& d) { return d.ldap_id; }, where));
  if (!where->empty()) return Status::Ok();
  return CompareLists<FailureState>(
      "failure", [&](auto fn) { return replayed.ForEachFailure(fn); },
      [&](auto fn) { return stored.ForEachFailure(fn); }, EncodeFailureState,
      [](const FailureState& f) { return FailureId(f) + " " + f.object; },
      where);
}

}  // namespace dirledger::cli

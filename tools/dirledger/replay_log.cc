#include "tools/dirledger/replay_log.h"

#include <iostream>
#include <string>

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
  Status s = ScanRecordsAhead(
      log, replayer->last_seq() + 1, until,
      [&](std::uint64_t seq, std::string_view bytes,
          const std::string_view* recorded) {
        fed = DecodeEvent(bytes, seq, &event);
        if (!fed.ok()) return false;
        if (before && !before(event, recorded)) return false;
        fed = replayer->FeedStored(event, recorded);
        if (!fed.ok()) return false;
        // One write per line: `verify` reports beside it from another
        // thread.
        if (progress && seq % 100000 == 0)
          std::cerr << "replay: " + std::to_string(seq) + " of " +
                           std::to_string(until) + " events\n";
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

}  // namespace dirledger::cli

// Feeding a Replayer (replay/replayer.h) from the log, for `verify`,
// `replay`, `export --at` and `rollback`.
#ifndef DIRLEDGER_TOOLS_DIRLEDGER_REPLAY_LOG_H_
#define DIRLEDGER_TOOLS_DIRLEDGER_REPLAY_LOG_H_

#include <functional>
#include <string>
#include <string_view>

#include "replay/appearances.h"
#include "replay/replayer.h"
#include "storage/event_log.h"

namespace dirledger::cli {

// Feeds the events after the replayer's last (from 1 for a new one) up to
// `until` (0: all) with their recorded decisions, the log read ahead on a
// thread of its own (storage/record_read_ahead.h). Reports progress on
// stderr every 100,000 events when `progress`. `before`, when set, sees
// each event, and its recorded decision as stored (nullptr: none), before
// it is fed; it returns false to stop the replay there (OK is returned).
using BeforeFeedFn =
    std::function<bool(const Event&, const std::string_view* recorded)>;
Status ReplayLog(const EventLog& log, Replayer* replayer, std::uint64_t until,
                 bool progress, const BeforeFeedFn& before = {});

// Brings a new replayer (no overrides) to record `until` for a command that
// needs the state as of it (`rollback`, `export --at`): from the newest
// usable projection checkpoint of `data_dir` at or before it
// (tools/dirledger/projection_checkpoints.h), else from the first record.
// Says on stderr which checkpoints it passed over and where it started.
// An empty `data_dir`: from the first record.
// `start` (may be null) gets the record it started after (0: the first)
// and the sources' positions there (replay/appearances.h). `before`, when
// set, sees the events replayed, as ReplayLog's does.
struct ReplayStart {
  std::uint64_t after = 0;
  SourcePositions positions;
};
Status ReplayToRecord(const EventLog& log, const std::string& data_dir,
                      Replayer* replayer, std::uint64_t until,
                      ReplayStart* start = nullptr,
                      const BeforeFeedFn& before = {});

}  // namespace dirledger::cli

#endif  // DIRLEDGER_TOOLS_DIRLEDGER_REPLAY_LOG_H_

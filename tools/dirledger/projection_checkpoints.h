// The projection checkpoints of a data dir (replay/projection_checkpoint.h):
// kept as DATA/checkpoints/projection-SEQ.ckpt, written by `verify` and
// `replay` when the log they replayed from its first record held up (so a
// checkpoint is of a projection every decision of the log was checked to
// make), read by the commands that need the state as of a record
// (`rollback`, `export --at`), which otherwise replay the whole log up to it.
//
// Writing one never touches the log: a file written beside it (a temporary
// name, fsynced, renamed), skipped when the disk is short of room for it and
// a margin for the log. Reading one checks it against the log and this
// program; a checkpoint that fails a check is named with the cause and the
// next older one is tried, then the whole log. `verify` also compares every
// checkpoint it passes with what it derives.
//
// Thread safety: plain functions.
#ifndef DIRLEDGER_TOOLS_DIRLEDGER_PROJECTION_CHECKPOINTS_H_
#define DIRLEDGER_TOOLS_DIRLEDGER_PROJECTION_CHECKPOINTS_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "replay/appearances.h"
#include "replay/replayer.h"
#include "storage/event_log.h"

namespace dirledger::cli {

// How many checkpoints a data dir keeps (the newest).
constexpr std::size_t kKeptCheckpoints = 2;

struct CheckpointFile {
  std::uint64_t seq = 0;
  std::string path;
};

// The checkpoint files of `data_dir`, newest first.
std::vector<CheckpointFile> ListCheckpoints(const std::string& data_dir);

// What a checkpoint's header says this program must write: its version line.
std::string CheckpointWriter();

// Writes `replayer`'s projection as the checkpoint of record
// replayer.last_seq() of `log` (which the replayer fed from the first
// record, with no overrides), then removes all but the newest
// kKeptCheckpoints and any half-written file a killed write left. The path
// written on success; an error names the file and the cause (nothing is
// left of a failed write). Skipped with a Status of kUnavailable when the
// file system lacks the room.
// `positions`: the sources' positions after the events fed
// (replay/appearances.h).
Result<std::string> WriteCheckpoint(const EventLog& log,
                                    const std::string& data_dir,
                                    const Replayer& replayer,
                                    const SourcePositions& positions);

// Starts `replayer` (nothing fed yet, no overrides) from the newest
// checkpoint of `data_dir` at or before `until` (a sequence of `log`) that
// this log and program can use; each one passed over is named on `notes`
// with the cause. The sequence it starts after (0: none usable, the whole
// log is to be fed); `positions` (may be null) gets the checkpoint's source
// positions. Errors: the log's own records cannot be read.
Result<std::uint64_t> ResumeFromCheckpoint(
    const EventLog& log, const std::string& data_dir, Replayer* replayer,
    std::uint64_t until, std::ostream& notes,
    SourcePositions* positions = nullptr);

// Checks the checkpoint `file` against `projection`, the projection as of
// file.seq derived by a replay from the first record, and `positions` the
// sources' positions there: OK when it holds the same; Corruption when it is
// one a reader would use (this log's history, this program) and holds other
// tables; Unavailable naming why a reader would not use it (unreadable,
// damaged, another history or program).
Status CheckCheckpoint(const EventLog& log, const CheckpointFile& file,
                       const InMemoryProjection& projection,
                       const SourcePositions& positions);

}  // namespace dirledger::cli

#endif  // DIRLEDGER_TOOLS_DIRLEDGER_PROJECTION_CHECKPOINTS_H_

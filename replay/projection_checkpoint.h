// A projection checkpoint: the in-memory projection (replay/
// in_memory_projection.h) as of one log record, with what a replay needs to
// go on from there, as one file. Replaying the log's tail after a checkpoint
// gives the projection a replay from the first record gives (a test checks
// it at every record), so commands that need the state as of a record
// (`rollback`, `export --at`) start from the newest checkpoint at or before
// it instead of from the beginning.
//
// A checkpoint is a cache, never evidence: its header names the record it
// reflects and that record's SHA-256, which the reader checks against the
// log (a checkpoint of another log, or of a history since restored away, is
// refused), and the file ends with the SHA-256 of everything before it (a
// torn or damaged file is refused). `verify` replays from the first record
// and compares the checkpoints it passes with what it derives.
//
// The file: "DLPCKPT\n", the format (kCheckpointFormat), the header (the
// source positions as two lists of names), the size of the tables, the tables
// (InMemoryProjection::WriteTables) as one zstd frame, compressed as they
// are written (so the frame need not state its content size), and the
// SHA-256 of all that; integers are 8 bytes, little-endian, strings
// length-prefixed (replay/checkpoint_bytes.h).
//
// Thread safety: plain functions.
#ifndef DIRLEDGER_REPLAY_PROJECTION_CHECKPOINT_H_
#define DIRLEDGER_REPLAY_PROJECTION_CHECKPOINT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "codecs/status.h"
#include "replay/appearances.h"
#include "replay/in_memory_projection.h"

namespace dirledger {

constexpr std::uint64_t kCheckpointFormat = 1;

struct CheckpointHeader {
  std::uint64_t seq = 0;    // the last log record the projection reflects
  std::string record_hash;  // that record's SHA-256 (32 bytes)
  // The ConfigChange record in force at `seq` (0: none yet): a replay that
  // goes on compiles its rules from it.
  std::uint64_t config_seq = 0;
  // The program that wrote it (its version line): a checkpoint is read only
  // by the program that writes the same, since what a projection holds may
  // differ between versions while the decisions do not.
  std::string writer;
  // The sources' positions at `seq` (replay/appearances.h), for a rollback
  // that starts from the checkpoint.
  SourcePositions positions;
};

// The whole file.
std::string EncodeCheckpoint(const CheckpointHeader& header,
                             const InMemoryProjection& projection);

// The header and the uncompressed tables of a checkpoint file. Corruption
// naming the damage: too short, the trailing SHA-256 wrong (a torn or
// altered file), not a checkpoint, another format, the tables not what the
// header says.
Status ReadCheckpoint(std::string_view file, CheckpointHeader* header,
                      std::string* tables);

// ReadCheckpoint's checks of everything but the tables, which are left
// compressed.
Status ReadCheckpointHeader(std::string_view file, CheckpointHeader* header);

// Whether the tables of checkpoint `file` are those `projection` writes
// (InMemoryProjection::WriteTables), byte for byte, compared as they are
// decompressed: neither is ever held whole. *same is false for other bytes
// or a size other than the header's; Corruption for what ReadCheckpoint
// refuses or a frame that does not decompress.
Status CompareCheckpointTables(std::string_view file,
                               const InMemoryProjection& projection,
                               bool* same);

// ReadCheckpoint, then the tables into `projection` (left empty on error).
Status DecodeCheckpoint(std::string_view file, CheckpointHeader* header,
                        InMemoryProjection* projection);

}  // namespace dirledger

#endif  // DIRLEDGER_REPLAY_PROJECTION_CHECKPOINT_H_

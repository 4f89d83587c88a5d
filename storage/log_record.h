// LogRecord: how the log stores an event, and the check of the hash chain
// over the stored events. The log column family maps each sequence (8 bytes,
// big-endian, so keys sort in sequence order) to the event's FlatBuffers
// bytes followed by the SHA-256 of those bytes. The next event's prev_hash
// holds that same digest, and the log head (meta "head") the last one's, so
// a record altered, removed, inserted, reordered or replaced whole breaks its
// own digest, the chain at the next record, or the head. A source's cursor
// is stored beside the chain (column family "cursors") and recorded in it as
// a CursorAdvance event whenever it moves: the checker keeps the last one of
// each source, for the stored cursor to be compared with.
//
// Thread safety: plain functions; a ChainChecker is one thread's.
#ifndef DIRLEDGER_STORAGE_LOG_RECORD_H_
#define DIRLEDGER_STORAGE_LOG_RECORD_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "codecs/event.h"
#include "codecs/sha256.h"
#include "codecs/status.h"
#include "storage/event_log.h"

namespace dirledger {

// The source an event came from ("" for none): the one whose status record
// (SourceStatus) counts it.
std::string_view SourceOf(const EventBody& body);

// What a log checks before it appends `event`, with `decision` (may be
// null), as sequence `next_seq` (LogTransaction::Add): InvalidArgument
// naming the mismatch.
Status CheckAppend(std::uint64_t next_seq, const Event& event,
                   const Decision* decision);

// A transaction's counts per source: `event` counted for its source, if it
// has one (events, last sequence, its time).
using SourceCounts = std::map<std::string, SourceStatus, std::less<>>;
void CountForSource(const Event& event, SourceCounts* counts);
// A source's status record with a transaction's counts for it folded in.
void FoldSourceCounts(const SourceStatus& counts, SourceStatus* status);

// The event bytes of the stored `value` of record `seq`, checked against the
// digest stored after them (returned in `*digest` when given). Corruption
// naming the record when the value is too short or the digest differs.
Status CheckedPayload(std::string_view value, std::uint64_t seq,
                      std::string_view* payload, std::string* digest);

// Verifies a log record by record, in key order, from sequence 1.
class ChainChecker {
 public:
  // The next stored record. A Corruption says what is wrong (a key that is
  // no sequence, a record missing or out of order, a digest or a chain link
  // that does not hold); first_bad_seq() then names the record to look at.
  Status Next(std::string_view key, std::string_view value);
  // After the last record: the head (last sequence, digest) must name it.
  Status Finish(std::uint64_t head_seq, std::string_view head_digest);

  std::uint64_t records() const { return records_; }
  std::uint64_t first_bad_seq() const { return first_bad_seq_; }
  // The last record's digest (hex); all zeros before the first.
  std::string head_hash_hex() const;

  // The last cursor each source recorded (CursorAdvance), by source.
  struct RecordedCursor {
    std::string cookie;
    std::uint64_t seq = 0;
  };
  const std::map<std::string, RecordedCursor, std::less<>>& cursors() const {
    return cursors_;
  }

 private:
  Status Bad(std::uint64_t seq, std::string message);

  std::string prev_digest_ = std::string(kSha256Size, '\0');
  std::uint64_t expect_ = 1;
  std::uint64_t records_ = 0;
  std::uint64_t first_bad_seq_ = 0;
  std::map<std::string, RecordedCursor, std::less<>> cursors_;
};

// The stored cursors (source -> cookie) against the last ones `chain` saw
// recorded, after the chain was walked: counts them, and lists the sources
// no CursorAdvance records, in `report`; a Corruption naming the record
// (report->first_bad_seq) for a cursor that was edited or removed.
Status CheckStoredCursors(
    const ChainChecker& chain,
    const std::map<std::string, std::string, std::less<>>& stored,
    ChainReport* report);

}  // namespace dirledger

#endif  // DIRLEDGER_STORAGE_LOG_RECORD_H_

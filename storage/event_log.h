// EventLog: the contract of dirledger's append-only, hash-chained log of
// events and their decisions, with the sources' cursors, the projection the
// decisions build (codecs/projection_store.h), an index of the events each
// object appears in, and the config history.
//
// All writes go through a LogTransaction: events, their decisions, cursor
// advances and projection changes are committed at once, so after a crash a
// source resumes from exactly the cursor stored with the last events it
// delivered. Sequence numbers are dense and start at 1. Every record read
// back is verified; damage is a Corruption status naming the sequence.
//
// A bulk writer may hand a transaction to the log's committer
// (EventLog::Submit) and decide the next one while it is written.
//
// Implementations: RocksEventLog (storage/rocks_event_log.h), one RocksDB
// database per data dir, and MemoryEventLog (storage/memory_event_log.h).
//
// Thread safety: one writer at a time (Begin() fails while a transaction is
// open); readers may run concurrently with the writer.
#ifndef DIRLEDGER_STORAGE_EVENT_LOG_H_
#define DIRLEDGER_STORAGE_EVENT_LOG_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "codecs/event.h"
#include "codecs/projection_store.h"
#include "codecs/status.h"

namespace dirledger {

// Wall clock for event timestamps; injected so tests control time.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::int64_t NowMicros() = 0;
};
Clock* SystemClock();

struct LogOptions {
  bool create_if_missing = true;
  bool read_only = false;
  // With read_only: follow a log another process may be writing (a RocksDB
  // secondary instance, which keeps its own small files in this directory);
  // CatchUp() then sees what was appended since.
  std::string follow_dir;
  bool sync = true;  // fsync the WAL on every commit
  // DatabaseSpec::settle_compactions_at_close: false for the service.
  bool settle_compactions_at_close = true;
  std::size_t block_cache_mb = 64;
  Clock* clock = nullptr;  // nullptr = SystemClock()
  // Tests: called on the committer thread before it writes a submitted
  // transaction (EventLog::Submit), to hold the write in flight.
  std::function<void()> before_submitted_write;
  // Tests: a stored read fault. Called before each read of a cursor
  // ("cursor <source>"), each scan of a stored projection family
  // ("projection scan") and each point read of the committed projection
  // ("projection read"); a status it returns that is not OK is that read's.
  std::function<Status(std::string_view what)> read_fault;
};

constexpr std::uint32_t kLogFormatVersion = 1;

// Operational status of one source, kept in `meta` (not part of the hash
// chain): how many events it delivered and when, and its last contact and
// error. `dirledger status` shows it.
struct SourceStatus {
  std::string source;
  std::uint64_t events = 0;
  std::uint64_t last_seq = 0;
  std::int64_t last_event_us = 0;
  std::int64_t last_contact_us = 0;  // last successful pass or message
  std::string last_error;
  std::int64_t last_error_us = 0;
};

// One atomic append. Reads through projection() see this transaction's own
// writes. Nothing is visible to others, nor durable, until Commit().
class LogTransaction {
 public:
  virtual ~LogTransaction() = default;
  LogTransaction(const LogTransaction&) = delete;
  LogTransaction& operator=(const LogTransaction&) = delete;

  // The sequence the next Add() will get.
  virtual std::uint64_t NextSeq() const = 0;

  // The log's clock, in microseconds: the time an event stamped now gets.
  virtual std::int64_t NowMicros() const = 0;

  // Appends an event. REQUIRES: event.seq == NextSeq(). Sets the event's
  // time (unless the caller stamped it already, e.g. with NowMicros() before
  // deciding it, so the decision may depend on it) and prev_hash. `decision`
  // (may be null) is stored beside it. The event is indexed (by_object) under
  // every id in `object_ids` and, for an observed change, under the object's
  // stable id.
  virtual Status Add(Event* event, const Decision* decision,
                     const std::vector<std::string>& object_ids = {}) = 0;

  virtual Status PutCursor(std::string_view source,
                           std::string_view cookie) = 0;

  // The projection as of this transaction.
  virtual ProjectionStore& projection() = 0;

  // Events added.
  virtual std::size_t size() const = 0;

  // About how many bytes a commit would write.
  virtual std::size_t bytes() const = 0;

  // Writes everything at once (durably when LogOptions::sync), after the
  // transaction in flight (EventLog::Submit), if any. On failure nothing is
  // written and the transaction cannot be reused.
  virtual Status Commit() = 0;

 protected:
  LogTransaction() = default;
};

// Summary of a chain verification.
struct ChainReport {
  std::uint64_t records = 0;
  std::uint64_t first_bad_seq = 0;  // 0: none
  std::string head_hash;            // hex
  // Stored cursors equal to the last one their source recorded in the chain.
  std::uint64_t cursors_checked = 0;
  // Sources whose stored cursor no CursorAdvance records (stored before
  // cursors were recorded in the chain, and not moved since).
  std::vector<std::string> cursors_unrecorded;
};

// A new installation id: 16 hex digits, random; made with each log.
std::string NewInstallationId();

// The log's contract. Two implementations: RocksEventLog
// (storage/rocks_event_log.h), the one a data dir holds, which Open opens;
// and MemoryEventLog (storage/memory_event_log.h), which keeps everything in
// memory, for tests of the code above the log. A test of the contract runs
// against both (storage/event_log_contract_test.cc).
class EventLog {
 public:
  virtual ~EventLog() = default;
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  // Opens (creating when allowed) the log in `dir`: a RocksEventLog. The dir
  // is created 0700.
  static Result<std::unique_ptr<EventLog>> Open(const std::string& dir,
                                                const LogOptions& options = {});
  // Replaces `data_dir`'s log with a checkpoint (Checkpoint). REQUIRES: not
  // open.
  static Status Restore(const std::string& backup_dir,
                        const std::string& data_dir);

  // The log's clock (LogOptions::clock), in microseconds.
  virtual std::int64_t NowMicros() const = 0;

  // Starts the one transaction allowed at a time (one may be in flight,
  // see Submit): a transaction is open until it is destroyed or submitted,
  // committed or not.
  virtual Result<std::unique_ptr<LogTransaction>> Begin() = 0;

  // Commits `txn` (begun on this log) on the log's committer thread: its
  // batch is completed here and written there while the caller goes on. A
  // transaction begun next reads this one's projection writes as committed
  // and gets the sequences after it. At most one is in flight: Submit first
  // waits for the one before. Nothing is durable until WaitCommitted returns
  // OK. A failed write fails every later Begin, Commit, Submit and
  // WaitCommitted: what was decided after it rests on writes that are not
  // there, and the log must be reopened.
  virtual Status Submit(std::unique_ptr<LogTransaction> txn) = 0;
  // Waits until the submitted transaction, if any, is written; OK, or why
  // a write failed.
  virtual Status WaitCommitted() const = 0;

  // Opened with LogOptions::follow_dir: reads what the writing process has
  // appended since the open or the last CatchUp, and moves last_seq() and
  // head_hash() to it. The projection and the sources' status stay as they
  // were at the open. InvalidArgument otherwise.
  virtual Status CatchUp() = 0;

  // The last durable sequence (a submitted transaction counts once written).
  virtual std::uint64_t last_seq() const = 0;
  virtual std::string head_hash() const = 0;  // 32 bytes; zeros when empty
  // Where the log is kept ("" for one kept in memory).
  virtual const std::string& dir() const = 0;
  // This installation's id (hex), random, made with the log and kept with
  // it; backups carry it. "" for an older log opened read-only.
  virtual const std::string& installation_id() const = 0;

  // Reads one record, verified: its stored bytes (ReadRaw) checked against
  // their digest, then decoded. Corruption naming the record otherwise.
  Status ReadEvent(std::uint64_t seq, Event* out) const;
  virtual Status ReadDecision(std::uint64_t seq, Decision* out) const = 0;
  // Raw stored bytes: the event's encoding followed by its SHA-256 (for
  // verification tools and tests).
  virtual Status ReadRaw(std::uint64_t seq, std::string* out) const = 0;

  // Visits events with seq in [from, to] in order, with their decisions
  // (nullptr when none is stored). Stops at the first damaged record and
  // returns its Corruption status; the callback returns false to stop early.
  // ScanRecords, each record decoded.
  using VisitFn = std::function<bool(const Event&, const Decision*)>;
  Status Scan(std::uint64_t from, std::uint64_t to, const VisitFn& fn) const;

  // The same records undecoded: the event's encoding, checked against the
  // digest stored after it (CheckedPayload), and the decision's stored
  // encoding (nullptr when none is stored), for readers that decode on
  // another thread or compare bytes (`replay`, `verify`). The views are
  // valid during the call only. A missing record in the range is
  // Corruption naming it; the range may end past the last record.
  using RecordFn = std::function<bool(std::uint64_t seq, std::string_view event,
                                      const std::string_view* decision)>;
  virtual Status ScanRecords(std::uint64_t from, std::uint64_t to,
                             const RecordFn& fn) const = 0;

  // Sequences of the events indexed under `id` (case-insensitive), ascending.
  virtual Status SeqsForObject(std::string_view id,
                               std::vector<std::uint64_t>* out) const = 0;

  virtual Status GetCursor(std::string_view source,
                           std::string* cookie) const = 0;

  // The config history: every ConfigChange event's sequence and SHA-256,
  // ascending (written with the event, in the same batch).
  struct ConfigRecord {
    std::uint64_t seq = 0;
    std::string sha256;
  };
  virtual Status ConfigHistory(std::vector<ConfigRecord>* out) const = 0;

  // Source status (see SourceStatus).
  virtual Status GetSourceStatus(std::string_view source,
                                 SourceStatus* out) const = 0;
  virtual Status ForEachSourceStatus(
      const std::function<void(const SourceStatus&)>& fn) const = 0;
  // Records a successful contact, or an error (non-empty `error`), for a
  // source. Written on its own, outside any transaction; a transaction's
  // counts and a contact noted while it is written never overwrite each
  // other.
  virtual Status NoteSourceContact(std::string_view source,
                                   std::string_view error) = 0;
  virtual Status ForEachCursor(
      const std::function<void(std::string_view, std::string_view)>& fn)
      const = 0;

  // A read view of the committed projection.
  virtual const ProjectionStore& projection() const = 0;
  // Runs `fn` with the projection as the next transaction will begin from:
  // the projection writes of the transaction submitted last (Submit) over
  // the committed state, without waiting for its write. REQUIRES: nothing
  // is committed or submitted meanwhile (the caller serializes with the
  // log's writer).
  virtual void ReadTail(
      const std::function<void(const ProjectionStore&)>& fn) const = 0;

  // Walks the whole chain: dense sequences, FlatBuffers verification, each
  // prev_hash against its predecessor, the stored head against the last
  // record; then each stored cursor against the last CursorAdvance of its
  // source. OK with report->first_bad_seq == 0 when intact; otherwise a
  // Corruption status naming the first bad sequence.
  virtual Status VerifyChain(
      ChainReport* report,
      const std::function<void(std::uint64_t)>& progress = {}) const = 0;

  // Checkpoint of the whole log into `backup_dir` (must not exist), which
  // Restore puts back. NotSupported for a log kept in memory.
  virtual Status Checkpoint(const std::string& backup_dir) const = 0;

  // Deletes every projection record (state and links); replaying the log
  // rebuilds them. REQUIRES: no transaction open.
  virtual Status ClearProjection() = 0;

  // Makes what was written durable in the log's own files (used by tests
  // that tamper with them).
  virtual Status Flush() = 0;

  // The derived records, as stored: every key and value of `state`,
  // `links` or `by_object` (DerivedFamily), in key order, read from where
  // the log keeps them (never from a copy kept beside), for `verify`. The
  // callback returns false to stop. REQUIRES: nothing is committed
  // meanwhile (a read-only log is never written).
  enum class DerivedFamily { kState, kLinks, kObjectIndex };
  virtual Status ScanDerivedFamily(DerivedFamily family,
                                   const KvStore::ScanFn& fn) const = 0;
  // The last sequence whose by_object keys were all written, as of Open.
  virtual std::uint64_t index_through() const = 0;

 protected:
  EventLog() = default;
};

}  // namespace dirledger

#endif  // DIRLEDGER_STORAGE_EVENT_LOG_H_

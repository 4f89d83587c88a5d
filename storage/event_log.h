// EventLog: dirledger's append-only, hash-chained log in one RocksDB database
// per data dir, with the column families of docs/event-format.md:
//   log        seq (big-endian u64) -> Event (FlatBuffers) + its SHA-256
//   decisions  seq -> Decision
//   cursors    source id -> cookie
//   state      projection records and indexes (codecs/projection_store.h)
//   links      links between LDAP and mail objects
//   by_object  lower(id) \0 seq -> "" (every event an object appears in;
//              written after the events by an ObjectIndexer)
//   meta       format version, log head (seq + SHA-256 of the last record)
//
// All writes go through a LogTransaction: events, their decisions, cursor
// advances and projection changes are committed in ONE WriteBatch, so after a
// crash a source resumes from exactly the cursor stored with the last events
// it delivered. The object index (by_object) is derived from those and
// written after them on a thread of its own (storage/object_indexer.h).
// Sequence numbers are dense and start at 1. Every record read back is
// verified; damage is a Corruption status naming the sequence.
//
// A bulk writer may hand a transaction to the log's committer thread
// (EventLog::Submit) and decide the next one while it is written.
//
// Thread safety: one writer at a time (Begin() fails while a transaction is
// open); readers may run concurrently with the writer. A data dir can be
// open in one process only (RocksDB's LOCK file); a second open is refused
// with a message naming the dir.
#ifndef DIRLEDGER_STORAGE_EVENT_LOG_H_
#define DIRLEDGER_STORAGE_EVENT_LOG_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "codecs/event.h"
#include "codecs/mutex.h"
#include "codecs/projection_store.h"
#include "codecs/status.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class WriteBatch;
}  // namespace rocksdb

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

class EventLog;
class ChainChecker;
class ObjectIndexer;
class RocksDatabase;

// One atomic append. Reads through projection() see this transaction's own
// writes. Nothing is visible to others, nor durable, until Commit().
class LogTransaction {
 public:
  ~LogTransaction();
  LogTransaction(const LogTransaction&) = delete;
  LogTransaction& operator=(const LogTransaction&) = delete;

  // The sequence the next Add() will get.
  std::uint64_t NextSeq() const { return next_seq_; }

  // The log's clock, in microseconds: the time an event stamped now gets.
  std::int64_t NowMicros() const;

  // Appends an event. REQUIRES: event.seq == NextSeq(). Sets the event's
  // time (unless the caller stamped it already, e.g. with NowMicros() before
  // deciding it, so the decision may depend on it) and prev_hash. `decision`
  // (may be null) is stored beside it. The event is indexed (by_object) under
  // every id in `object_ids` and, for an observed change, under the object's
  // stable id.
  Status Add(Event* event, const Decision* decision,
             const std::vector<std::string>& object_ids = {});

  Status PutCursor(std::string_view source, std::string_view cookie);

  // The projection as of this transaction.
  ProjectionStore& projection() { return *projection_; }

  std::size_t size() const { return added_; }

  std::size_t bytes() const;

  // Writes everything in one WriteBatch (fsync'ed when LogOptions::sync),
  // after the transaction in flight (EventLog::Submit), if any. On failure
  // nothing is written and the transaction cannot be reused.
  Status Commit();

 private:
  friend class EventLog;
  class Kv;
  // `previous`: the transaction in flight (nullptr: none), whose projection
  // writes this one reads as committed.
  LogTransaction(EventLog* log, LogTransaction* previous);
  // Commit's steps, which Submit splits between the caller's thread and the
  // committer's.
  Status Build();        // completes the batch
  void PublishWrites();  // scanned families and the log's tail take it
  // Writes it, with the sources' status records (EventLog::sources_).
  Status WriteBatch();
  Status Finish();  // the durable head moves; the index follows

  EventLog* log_;
  std::unique_ptr<rocksdb::WriteBatch> batch_;  // all but the projection
  std::unique_ptr<Kv> state_kv_;
  std::unique_ptr<Kv> links_kv_;
  std::unique_ptr<ProjectionStore> projection_;
  std::uint64_t next_seq_;
  std::string head_hash_;
  std::size_t added_ = 0;
  bool done_ = false;
  bool released_ = false;  // no longer the open transaction (submitted)
  // Per-source counts of this transaction, folded into the log's source
  // records (and so into meta) when its batch is written.
  std::map<std::string, SourceStatus, std::less<>> source_deltas_;
  // by_object keys of the events added, handed to the indexer at Commit.
  std::vector<std::string> index_keys_;
  // This transaction's writes to the projection's scanned index families
  // (ProjectionStore::kScannedIndexBytes); nullopt: deleted. Folded into
  // the log's copy at Commit.
  std::map<std::string, std::optional<std::string>, std::less<>>
      scanned_writes_;
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

class EventLog {
 public:
  ~EventLog();
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  // Opens (creating when allowed) the log in `dir`. The dir is created 0700.
  static Result<std::unique_ptr<EventLog>> Open(const std::string& dir,
                                                const LogOptions& options = {});

  // The log's clock (LogOptions::clock), in microseconds.
  std::int64_t NowMicros() const { return options_.clock->NowMicros(); }

  // Starts the one transaction allowed at a time (one may be in flight,
  // see Submit).
  Result<std::unique_ptr<LogTransaction>> Begin();

  // Commits `txn` on the log's committer thread: its batch is completed
  // here and written there (WAL, memtables, fsync when LogOptions::sync)
  // while the caller goes on. A transaction begun next reads this one's
  // projection writes as committed and gets the sequences after it. At most
  // one is in flight: Submit first waits for the one before. Nothing is
  // durable until WaitCommitted returns OK. A failed write fails every later
  // Begin, Commit, Submit and WaitCommitted: what was decided after it
  // rests on writes that are not there, and the log must be reopened.
  Status Submit(std::unique_ptr<LogTransaction> txn);
  // Waits until the submitted transaction, if any, is written; OK, or why
  // a write failed.
  Status WaitCommitted() const;

  // Opened with LogOptions::follow_dir: reads what the writing process has
  // appended since the open or the last CatchUp, and moves last_seq() and
  // head_hash() to it. The projection and the sources' status stay as they
  // were at the open. InvalidArgument otherwise.
  Status CatchUp();

  // The last durable sequence (a submitted transaction counts once written).
  std::uint64_t last_seq() const;
  std::string head_hash() const;  // 32 bytes; zeros when empty
  const std::string& dir() const { return dir_; }
  // This installation's id (hex), random, made with the log and kept in
  // `meta`; backups carry it. "" for an older log opened read-only.
  const std::string& installation_id() const { return installation_id_; }

  // Reads one record, verified.
  Status ReadEvent(std::uint64_t seq, Event* out) const;
  Status ReadDecision(std::uint64_t seq, Decision* out) const;
  // Raw stored bytes (for verification tools and tests).
  Status ReadRaw(std::uint64_t seq, std::string* out) const;

  // Visits events with seq in [from, to] in order, with their decisions
  // (nullptr when none is stored). Stops at the first damaged record and
  // returns its Corruption status; the callback returns false to stop early.
  using VisitFn = std::function<bool(const Event&, const Decision*)>;
  Status Scan(std::uint64_t from, std::uint64_t to, const VisitFn& fn) const;

  // Sequences of the events indexed under `id` (case-insensitive), ascending.
  Status SeqsForObject(std::string_view id,
                       std::vector<std::uint64_t>* out) const;

  Status GetCursor(std::string_view source, std::string* cookie) const;

  // The config history kept in `meta`: every ConfigChange event's sequence
  // and SHA-256, ascending (written with the event, in the same batch).
  struct ConfigRecord {
    std::uint64_t seq = 0;
    std::string sha256;
  };
  Status ConfigHistory(std::vector<ConfigRecord>* out) const;

  // Source status (see SourceStatus).
  Status GetSourceStatus(std::string_view source, SourceStatus* out) const;
  Status ForEachSourceStatus(
      const std::function<void(const SourceStatus&)>& fn) const;
  // Records a successful contact, or an error (non-empty `error`), for a
  // source. Written on its own, outside any transaction; a transaction's
  // counts and a contact noted while it is written never overwrite each
  // other (both change the record under sources_mu_).
  Status NoteSourceContact(std::string_view source, std::string_view error)
      EXCLUDES(sources_mu_);
  Status ForEachCursor(
      const std::function<void(std::string_view, std::string_view)>& fn) const;

  // A read view of the committed projection.
  const ProjectionStore& projection() const { return *projection_; }
  // Runs `fn` with the projection as the next transaction will begin from:
  // the projection writes of the transaction submitted last (Submit) over
  // the committed state, without waiting for its write. A scan of a family
  // the log keeps no copy of waits for it. REQUIRES: nothing is committed
  // or submitted meanwhile (the caller serializes with the log's writer).
  void ReadTail(const std::function<void(const ProjectionStore&)>& fn) const;

  // Walks the whole chain: dense sequences, FlatBuffers verification, each
  // prev_hash against its predecessor, the stored head against the last
  // record; then each stored cursor against the last CursorAdvance of its
  // source. OK with report->first_bad_seq == 0 when intact; otherwise a
  // Corruption status naming the first bad sequence.
  Status VerifyChain(
      ChainReport* report,
      const std::function<void(std::uint64_t)>& progress = {}) const;

  // Checkpoint of the whole database into `backup_dir` (must not exist).
  Status Checkpoint(const std::string& backup_dir) const;
  // Replaces `data_dir`'s log with a checkpoint. REQUIRES: not open.
  static Status Restore(const std::string& backup_dir,
                        const std::string& data_dir);

  // Deletes every projection record (state and links); replaying the log
  // rebuilds them. REQUIRES: no transaction open.
  Status ClearProjection();

  // Flushes memtables (used by tests that tamper with files).
  Status Flush();

  // The derived column families, as stored: every key and value of `state`,
  // `links` or `by_object` (DerivedFamily), in key order, read from the
  // database itself (never from a copy kept in memory), for `verify`.
  // The callback returns false to stop. REQUIRES: nothing is committed
  // meanwhile (a read-only log is never written).
  enum class DerivedFamily { kState, kLinks, kObjectIndex };
  Status ScanDerivedFamily(DerivedFamily family,
                           const KvStore::ScanFn& fn) const;
  // The last sequence whose by_object keys were all written, as of Open.
  std::uint64_t index_through() const { return index_through_; }

  // Deletions in one projection family scanned at open that a close covers
  // with a range deletion when the family is left empty (see
  // CoverEmptiedFamilies).
  static constexpr std::uint64_t kCoverDeletions = 10000;

 private:
  friend class LogTransaction;
  EventLog() = default;
  Status Load();
  // Starts the object indexer and indexes what a crash left unindexed.
  Status StartIndexer();
  // The stored cursors against the last ones `chain` saw recorded.
  Status CheckCursors(const ChainChecker& chain, ChainReport* report) const;
  // The sequences the by_object index holds for `id`.
  Status IndexedSeqs(std::string_view id,
                     std::vector<std::uint64_t>* out) const;

  std::string dir_;
  LogOptions options_;
  std::unique_ptr<RocksDatabase> database_;
  rocksdb::DB* db_ = nullptr;  // database_'s
  rocksdb::ColumnFamilyHandle* log_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* decisions_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* cursors_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* state_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* links_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* by_object_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* meta_cf_ = nullptr;

  class ReadKv;
  class TailKv;
  std::unique_ptr<ReadKv> state_read_;
  std::unique_ptr<ReadKv> links_read_;
  std::unique_ptr<ProjectionStore> projection_;

  // The committed keys (and values) of the projection's scanned index
  // families, loaded at Open and kept by Commit: scans of those families
  // are answered from here, never by a RocksDB iterator (whose creation,
  // over every memtable and table file, cost more than the rest of a
  // decision's reads).
  mutable Mutex scanned_mu_;
  std::map<std::string, std::string, std::less<>> scanned_
      GUARDED_BY(scanned_mu_);
  // Keys the commits deleted since the open, by first key byte (the
  // scanned families'; CoverEmptiedFamilies).
  std::map<char, std::uint64_t> scanned_deleted_ GUARDED_BY(scanned_mu_);
  // At close: covers each scanned family the commits deleted at least
  // kCoverDeletions keys of and left empty with one range deletion, and
  // flushes it into a table. Pending intents and waits are written and
  // deleted again as intents complete: a full sync leaves 100,000 deletions
  // of each in the tables until a compaction reaches them, and Load stepped
  // over every one at each open (at 100,000 entries, 0.15 s of every run
  // until then); RocksDB's iterators skip a range deletion in one step.
  // Only when every commit was written (the in-memory copy is then exactly
  // what is stored, so the range holds no live key). The family is flushed
  // then, so that no open replays the range deletion from the write-ahead
  // log (RocksDB skips a family's records older than its last flush): a
  // dirledger before this one would insert it into a memtable wrongly
  // (RecordTypeHint).
  void CoverEmptiedFamilies() EXCLUDES(scanned_mu_, commit_mu_);
  // Visits the copy's entries under `prefix` in key order; the values of a
  // key-only family are read from `values` (a key gone there is skipped).
  Status VisitScanned(std::string_view prefix, const KvStore& values,
                      const KvStore::ScanFn& fn) const EXCLUDES(scanned_mu_);

  // The committer thread of Submit, started on first use. A submitted
  // transaction stays here after it is written, until the next is submitted
  // (one begun meanwhile reads its writes).
  void CommitterLoop() EXCLUDES(commit_mu_);
  // Drops the written transaction kept for readers (a synchronous commit
  // follows it).
  void DropWritten() EXCLUDES(commit_mu_);
  mutable Mutex commit_mu_;
  mutable CondVar commit_cv_{&commit_mu_};
  std::thread committer_ GUARDED_BY(commit_mu_);
  // Shared with readers of the tail (ReadTail), which may outlast it here.
  std::shared_ptr<LogTransaction> in_flight_ GUARDED_BY(commit_mu_);
  bool writing_ GUARDED_BY(commit_mu_) = false;
  bool stop_committer_ GUARDED_BY(commit_mu_) = false;
  Status commit_error_ GUARDED_BY(commit_mu_);

  // Writes the by_object index after the events (read-only: none).
  std::unique_ptr<ObjectIndexer> indexer_;
  std::uint64_t index_through_ = 0;  // the stored watermark, as of Open
  std::string installation_id_;      // set by Open

  mutable Mutex mu_;
  // The emptied batch of the last transaction, for the next.
  std::unique_ptr<rocksdb::WriteBatch> spare_batch_ GUARDED_BY(mu_);
  std::uint64_t last_seq_ GUARDED_BY(mu_) = 0;  // durable
  std::string head_hash_ GUARDED_BY(mu_);       // durable
  // The last sequence and hash handed out: ahead of last_seq_ while a
  // submitted transaction is being written.
  std::uint64_t tail_seq_ GUARDED_BY(mu_) = 0;
  std::string tail_hash_ GUARDED_BY(mu_);
  bool in_transaction_ GUARDED_BY(mu_) = false;

  // Each source's status record (meta "source/<id>"), loaded at Open. Its
  // one owner: every change (a transaction's counts as its batch is
  // written, a contact noted) is made here and stored under this mutex, so
  // no writer stores a record read before another's change.
  Mutex sources_mu_;
  std::map<std::string, SourceStatus, std::less<>> sources_
      GUARDED_BY(sources_mu_);
};

}  // namespace dirledger

#endif  // DIRLEDGER_STORAGE_EVENT_LOG_H_

// RocksEventLog: the EventLog (storage/event_log.h) of a data dir, in one
// RocksDB database with the column families of docs/event-format.md:
//   log        seq (big-endian u64) -> Event (FlatBuffers) + its SHA-256
//   decisions  seq -> Decision
//   cursors    source id -> cookie
//   state      projection records and indexes (codecs/projection_store.h)
//   links      links between LDAP and mail objects
//   by_object  lower(id) \0 seq -> "" (every event an object appears in;
//              written after the events by an ObjectIndexer)
//   meta       format version, log head (seq + SHA-256 of the last record)
//
// A transaction's events, decisions, cursor advances and projection changes
// are one WriteBatch. The object index (by_object) is derived from those and
// written after them on a thread of its own (storage/object_indexer.h).
// Submit hands a transaction to the committer thread (log_transaction.cc).
//
// Thread safety: as EventLog's. A data dir can be open in one process only
// (RocksDB's LOCK file); a second open is refused with a message naming the
// dir.
#ifndef DIRLEDGER_STORAGE_ROCKS_EVENT_LOG_H_
#define DIRLEDGER_STORAGE_ROCKS_EVENT_LOG_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "codecs/mutex.h"
#include "storage/event_log.h"
#include "storage/log_record.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class WriteBatch;
}  // namespace rocksdb

namespace dirledger {

class RocksEventLog;
class ChainChecker;
class ObjectIndexer;
class RocksDatabase;

class RocksLogTransaction final : public LogTransaction {
 public:
  ~RocksLogTransaction() override;

  std::uint64_t NextSeq() const override { return next_seq_; }
  std::int64_t NowMicros() const override;
  Status Add(Event* event, const Decision* decision,
             const std::vector<std::string>& object_ids = {}) override;
  Status PutCursor(std::string_view source, std::string_view cookie) override;
  ProjectionStore& projection() override { return *projection_; }
  std::size_t size() const override { return added_; }
  std::size_t bytes() const override;
  Status Commit() override;

 private:
  friend class RocksEventLog;
  class Kv;
  // `previous`: the transaction in flight (nullptr: none), whose projection
  // writes this one reads as committed.
  RocksLogTransaction(RocksEventLog* log, RocksLogTransaction* previous);
  // Commit's steps, which Submit splits between the caller's thread and the
  // committer's.
  Status Build();        // completes the batch
  void PublishWrites();  // scanned families and the log's tail take it
  // Writes it, with the sources' status records (RocksEventLog::sources_).
  Status WriteBatch();
  Status Finish();  // the durable head moves; the index follows

  RocksEventLog* log_;
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
  SourceCounts source_deltas_;
  // by_object keys of the events added, handed to the indexer at Commit.
  std::vector<std::string> index_keys_;
  // This transaction's writes to the projection's scanned index families
  // (ProjectionStore::kScannedIndexBytes); nullopt: deleted. Folded into
  // the log's copy at Commit.
  KvWrites scanned_writes_;
};

class RocksEventLog final : public EventLog {
 public:
  ~RocksEventLog() override;

  static Result<std::unique_ptr<RocksEventLog>> Open(
      const std::string& dir, const LogOptions& options = {});

  std::int64_t NowMicros() const override {
    return options_.clock->NowMicros();
  }
  Result<std::unique_ptr<LogTransaction>> Begin() override;
  Status Submit(std::unique_ptr<LogTransaction> txn) override;
  Status WaitCommitted() const override;
  Status CatchUp() override;
  std::uint64_t last_seq() const override;
  std::string head_hash() const override;
  const std::string& dir() const override { return dir_; }
  const std::string& installation_id() const override {
    return installation_id_;
  }
  Status ReadDecision(std::uint64_t seq, Decision* out) const override;
  Status ReadRaw(std::uint64_t seq, std::string* out) const override;
  Status ScanRecords(std::uint64_t from, std::uint64_t to,
                     const RecordFn& fn) const override;
  Status SeqsForObject(std::string_view id,
                       std::vector<std::uint64_t>* out) const override;
  Status GetCursor(std::string_view source, std::string* cookie) const override;
  Status ConfigHistory(std::vector<ConfigRecord>* out) const override;
  Status GetSourceStatus(std::string_view source,
                         SourceStatus* out) const override;
  Status ForEachSourceStatus(
      const std::function<void(const SourceStatus&)>& fn) const override;
  // A contact noted and a transaction's counts change the source's record
  // under sources_mu_.
  Status NoteSourceContact(std::string_view source,
                           std::string_view error) override
      EXCLUDES(sources_mu_);
  Status ForEachCursor(
      const std::function<void(std::string_view, std::string_view)>& fn)
      const override;
  const ProjectionStore& projection() const override { return *projection_; }
  // A scan of a family the log keeps no copy of waits for the write in
  // flight.
  void ReadTail(
      const std::function<void(const ProjectionStore&)>& fn) const override;
  Status VerifyChain(
      ChainReport* report,
      const std::function<void(std::uint64_t)>& progress = {}) const override;
  // A RocksDB checkpoint (hard links where it can).
  Status Checkpoint(const std::string& backup_dir) const override;
  Status ClearProjection() override;
  // Flushes the memtables.
  Status Flush() override;
  Status ScanDerivedFamily(DerivedFamily family,
                           const KvStore::ScanFn& fn) const override;
  std::uint64_t index_through() const override { return index_through_; }

  // Deletions in one projection family scanned at open that a close covers
  // with a range deletion when the family is left empty (see
  // CoverEmptiedFamilies).
  static constexpr std::uint64_t kCoverDeletions = 10000;

 private:
  friend class RocksLogTransaction;
  RocksEventLog() = default;
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
  std::shared_ptr<RocksLogTransaction> in_flight_ GUARDED_BY(commit_mu_);
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

#endif  // DIRLEDGER_STORAGE_ROCKS_EVENT_LOG_H_

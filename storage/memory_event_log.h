// MemoryEventLog: an EventLog (storage/event_log.h) kept in memory, for tests
// of the code above the log (the engine's intake, the run loop, readers of
// the log). It keeps the contract RocksEventLog keeps, without files: dense
// sequences; each event encoded, hashed and chained exactly as a data dir
// stores it (ReadRaw gives the same bytes, VerifyChain walks the same
// checks); decisions; cursors; the projection, a ProjectionStore over
// in-memory stores that a transaction reads through (its own writes first);
// the object index; the config history; the sources' status; and
// LogOptions::read_fault, for tests of read errors. Submit writes at once,
// so WaitCommitted never waits. Nothing outlives the object: Checkpoint is
// NotSupported, and a "restart" of the code under test keeps the object.
//
// Thread safety: as EventLog's: one writer, readers beside it.
#ifndef DIRLEDGER_STORAGE_MEMORY_EVENT_LOG_H_
#define DIRLEDGER_STORAGE_MEMORY_EVENT_LOG_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "codecs/kv_store.h"
#include "codecs/mutex.h"
#include "storage/event_log.h"

namespace dirledger {

class MemoryEventLog final : public EventLog {
 public:
  explicit MemoryEventLog(LogOptions options = {});
  ~MemoryEventLog() override;

  std::int64_t NowMicros() const override {
    return options_.clock->NowMicros();
  }
  Result<std::unique_ptr<LogTransaction>> Begin() override;
  Status Submit(std::unique_ptr<LogTransaction> txn) override;
  Status WaitCommitted() const override;
  // InvalidArgument: a log in memory is followed by holding it.
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
  Status NoteSourceContact(std::string_view source,
                           std::string_view error) override;
  Status ForEachCursor(
      const std::function<void(std::string_view, std::string_view)>& fn)
      const override;
  const ProjectionStore& projection() const override { return *projection_; }
  // The committed projection: nothing is ever in flight.
  void ReadTail(
      const std::function<void(const ProjectionStore&)>& fn) const override;
  Status VerifyChain(
      ChainReport* report,
      const std::function<void(std::uint64_t)>& progress = {}) const override;
  Status Checkpoint(const std::string& backup_dir) const override;
  Status ClearProjection() override;
  Status Flush() override;  // nothing to flush: OK
  Status ScanDerivedFamily(DerivedFamily family,
                           const KvStore::ScanFn& fn) const override;
  std::uint64_t index_through() const override;

  // Tests of damage: the stored bytes of record `seq` (an event's encoding
  // and its digest), as an attacker with the files would replace them.
  // NotFound when there is no such record.
  Status ReplaceRawForTest(std::uint64_t seq, std::string raw);

 private:
  class Transaction;
  class CommittedKv;

  Status Apply(Transaction* txn);

  std::string dir_;
  std::string installation_id_;
  LogOptions options_;

  mutable Mutex mu_;
  // Record seq is raw_[seq - 1]: the event's encoding, then its SHA-256.
  std::vector<std::string> raw_ GUARDED_BY(mu_);
  // Encoded decisions, by sequence.
  std::map<std::uint64_t, std::string> decisions_ GUARDED_BY(mu_);
  std::string head_hash_ GUARDED_BY(mu_);
  std::map<std::string, std::string, std::less<>> cursors_ GUARDED_BY(mu_);
  std::vector<ConfigRecord> config_history_ GUARDED_BY(mu_);
  std::map<std::string, SourceStatus, std::less<>> sources_ GUARDED_BY(mu_);
  std::set<std::string, std::less<>> object_index_ GUARDED_BY(mu_);
  MemKvStore state_ GUARDED_BY(mu_);
  MemKvStore links_ GUARDED_BY(mu_);
  bool in_transaction_ GUARDED_BY(mu_) = false;

  // Read views of state_ and links_ (each call under mu_), and the
  // committed projection over them; the transactions' views.
  std::unique_ptr<CommittedKv> state_view_;
  std::unique_ptr<CommittedKv> links_view_;
  std::unique_ptr<CommittedKv> state_txn_view_;
  std::unique_ptr<CommittedKv> links_txn_view_;
  std::unique_ptr<ProjectionStore> projection_;
};

}  // namespace dirledger

#endif  // DIRLEDGER_STORAGE_MEMORY_EVENT_LOG_H_

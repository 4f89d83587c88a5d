// The parts of the log that its files share (rocks_event_log.cc: opening,
// reading, verifying; log_transaction.cc: the write path and its committer):
// the keys of the meta and log column families, and the key-value views the
// projection is read and written through (committed state, a transaction's
// writes over it, and the tail: the transaction in flight over the committed
// state). Internal to storage/.
//
// Thread safety: as EventLog's (a view is used by one thread at a time).
#ifndef DIRLEDGER_STORAGE_LOG_INTERNAL_H_
#define DIRLEDGER_STORAGE_LOG_INTERNAL_H_

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "codecs/kv_store.h"
#include "codecs/projection_store.h"
#include "storage/log_record.h"
#include "storage/rocks_database.h"
#include "storage/rocks_event_log.h"

namespace dirledger {

// meta "head": the last sequence (big-endian u64) and its record's digest.
inline constexpr char kMetaHead[] = "head";
// meta "config/<seq>": the fingerprint of the config recorded at seq.
inline constexpr char kMetaConfigPrefix[] = "config/";
// meta "source/<id>": events, last_seq, last_event_us, last_contact_us,
// last_error_us (big-endian u64 each), then the last error's text.
inline constexpr char kMetaSourcePrefix[] = "source/";

// The key of sequence `seq` in the log and decisions column families.
std::string SeqKey(std::uint64_t seq);
std::string EncodeSourceStatus(const SourceStatus& s);

// The smallest key greater than every key starting with `prefix` ("" when
// there is none: an empty prefix or one of 0xff bytes only).
std::string PrefixEnd(std::string_view prefix);
// Read options for a scan of the keys starting with `prefix`, bounded by
// `*end` (which must outlive the iterator). Without the bound, a seek that
// lands on deleted keys (erased pending intents and waits leave tombstones
// until the next compaction) skips tombstones past the end of the prefix
// until it finds a live key: the cost of every scan grew with every intent
// ever completed.
rocksdb::ReadOptions PrefixReadOptions(std::string_view prefix,
                                       std::string* end,
                                       rocksdb::Slice* end_slice);

// Whether `key` (of the state column family) belongs to a family whose keys
// alone the log keeps in memory (values read by key;
// ProjectionStore::kKeyOnlyIndexBytes).
bool IsKeyOnly(std::string_view key);
// ...or to any family the log keeps in memory
// (ProjectionStore::kScannedIndexBytes, and the key-only ones).
bool IsScanned(std::string_view key);

using ScannedMap = std::map<std::string, std::string, std::less<>>;

// Visits the in-memory `rows` of a scan of `prefix`, in order. Of a key-only
// family only the keys are in memory: each value is read from `store` by its
// key first, and a key erased since the rows were taken is skipped.
Status VisitAll(std::vector<std::pair<std::string, std::string>>* rows,
                std::string_view prefix, const KvStore& store,
                const KvStore::ScanFn& fn);
// Visits the keys starting with `prefix` from `it` (bounded by the prefix).
Status VisitIterator(rocksdb::Iterator* it, std::string_view prefix,
                     const KvStore::ScanFn& fn);

// Committed state, read-only.
class RocksEventLog::ReadKv : public KvStore {
 public:
  // `log` is given for the state column family: scans of its in-memory
  // families are answered from the log's copy. `options`: the log's
  // (LogOptions::read_fault).
  ReadKv(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf,
         const LogOptions* options, const RocksEventLog* log = nullptr)
      : db_(db), cf_(cf), options_(options), log_(log) {}
  Status Get(std::string_view key, std::string* value) const override {
    if (options_->read_fault)
      DIRLEDGER_RETURN_IF_ERROR(options_->read_fault("projection read"));
    rocksdb::PinnableSlice v;
    auto s = db_->Get(rocksdb::ReadOptions(), cf_,
                      rocksdb::Slice(key.data(), key.size()), &v);
    if (s.IsNotFound()) return Status::NotFound("no key");
    if (!s.ok()) return RocksStatus(s, "projection read");
    value->assign(v.data(), v.size());
    return Status::Ok();
  }
  Status Put(std::string_view, std::string_view) override {
    return Status::InvalidArgument("the committed projection is read-only");
  }
  Status Delete(std::string_view) override {
    return Status::InvalidArgument("the committed projection is read-only");
  }
  Status Scan(std::string_view prefix, const ScanFn& fn) const override {
    if (log_ && IsScanned(prefix)) return log_->VisitScanned(prefix, *this, fn);
    if (options_->read_fault)
      DIRLEDGER_RETURN_IF_ERROR(options_->read_fault("projection scan"));
    std::string end;
    rocksdb::Slice end_slice;
    const rocksdb::ReadOptions ro = PrefixReadOptions(prefix, &end, &end_slice);
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf_));
    return VisitIterator(it.get(), prefix, fn);
  }
  Status ScanKeys(std::string_view prefix, const KeyFn& fn) const override {
    if (!log_ || !IsKeyOnly(prefix)) return KvStore::ScanKeys(prefix, fn);
    std::vector<std::pair<std::string, std::string>> rows;
    {
      MutexLock l(&log_->scanned_mu_);
      CollectPrefix(log_->scanned_, prefix, &rows);
    }
    for (const auto& row : rows)
      if (!fn(row.first)) break;
    return Status::Ok();
  }

 private:
  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* cf_;
  const LogOptions* options_;
  const RocksEventLog* log_;
};

// A transaction's view: reads see its own uncommitted writes. Writes are
// kept in a hash map until Commit puts them into the batch in key order;
// values read from the committed state are remembered for the rest of the
// transaction (nobody else writes while it is open), since deciding an
// event reads the same records again and again. Both replaced a
// WriteBatchWithIndex whose lookups and inserts (a skip list comparing keys
// decoded from the batch) cost more than the decisions they served.
class RocksLogTransaction::Kv : public KvStore {
 public:
  // `txn` is given for the state column family: writes to its in-memory
  // families are also noted in the transaction, and scans of them are
  // answered from the log's copy and those notes.
  // `previous`: the same family's view of the transaction in flight
  // (nullptr: none), whose writes count as committed.
  Kv(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, const RocksEventLog* log,
     const Kv* previous, RocksLogTransaction* txn = nullptr)
      : db_(db), cf_(cf), log_(log), previous_(previous), txn_(txn) {}
  Status Get(std::string_view key, std::string* value) const override {
    if (auto w = writes_.find(key); w != writes_.end())
      return Found(w->second, value);
    if (previous_)
      if (const auto* w = previous_->Written(key)) return Found(*w, value);
    // A family the log keeps whole in memory: its copy holds the committed
    // and the submitted writes (Submit publishes them).
    if (txn_ && IsScanned(key) && !IsKeyOnly(key)) {
      MutexLock l(&txn_->log_->scanned_mu_);
      const auto it = txn_->log_->scanned_.find(key);
      if (it == txn_->log_->scanned_.end()) return Status::NotFound("no key");
      *value = it->second;
      return Status::Ok();
    }
    if (auto r = reads_.find(key); r != reads_.end())
      return Found(r->second, value);
    rocksdb::PinnableSlice v;
    auto s = db_->Get(rocksdb::ReadOptions(), cf_,
                      rocksdb::Slice(key.data(), key.size()), &v);
    if (!s.ok() && !s.IsNotFound()) return RocksStatus(s, "projection read");
    std::optional<std::string> got;
    if (s.ok()) got.emplace(v.data(), v.size());
    if (read_bytes_ > kMaxReadBytes) {  // a remembrance, not a copy of the db
      reads_.clear();
      read_bytes_ = 0;
    }
    read_bytes_ += key.size() + (got ? got->size() : 0);
    return Found(reads_.emplace(std::string(key), std::move(got)).first->second,
                 value);
  }
  Status Put(std::string_view key, std::string_view value) override {
    auto [it, added] = writes_.try_emplace(std::string(key));
    if (added) write_bytes_ += key.size() + 3;
    write_bytes_ += value.size();
    it->second.emplace(value);
    if (txn_ && IsScanned(key))
      txn_->scanned_writes_.insert_or_assign(
          std::string(key),
          IsKeyOnly(key) ? std::string() : std::string(value));
    return Status::Ok();
  }
  Status Delete(std::string_view key) override {
    auto [it, added] = writes_.try_emplace(std::string(key));
    if (added) write_bytes_ += key.size() + 3;
    it->second.reset();
    if (txn_ && IsScanned(key))
      txn_->scanned_writes_.insert_or_assign(std::string(key), std::nullopt);
    return Status::Ok();
  }
  Status Scan(std::string_view prefix, const ScanFn& fn) const override {
    if (txn_ && IsScanned(prefix)) {
      // The committed entries merged with this transaction's writes; copied
      // out first: the callback may read the store again.
      KvRows committed;
      {
        MutexLock l(&txn_->log_->scanned_mu_);
        CollectPrefix(txn_->log_->scanned_, prefix, &committed);
      }
      KvRows rows =
          OverlayWrites(std::move(committed), txn_->scanned_writes_, prefix);
      return VisitAll(&rows, prefix, *this, fn);
    }
    // The committed keys merged with this transaction's writes under the
    // prefix (copied and sorted: scans of these families are rare, whole-
    // family walks such as the end of a refresh). The transaction in
    // flight is written first, so that the iterator sees its writes.
    if (previous_) DIRLEDGER_RETURN_IF_ERROR(log_->WaitCommitted());
    // Copies: a callback may write.
    std::vector<std::pair<std::string, std::optional<std::string>>> own;
    for (const auto& [k, v] : writes_)
      if (std::string_view(k).substr(0, prefix.size()) == prefix)
        own.emplace_back(k, v);
    std::sort(own.begin(), own.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string end;
    rocksdb::Slice end_slice;
    const rocksdb::ReadOptions ro = PrefixReadOptions(prefix, &end, &end_slice);
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf_));
    it->Seek(rocksdb::Slice(prefix.data(), prefix.size()));
    std::size_t m = 0;
    for (;;) {
      std::string_view k;
      const bool db_row =
          it->Valid() &&
          (k = std::string_view(it->key().data(), it->key().size()))
                  .substr(0, prefix.size()) == prefix;
      if (!db_row && m == own.size()) break;
      if (m < own.size() && (!db_row || own[m].first <= k)) {
        if (db_row && own[m].first == k) it->Next();  // overwritten
        const auto& [key, value] = own[m++];
        if (value && !fn(key, *value)) break;
        continue;
      }
      if (!fn(k, std::string_view(it->value().data(), it->value().size())))
        break;
      it->Next();
    }
    return RocksStatus(it->status(), "projection scan");
  }

  // Puts the writes into `batch` in key order: each memtable insert then
  // starts near the previous one (with the insert hints of these families).
  Status WriteTo(rocksdb::WriteBatch* batch) const {
    std::vector<const std::pair<const std::string, std::optional<std::string>>*>
        sorted;
    sorted.reserve(writes_.size());
    for (const auto& w : writes_) sorted.push_back(&w);
    std::sort(sorted.begin(), sorted.end(),
              [](const auto* a, const auto* b) { return a->first < b->first; });
    for (const auto* w : sorted) {
      rocksdb::Status s = w->second ? batch->Put(cf_, w->first, *w->second)
                                    : batch->Delete(cf_, w->first);
      DIRLEDGER_RETURN_IF_ERROR(RocksStatus(s, "preparing commit"));
    }
    return Status::Ok();
  }
  std::size_t bytes() const { return write_bytes_; }
  // This transaction's write of `key` (nullopt inside: deleted); nullptr:
  // none.
  const std::optional<std::string>* Written(std::string_view key) const {
    auto w = writes_.find(key);
    return w == writes_.end() ? nullptr : &w->second;
  }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view k) const {
      return std::hash<std::string_view>()(k);
    }
  };
  using Map = std::unordered_map<std::string, std::optional<std::string>, Hash,
                                 std::equal_to<>>;
  static constexpr std::size_t kMaxReadBytes = 64u << 20;

  static Status Found(const std::optional<std::string>& v, std::string* out) {
    if (!v) return Status::NotFound("no key");
    *out = *v;
    return Status::Ok();
  }

  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* cf_;
  const RocksEventLog* log_;
  const Kv* previous_;
  RocksLogTransaction* txn_;
  Map writes_;
  mutable Map reads_;
  std::size_t write_bytes_ = 0;
  mutable std::size_t read_bytes_ = 0;
};

// The tail's view (RocksEventLog::ReadTail): the writes of the transaction
// submitted last over the committed state. Read-only.
class RocksEventLog::TailKv : public KvStore {
 public:
  // `state`: the view is of the state column family, whose scanned
  // families are answered from the log's copy (which holds the submitted
  // writes already: Submit publishes them).
  TailKv(const RocksLogTransaction::Kv* submitted, const ReadKv* committed,
         const RocksEventLog* log, bool state)
      : submitted_(submitted),
        committed_(committed),
        log_(log),
        state_(state) {}
  Status Get(std::string_view key, std::string* value) const override {
    if (const auto* w = submitted_->Written(key)) {
      if (!*w) return Status::NotFound("no key");
      *value = **w;
      return Status::Ok();
    }
    return committed_->Get(key, value);
  }
  Status Put(std::string_view, std::string_view) override {
    return Status::InvalidArgument("the projection's tail is read-only");
  }
  Status Delete(std::string_view) override {
    return Status::InvalidArgument("the projection's tail is read-only");
  }
  Status Scan(std::string_view prefix, const ScanFn& fn) const override {
    if (state_ && IsScanned(prefix))
      return log_->VisitScanned(prefix, *this, fn);
    // A walk of the stored family: once the submitted writes are in it.
    DIRLEDGER_RETURN_IF_ERROR(log_->WaitCommitted());
    return committed_->Scan(prefix, fn);
  }
  Status ScanKeys(std::string_view prefix, const KeyFn& fn) const override {
    if (state_ && IsKeyOnly(prefix)) return committed_->ScanKeys(prefix, fn);
    return KvStore::ScanKeys(prefix, fn);
  }

 private:
  const RocksLogTransaction::Kv* submitted_;
  const ReadKv* committed_;
  const RocksEventLog* log_;
  bool state_;
};

}  // namespace dirledger

#endif  // DIRLEDGER_STORAGE_LOG_INTERNAL_H_

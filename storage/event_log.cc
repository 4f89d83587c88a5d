#include "storage/event_log.h"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/options.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <random>
#include <set>
#include <unordered_map>

#include "codecs/event_codec.h"
#include "codecs/kv_store.h"
#include "codecs/sha256.h"
#include "storage/log_record.h"
#include "storage/object_indexer.h"
#include "storage/rocks_database.h"
#include "storage/rocksdb_logger.h"
#include "storage/rocksdb_write.h"

namespace dirledger {
namespace {

namespace fs = std::filesystem;

constexpr const char* kCfNames[] = {"default", "log",   "decisions", "cursors",
                                    "state",   "links", "by_object", "meta"};
constexpr const char kMetaFormat[] = "format_version";
constexpr const char kMetaHead[] = "head";
// A random id given to the log when it is created: which installation a
// backup comes from (docs/operations.md, "Back up and restore").
constexpr const char kMetaInstallation[] = "installation_id";
// Present once the stored projection holds the alias index (key family
// 'i', rules version 7): a log made before it gets it at its next writable
// open, built from the mail objects stored (EventLog::Load).
constexpr const char kMetaAliasIndex[] = "alias_index";

std::string NewInstallationId() {
  std::random_device rd;
  std::string bytes;
  for (int i = 0; i < 4; ++i) {
    const std::uint32_t v = rd();
    bytes.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  return HexEncode(bytes);
}

constexpr const char kMetaConfigPrefix[] = "config/";
constexpr const char kMetaSourcePrefix[] = "source/";

// meta "source/<id>": events, last_seq, last_event_us, last_contact_us,
// last_error_us (big-endian u64 each), then the last error's text.
std::string EncodeSourceStatus(const SourceStatus& s) {
  std::string out;
  PutBigEndian64(&out, s.events);
  PutBigEndian64(&out, s.last_seq);
  PutBigEndian64(&out, static_cast<std::uint64_t>(s.last_event_us));
  PutBigEndian64(&out, static_cast<std::uint64_t>(s.last_contact_us));
  PutBigEndian64(&out, static_cast<std::uint64_t>(s.last_error_us));
  out += s.last_error;
  return out;
}

bool DecodeSourceStatus(std::string_view source, std::string_view v,
                        SourceStatus* s) {
  if (v.size() < 40) return false;
  s->source = std::string(source);
  s->events = GetBigEndian64(v.substr(0));
  s->last_seq = GetBigEndian64(v.substr(8));
  s->last_event_us = static_cast<std::int64_t>(GetBigEndian64(v.substr(16)));
  s->last_contact_us = static_cast<std::int64_t>(GetBigEndian64(v.substr(24)));
  s->last_error_us = static_cast<std::int64_t>(GetBigEndian64(v.substr(32)));
  s->last_error = std::string(v.substr(40));
  return true;
}

std::string_view SourceOf(const EventBody& body) {
  if (const auto* c = std::get_if<ObservedChange>(&body)) return c->source;
  if (const auto* c = std::get_if<CursorAdvance>(&body)) return c->source;
  if (const auto* c = std::get_if<RefreshPhase>(&body)) return c->source;
  if (const auto* c = std::get_if<DeleteHold>(&body)) return c->source;
  if (const auto* c = std::get_if<ObjectError>(&body)) return c->source;
  return {};
}

class RealClock : public Clock {
 public:
  std::int64_t NowMicros() override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

std::string SeqKey(std::uint64_t seq) { return BigEndian64(seq); }

// The smallest key greater than every key starting with `prefix` ("" when
// there is none: an empty prefix or one of 0xff bytes only).
std::string PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xff)
    end.pop_back();
  if (!end.empty()) end.back() = static_cast<char>(end.back() + 1);
  return end;
}

// Read options for a scan of the keys starting with `prefix`, bounded by
// `*end` (which must outlive the iterator). Without the bound, a seek that
// lands on deleted keys (erased pending intents and waits leave tombstones
// until the next compaction) skips tombstones past the end of the prefix
// until it finds a live key: the cost of every scan grew with every intent
// ever completed.
rocksdb::ReadOptions PrefixReadOptions(std::string_view prefix,
                                       std::string* end,
                                       rocksdb::Slice* end_slice) {
  rocksdb::ReadOptions ro;
  *end = PrefixEnd(prefix);
  if (!end->empty()) {
    *end_slice = rocksdb::Slice(*end);
    ro.iterate_upper_bound = end_slice;
  }
  return ro;
}

}  // namespace

Clock* SystemClock() {
  static RealClock clock;
  return &clock;
}

// ---- KV views over RocksDB ----------------------------------------------

// Whether `key` (of the state column family) belongs to a family whose keys
// alone the log keeps in memory (values read by key;
// ProjectionStore::kKeyOnlyIndexBytes).
bool IsKeyOnly(std::string_view key) {
  return !key.empty() && ProjectionStore::kKeyOnlyIndexBytes.find(key[0]) !=
                             std::string_view::npos;
}
// ...or to any family the log keeps in memory
// (ProjectionStore::kScannedIndexBytes, and the key-only ones).
bool IsScanned(std::string_view key) {
  return !key.empty() && (ProjectionStore::kScannedIndexBytes.find(key[0]) !=
                              std::string_view::npos ||
                          IsKeyOnly(key));
}

using ScannedMap = std::map<std::string, std::string, std::less<>>;

// The entries of `m` whose key starts with `prefix`, in order.
void CollectPrefix(const ScannedMap& m, std::string_view prefix,
                   std::vector<std::pair<std::string, std::string>>* out) {
  for (auto it = m.lower_bound(prefix);
       it != m.end() &&
       std::string_view(it->first).substr(0, prefix.size()) == prefix;
       ++it)
    out->emplace_back(it->first, it->second);
}

// Visits the in-memory `rows` of a scan of `prefix`, in order. Of a key-only
// family only the keys are in memory: each value is read from `store` by its
// key first, and a key erased since the rows were taken is skipped.
Status VisitAll(std::vector<std::pair<std::string, std::string>>* rows,
                std::string_view prefix, const KvStore& store,
                const KvStore::ScanFn& fn) {
  const bool key_only = IsKeyOnly(prefix);
  for (auto& [k, v] : *rows) {
    if (key_only) {
      Status s = store.Get(k, &v);
      if (s.IsNotFound()) continue;
      DIRLEDGER_RETURN_IF_ERROR(s);
    }
    if (!fn(k, v)) break;
  }
  return Status::Ok();
}

// Visits the keys starting with `prefix` from `it` (bounded by the prefix).
Status VisitIterator(rocksdb::Iterator* it, std::string_view prefix,
                     const KvStore::ScanFn& fn) {
  for (it->Seek(rocksdb::Slice(prefix.data(), prefix.size())); it->Valid();
       it->Next()) {
    std::string_view k(it->key().data(), it->key().size());
    if (k.substr(0, prefix.size()) != prefix) break;
    if (!fn(k, std::string_view(it->value().data(), it->value().size()))) break;
  }
  return RocksStatus(it->status(), "projection scan");
}

// Committed state, read-only.
class EventLog::ReadKv : public KvStore {
 public:
  // `log` is given for the state column family: scans of its in-memory
  // families are answered from the log's copy. `options`: the log's
  // (LogOptions::read_fault).
  ReadKv(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf,
         const LogOptions* options, const EventLog* log = nullptr)
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
  const EventLog* log_;
};

// A transaction's view: reads see its own uncommitted writes. Writes are
// kept in a hash map until Commit puts them into the batch in key order;
// values read from the committed state are remembered for the rest of the
// transaction (nobody else writes while it is open), since deciding an
// event reads the same records again and again. Both replaced a
// WriteBatchWithIndex whose lookups and inserts (a skip list comparing keys
// decoded from the batch) cost more than the decisions they served.
class LogTransaction::Kv : public KvStore {
 public:
  // `txn` is given for the state column family: writes to its in-memory
  // families are also noted in the transaction, and scans of them are
  // answered from the log's copy and those notes.
  // `previous`: the same family's view of the transaction in flight
  // (nullptr: none), whose writes count as committed.
  Kv(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, const EventLog* log,
     const Kv* previous, LogTransaction* txn = nullptr)
      : db_(db), cf_(cf), log_(log), previous_(previous), txn_(txn) {}
  Status Get(std::string_view key, std::string* value) const override {
    if (auto w = writes_.find(key); w != writes_.end())
      return Found(w->second, value);
    if (previous_)
      if (const auto* w = previous_->Written(key)) return Found(*w, value);
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
      std::vector<std::pair<std::string, std::string>> committed, rows;
      {
        MutexLock l(&txn_->log_->scanned_mu_);
        CollectPrefix(txn_->log_->scanned_, prefix, &committed);
      }
      const auto& writes = txn_->scanned_writes_;
      auto c = committed.begin();
      auto w = writes.lower_bound(prefix);
      auto in_prefix = [&](const std::string& k) {
        return std::string_view(k).substr(0, prefix.size()) == prefix;
      };
      while (c != committed.end() ||
             (w != writes.end() && in_prefix(w->first))) {
        const bool take_write = w != writes.end() && in_prefix(w->first) &&
                                (c == committed.end() || w->first <= c->first);
        if (!take_write) {
          rows.push_back(std::move(*c++));
          continue;
        }
        if (c != committed.end() && c->first == w->first) ++c;  // overwritten
        if (w->second) rows.emplace_back(w->first, *w->second);
        ++w;
      }
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
  const EventLog* log_;
  const Kv* previous_;
  LogTransaction* txn_;
  Map writes_;
  mutable Map reads_;
  std::size_t write_bytes_ = 0;
  mutable std::size_t read_bytes_ = 0;
};

// The tail's view (EventLog::ReadTail): the writes of the transaction
// submitted last over the committed state. Read-only.
class EventLog::TailKv : public KvStore {
 public:
  // `state`: the view is of the state column family, whose scanned
  // families are answered from the log's copy (which holds the submitted
  // writes already: Submit publishes them).
  TailKv(const LogTransaction::Kv* submitted, const ReadKv* committed,
         const EventLog* log, bool state)
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
  const LogTransaction::Kv* submitted_;
  const ReadKv* committed_;
  const EventLog* log_;
  bool state_;
};

// ---- LogTransaction -------------------------------------------------------

LogTransaction::LogTransaction(EventLog* log, LogTransaction* previous)
    : log_(log) {
  MutexLock l(&log->mu_);
  // The batch of the previous transaction, emptied, keeps its memory: a
  // refresh appends thousands of batches of about a megabyte each, and
  // growing a fresh one every time (copies, page faults) cost more than
  // writing it.
  batch_ = std::move(log->spare_batch_);
  if (!batch_) batch_ = std::make_unique<rocksdb::WriteBatch>();
  state_kv_ = std::make_unique<Kv>(
      log->db_, log->state_cf_, log,
      previous ? previous->state_kv_.get() : nullptr, this);
  links_kv_ =
      std::make_unique<Kv>(log->db_, log->links_cf_, log,
                           previous ? previous->links_kv_.get() : nullptr);
  projection_ =
      std::make_unique<ProjectionStore>(state_kv_.get(), links_kv_.get());
  next_seq_ = log->tail_seq_ + 1;
  head_hash_ = log->tail_hash_;
}

LogTransaction::~LogTransaction() {
  // Batches that grew very large (a huge hold, a restore) are not kept.
  constexpr std::size_t kKeepBytes = 64u << 20;
  const bool keep = batch_ && batch_->GetDataSize() <= kKeepBytes;
  if (keep) batch_->Clear();
  MutexLock l(&log_->mu_);
  if (keep) log_->spare_batch_ = std::move(batch_);
  if (!released_) log_->in_transaction_ = false;
}

std::size_t LogTransaction::bytes() const {
  std::size_t index = 0;
  if (!done_)
    for (const std::string& k : index_keys_) index += k.size() + 3;
  return batch_->GetDataSize() + state_kv_->bytes() + links_kv_->bytes() +
         index;
}

std::int64_t LogTransaction::NowMicros() const {
  return log_->options_.clock->NowMicros();
}

Status LogTransaction::Add(Event* event, const Decision* decision,
                           const std::vector<std::string>& object_ids) {
  if (done_) return Status::InvalidArgument("transaction already committed");
  if (event->seq != next_seq_)
    return Status::InvalidArgument(
        "event sequence " + std::to_string(event->seq) + " is not the next (" +
        std::to_string(next_seq_) + ")");
  if (decision && decision->seq != event->seq)
    return Status::InvalidArgument(
        "decision for sequence " + std::to_string(decision->seq) +
        " given with event " + std::to_string(event->seq));
  if (event->time_us == 0) event->time_us = log_->options_.clock->NowMicros();
  event->prev_hash = head_hash_;
  thread_local EventEncoder encoder;
  std::string_view payload = encoder.Encode(*event);
  char digest[kSha256Size];
  Sha256(payload, digest);
  const std::string key = SeqKey(event->seq);
  // The stored value is the payload followed by its digest.
  const rocksdb::Slice key_slice(key);
  const rocksdb::Slice value_parts[] = {
      rocksdb::Slice(payload.data(), payload.size()),
      rocksdb::Slice(digest, kSha256Size)};
  DIRLEDGER_RETURN_IF_ERROR(
      RocksStatus(batch_->Put(log_->log_cf_, rocksdb::SliceParts(&key_slice, 1),
                              rocksdb::SliceParts(value_parts, 2)),
                  "log write"));
  if (decision) {
    thread_local DecisionEncoder dec_encoder;
    std::string_view d = dec_encoder.Encode(*decision);
    DIRLEDGER_RETURN_IF_ERROR(
        RocksStatus(batch_->Put(log_->decisions_cf_, key,
                                rocksdb::Slice(d.data(), d.size())),
                    "decision write"));
  }
  // Index every id the caller names, and the changed object's id, once each.
  std::vector<std::string_view> ids(object_ids.begin(), object_ids.end());
  if (const auto* c = std::get_if<ObservedChange>(&event->body))
    ids.push_back(c->id);
  if (const auto* c = std::get_if<ConfigChange>(&event->body)) {
    DIRLEDGER_RETURN_IF_ERROR(RocksStatus(
        batch_->Put(log_->meta_cf_,
                    std::string(kMetaConfigPrefix) + SeqKey(event->seq),
                    c->sha256),
        "config history write"));
  }
  AppendObjectIndexKeys(event->seq, &ids, &index_keys_);
  if (std::string_view source = SourceOf(event->body); !source.empty()) {
    auto it = source_deltas_.find(source);
    if (it == source_deltas_.end())
      it = source_deltas_.emplace(std::string(source), SourceStatus{}).first;
    ++it->second.events;
    it->second.last_seq = event->seq;
    it->second.last_event_us = event->time_us;
  }
  head_hash_.assign(digest, kSha256Size);
  ++next_seq_;
  ++added_;
  return Status::Ok();
}

Status LogTransaction::PutCursor(std::string_view source,
                                 std::string_view cookie) {
  if (done_) return Status::InvalidArgument("transaction already committed");
  return RocksStatus(batch_->Put(log_->cursors_cf_,
                                 rocksdb::Slice(source.data(), source.size()),
                                 rocksdb::Slice(cookie.data(), cookie.size())),
                     "storing the cursor of " + std::string(source));
}

Status LogTransaction::Commit() {
  if (done_) return Status::InvalidArgument("transaction already committed");
  DIRLEDGER_RETURN_IF_ERROR(log_->WaitCommitted());
  DIRLEDGER_RETURN_IF_ERROR(Build());
  DIRLEDGER_RETURN_IF_ERROR(WriteBatch());
  // A later transaction must not read the one before this from memory: this
  // one may have overwritten what it wrote.
  log_->DropWritten();
  PublishWrites();
  return Finish();
}

Status LogTransaction::Build() {
  done_ = true;
  DIRLEDGER_RETURN_IF_ERROR(projection_->status());
  std::string head = BigEndian64(next_seq_ - 1);
  head += head_hash_;
  DIRLEDGER_RETURN_IF_ERROR(RocksStatus(
      batch_->Put(log_->meta_cf_, kMetaHead, head), "preparing the log head"));
  // The sources' status records are added as the batch is written
  // (WriteBatch). The projection's writes last, each family in key order.
  DIRLEDGER_RETURN_IF_ERROR(state_kv_->WriteTo(batch_.get()));
  return links_kv_->WriteTo(batch_.get());
}

void LogTransaction::PublishWrites() {
  {
    MutexLock l(&log_->scanned_mu_);
    for (auto& [key, value] : scanned_writes_) {
      if (value)
        log_->scanned_.insert_or_assign(key, std::move(*value));
      else
        log_->scanned_.erase(key);
    }
  }
  MutexLock l(&log_->mu_);
  log_->tail_seq_ = next_seq_ - 1;
  log_->tail_hash_ = head_hash_;
}

Status LogTransaction::WriteBatch() {
  // The source records change under sources_mu_, held until they are
  // written: a contact noted meanwhile (NoteSourceContact) is made on top of
  // this transaction's counts, never overwritten by them.
  MutexLock l(&log_->sources_mu_);
  std::vector<SourceStatus> updated;
  updated.reserve(source_deltas_.size());
  for (const auto& [source, delta] : source_deltas_) {
    SourceStatus s;
    if (auto it = log_->sources_.find(source); it != log_->sources_.end())
      s = it->second;
    s.source = source;
    s.events += delta.events;
    s.last_seq = delta.last_seq;
    s.last_event_us = delta.last_event_us;
    s.last_contact_us = delta.last_event_us;
    DIRLEDGER_RETURN_IF_ERROR(RocksStatus(
        batch_->Put(log_->meta_cf_, std::string(kMetaSourcePrefix) + source,
                    EncodeSourceStatus(s)),
        "preparing the status of source " + source));
    updated.push_back(std::move(s));
  }
  rocksdb::WriteOptions wo;
  wo.sync = log_->options_.sync;
  DIRLEDGER_RETURN_IF_ERROR(
      RocksStatus(WriteToRocksDb(log_->db_, wo, batch_.get()), "log commit"));
  for (SourceStatus& s : updated) {
    std::string source = s.source;
    log_->sources_.insert_or_assign(std::move(source), std::move(s));
  }
  return Status::Ok();
}

Status LogTransaction::Finish() {
  const std::uint64_t first = next_seq_ - added_;
  {
    MutexLock l(&log_->mu_);
    log_->last_seq_ = next_seq_ - 1;
    log_->head_hash_ = head_hash_;
  }
  // The object index follows on its own thread (ObjectIndexer).
  if (added_ == 0) return Status::Ok();
  return log_->indexer_->Enqueue(first, next_seq_ - 1, std::move(index_keys_))
      .WithContext("the events up to " + std::to_string(next_seq_ - 1) +
                   " are committed");
}

// ---- EventLog -------------------------------------------------------------

EventLog::~EventLog() {
  {
    // The committer writes the transaction in flight before it stops.
    MutexLock l(&commit_mu_);
    stop_committer_ = true;
  }
  commit_cv_.SignalAll();
  if (committer_.joinable()) committer_.join();
  in_flight_.reset();
  indexer_.reset();  // writes what it has queued
  projection_.reset();
  state_read_.reset();
  links_read_.reset();
  database_.reset();
}

Result<std::unique_ptr<EventLog>> EventLog::Open(const std::string& dir,
                                                 const LogOptions& options) {
  std::unique_ptr<EventLog> log(new EventLog());
  log->dir_ = dir;
  log->options_ = options;
  if (!log->options_.clock) log->options_.clock = SystemClock();

  rocksdb::Options db_opts;
  db_opts.create_if_missing = options.create_if_missing;
  db_opts.create_missing_column_families = true;
  db_opts.max_background_jobs = 2;
  db_opts.info_log_level = rocksdb::InfoLogLevel::ERROR_LEVEL;
  db_opts.info_log = StderrRocksLogger("log");
  // Memory and WAL bounds. Every column family has its own memtables (up to
  // 4 x 64 MiB each); one budget for all of them flushes the largest when
  // they hold more than kMemtableBudget together. The small, constantly
  // written families (cursors, meta) would otherwise never fill a memtable,
  // so no WAL file could ever be deleted (a 100,000-entry sync left 1.5 GB
  // of WAL, all replayed at the next open): past max_total_wal_size the
  // families holding the oldest WAL file are flushed.
  constexpr std::size_t kMemtableBudget = 64u << 20;
  db_opts.db_write_buffer_size = kMemtableBudget;
  // The object indexer writes beside the committing transactions: with
  // pipelined writes a commit's WAL write goes ahead while an index write's
  // memtable inserts finish, instead of waiting for all of it.
  db_opts.enable_pipelined_write = true;
  db_opts.max_total_wal_size = 2 * kMemtableBudget;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(options.block_cache_mb << 20);
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  rocksdb::ColumnFamilyOptions cf_opts;
  cf_opts.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  cf_opts.compression = rocksdb::kNoCompression;
  cf_opts.max_write_buffer_number = 4;  // absorb refresh bursts without stalls

  // log and decisions are keyed by ascending sequence: a shared insert hint
  // makes each memtable insert land next to the previous one.
  rocksdb::ColumnFamilyOptions seq_opts = cf_opts;
  seq_opts.memtable_insert_with_hint_prefix_extractor.reset(
      rocksdb::NewFixedPrefixTransform(4));
  // by_object keys are spread over the whole index: its memtable hashes
  // on the object a key names (storage/object_indexer.h), so an insert does
  // not search a skip list of every key. Scans of the index are of one
  // object's keys, which is what such a memtable answers. (It allows no
  // concurrent memtable inserts; the log has one writer and the indexer.)
  rocksdb::ColumnFamilyOptions index_opts = cf_opts;
  index_opts.prefix_extractor = ObjectIndexPrefix();
  index_opts.memtable_factory.reset(
      rocksdb::NewHashLinkListRepFactory(/*bucket_count=*/1 << 16));
  db_opts.allow_concurrent_memtable_write = false;
  // The projection is read a dozen times per event during intake, and many
  // reads are misses (no conflict, no drift, no partner yet) that would
  // otherwise search every memtable: a whole-key bloom filter per memtable
  // answers them.
  rocksdb::ColumnFamilyOptions projection_opts = cf_opts;
  projection_opts.memtable_whole_key_filtering = true;
  projection_opts.memtable_prefix_bloom_size_ratio = 0.02;
  // Commit writes the projection in key order (Kv::WriteTo): one
  // insert hint per record type.
  projection_opts.memtable_insert_with_hint_prefix_extractor.reset(
      rocksdb::NewFixedPrefixTransform(1));
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const char* name : kCfNames) {
    const std::string_view n(name);
    cfs.emplace_back(name, n == "log" || n == "decisions" ? seq_opts
                           : n == "by_object"             ? index_opts
                           : n == "state" || n == "links" ? projection_opts
                                                          : cf_opts);
  }
  DatabaseSpec spec;
  spec.dir = dir;
  spec.what = "the log";
  spec.mode = !options.read_only           ? DatabaseSpec::Mode::kReadWrite
              : options.follow_dir.empty() ? DatabaseSpec::Mode::kReadOnly
                                           : DatabaseSpec::Mode::kSecondary;
  spec.secondary_dir = options.follow_dir;
  spec.create_if_missing = options.create_if_missing;
  // A new log has its format version and installation id from the start.
  spec.init = [](rocksdb::DB* db,
                 const std::vector<rocksdb::ColumnFamilyHandle*>& handles) {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    rocksdb::WriteBatch batch;
    batch.Put(handles[7], kMetaFormat, std::to_string(kLogFormatVersion));
    batch.Put(handles[7], kMetaInstallation, NewInstallationId());
    batch.Put(handles[7], kMetaAliasIndex, "1");
    return RocksStatus(db->Write(wo, &batch), "writing the format version");
  };
  spec.options = db_opts;
  spec.families = std::move(cfs);
  spec.absent = "no dirledger log in " + dir +
                " (run `dirledger run` first, or check data_dir)";
  spec.in_use = "data dir " + dir +
                " is in use by another dirledger process (its RocksDB LOCK is "
                "held); stop that process first, or use a read-only command";
  auto database = RocksDatabase::Open(std::move(spec));
  if (!database.ok()) return database.status();
  log->database_ = std::move(database).value();
  rocksdb::DB* raw = log->database_->db();
  log->db_ = raw;
  log->log_cf_ = log->database_->family("log");
  log->decisions_cf_ = log->database_->family("decisions");
  log->cursors_cf_ = log->database_->family("cursors");
  log->state_cf_ = log->database_->family("state");
  log->links_cf_ = log->database_->family("links");
  log->by_object_cf_ = log->database_->family("by_object");
  log->meta_cf_ = log->database_->family("meta");
  log->state_read_ =
      std::make_unique<ReadKv>(raw, log->state_cf_, &log->options_, log.get());
  log->links_read_ =
      std::make_unique<ReadKv>(raw, log->links_cf_, &log->options_);
  log->projection_ = std::make_unique<ProjectionStore>(log->state_read_.get(),
                                                       log->links_read_.get());
  DIRLEDGER_RETURN_IF_ERROR(log->Load());
  if (!options.read_only) DIRLEDGER_RETURN_IF_ERROR(log->StartIndexer());
  return log;
}

Status EventLog::StartIndexer() {
  indexer_ = std::make_unique<ObjectIndexer>(db_, by_object_cf_, meta_cf_,
                                             index_through_);
  const std::uint64_t last_seq = this->last_seq();
  if (index_through_ >= last_seq) return Status::Ok();
  // A crash left the index behind the log: index the rest again. A damaged
  // record ends this early; SeqsForObject reads past the watermark from the
  // log itself (and reports the damage).
  std::vector<std::string> keys;
  std::vector<std::string_view> ids;
  std::uint64_t from = index_through_ + 1, last = index_through_;
  auto flush = [&] {
    Status s = indexer_->Enqueue(from, last, std::move(keys));
    keys.clear();
    from = last + 1;
    return s;
  };
  Status enqueued;
  // Scan's own status is not this one's: damage is reported where the
  // record is read.
  (void)Scan(index_through_ + 1, last_seq,
             [&](const Event& e, const Decision* d) {
               ids.clear();
               ObjectIndexIds(e, d, &ids);
               AppendObjectIndexKeys(e.seq, &ids, &keys);
               last = e.seq;
               if (keys.size() >= 4096) enqueued = flush();
               return enqueued.ok();
             });
  if (enqueued.ok() && last >= from) enqueued = flush();
  return enqueued.WithContext("indexing the log after " +
                              std::to_string(index_through_));
}

namespace {

// The alias index of a projection stored before it (kMetaAliasIndex): the
// index keys of each mail object, as a ProjectionStore writes them when the
// object is put into an empty one; with the marker, in one batch.
Status AddAliasIndex(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* state_cf,
                     rocksdb::ColumnFamilyHandle* meta_cf) {
  rocksdb::WriteBatch batch;
  const std::string prefix{
      'o', static_cast<char>('0' + static_cast<int>(Side::kMail))};
  std::unique_ptr<rocksdb::Iterator> it(
      db->NewIterator(rocksdb::ReadOptions(), state_cf));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix);
       it->Next()) {
    ObjectState o;
    DIRLEDGER_RETURN_IF_ERROR(DecodeObjectState(
        std::string_view(it->value().data(), it->value().size()), &o));
    if (IndexedAliases(o).empty()) continue;
    MemKvStore state, links;
    ProjectionStore one(&state, &links);
    DIRLEDGER_RETURN_IF_ERROR(one.Apply(PutObject{std::move(o)}));
    for (const auto& [key, value] : state.data())
      if (!key.empty() && key[0] == 'i') batch.Put(state_cf, key, value);
  }
  DIRLEDGER_RETURN_IF_ERROR(RocksStatus(it->status(), "reading mail objects"));
  batch.Put(meta_cf, kMetaAliasIndex, "1");
  rocksdb::WriteOptions synced;
  synced.sync = true;
  return RocksStatus(db->Write(synced, &batch), "writing the alias index");
}

}  // namespace

Status EventLog::Load() {
  // The projection's scanned index families, into memory (of the key-only
  // ones, the keys).
  std::string families(ProjectionStore::kScannedIndexBytes);
  families += ProjectionStore::kKeyOnlyIndexBytes;
  for (char family : families) {
    const std::string prefix(1, family);
    std::string end;
    rocksdb::Slice end_slice;
    const rocksdb::ReadOptions ro = PrefixReadOptions(prefix, &end, &end_slice);
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, state_cf_));
    MutexLock l(&scanned_mu_);
    const bool key_only = IsKeyOnly(prefix);
    for (it->Seek(prefix); it->Valid(); it->Next())
      scanned_.emplace(it->key().ToString(),
                       key_only ? std::string() : it->value().ToString());
    DIRLEDGER_RETURN_IF_ERROR(
        RocksStatus(it->status(), "reading the projection's index"));
  }
  std::string v;
  auto s = db_->Get(rocksdb::ReadOptions(), meta_cf_, kMetaFormat, &v);
  if (s.IsNotFound()) {
    if (options_.read_only)
      return Status::Corruption("log in " + dir_ + " has no format version");
    DIRLEDGER_RETURN_IF_ERROR(
        RocksStatus(db_->Put(rocksdb::WriteOptions(), meta_cf_, kMetaFormat,
                             std::to_string(kLogFormatVersion)),
                    "writing the format version"));
  } else if (!s.ok()) {
    return RocksStatus(s, "reading the format version");
  } else if (v != std::to_string(kLogFormatVersion)) {
    return Status::InvalidArgument("log in " + dir_ + " has format version " +
                                   v + "; this dirledger reads version " +
                                   std::to_string(kLogFormatVersion));
  }
  // Logs created before installation ids get one on their first writable
  // open; read-only, such a log has none ("").
  s = db_->Get(rocksdb::ReadOptions(), meta_cf_, kMetaInstallation,
               &installation_id_);
  if (s.IsNotFound()) {
    installation_id_.clear();
    if (!options_.read_only) {
      installation_id_ = NewInstallationId();
      // Backups carry it: one lost to a power cut would make them another
      // installation's.
      rocksdb::WriteOptions synced;
      synced.sync = true;
      DIRLEDGER_RETURN_IF_ERROR(RocksStatus(
          db_->Put(synced, meta_cf_, kMetaInstallation, installation_id_),
          "writing the installation id"));
    }
  } else if (!s.ok()) {
    return RocksStatus(s, "reading the installation id");
  }
  // A projection stored before the alias index gets it, derived from its
  // mail objects as ProjectionStore derives it (read-only, such a log has
  // none, and `verify` lists its keys as missing).
  s = db_->Get(rocksdb::ReadOptions(), meta_cf_, kMetaAliasIndex, &v);
  if (s.IsNotFound()) {
    if (!options_.read_only)
      DIRLEDGER_RETURN_IF_ERROR(AddAliasIndex(db_, state_cf_, meta_cf_)
                                    .WithContext("adding the alias index"));
  } else if (!s.ok()) {
    return RocksStatus(s, "reading the alias index marker");
  }
  std::uint64_t last_seq = 0;
  std::string head_hash(kSha256Size, '\0');
  s = db_->Get(rocksdb::ReadOptions(), meta_cf_, kMetaHead, &v);
  if (s.ok()) {
    if (v.size() != 8 + kSha256Size)
      return Status::Corruption("log head in " + dir_ + " is damaged");
    last_seq = GetBigEndian64(v);
    head_hash = v.substr(8);
  } else if (!s.IsNotFound()) {
    return RocksStatus(s, "reading the log head");
  }
  {
    MutexLock l(&mu_);
    last_seq_ = tail_seq_ = last_seq;
    head_hash_ = tail_hash_ = head_hash;
  }
  // The sources' status records, which this log changes from here on.
  std::map<std::string, SourceStatus, std::less<>> sources;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), meta_cf_));
  const std::string_view source_prefix(kMetaSourcePrefix);
  for (it->Seek(kMetaSourcePrefix); it->Valid(); it->Next()) {
    std::string_view k(it->key().data(), it->key().size());
    if (k.substr(0, source_prefix.size()) != source_prefix) break;
    const std::string_view source = k.substr(source_prefix.size());
    SourceStatus status;
    if (!DecodeSourceStatus(
            source, std::string_view(it->value().data(), it->value().size()),
            &status))
      return Status::Corruption("the status record of source " +
                                std::string(source) + " in " + dir_ +
                                " is damaged");
    sources.emplace(std::string(source), std::move(status));
  }
  DIRLEDGER_RETURN_IF_ERROR(
      RocksStatus(it->status(), "reading the sources' status in " + dir_));
  {
    MutexLock l(&sources_mu_);
    sources_ = std::move(sources);
  }
  // The index watermark (ObjectIndexer). A log without one was written
  // with its index in the same batches as its events: complete.
  index_through_ = last_seq;
  s = db_->Get(rocksdb::ReadOptions(), meta_cf_, kMetaIndexThrough, &v);
  if (s.ok()) {
    if (v.size() != 8)
      return Status::Corruption("object index watermark in " + dir_ +
                                " is damaged");
    index_through_ = std::min(GetBigEndian64(v), last_seq);
  } else if (!s.IsNotFound()) {
    return RocksStatus(s, "reading the object index watermark");
  }
  return Status::Ok();
}

Result<std::unique_ptr<LogTransaction>> EventLog::Begin() {
  if (options_.read_only)
    return Status::InvalidArgument("the log is open read-only");
  LogTransaction* previous = nullptr;
  {
    MutexLock l(&commit_mu_);
    if (!commit_error_.ok()) return commit_error_;
    previous = in_flight_.get();
  }
  {
    MutexLock l(&mu_);
    if (in_transaction_)
      return Status::InvalidArgument("another log transaction is open");
    in_transaction_ = true;
  }
  return std::unique_ptr<LogTransaction>(new LogTransaction(this, previous));
}

Status EventLog::Submit(std::unique_ptr<LogTransaction> txn) {
  if (!txn || txn->log_ != this)
    return Status::InvalidArgument("not a transaction of this log");
  if (txn->done_)
    return Status::InvalidArgument("transaction already committed");
  DIRLEDGER_RETURN_IF_ERROR(WaitCommitted());
  DIRLEDGER_RETURN_IF_ERROR(txn->Build());
  txn->PublishWrites();
  {
    MutexLock l(&mu_);
    in_transaction_ = false;  // the next may begin
    txn->released_ = true;
  }
  std::shared_ptr<LogTransaction> written;  // destroyed outside the lock
  {
    MutexLock l(&commit_mu_);
    if (!committer_.joinable())
      committer_ = std::thread([this] { CommitterLoop(); });
    written = std::move(in_flight_);
    in_flight_ = std::move(txn);
    writing_ = true;
  }
  commit_cv_.SignalAll();
  return Status::Ok();
}

Status EventLog::WaitCommitted() const {
  MutexLock l(&commit_mu_);
  while (writing_) commit_cv_.Wait();
  return commit_error_;
}

void EventLog::DropWritten() {
  std::shared_ptr<LogTransaction> written;  // destroyed outside the lock
  MutexLock l(&commit_mu_);
  if (!writing_) written = std::move(in_flight_);
}

void EventLog::CommitterLoop() {
  MutexLock l(&commit_mu_);
  for (;;) {
    while (!writing_ && !stop_committer_) commit_cv_.Wait();
    if (!writing_) return;  // stopping
    LogTransaction* txn = in_flight_.get();
    commit_mu_.Unlock();
    if (options_.before_submitted_write) options_.before_submitted_write();
    Status s = txn->WriteBatch();
    if (s.ok()) s = txn->Finish();
    commit_mu_.Lock();
    if (!s.ok() && commit_error_.ok())
      commit_error_ = s.WithContext(
          "writing a batch of log records (nothing after it was written)");
    writing_ = false;
    commit_cv_.SignalAll();
  }
}

Status EventLog::VisitScanned(std::string_view prefix, const KvStore& values,
                              const KvStore::ScanFn& fn) const {
  // Copied out first: the callback may read the store again.
  std::vector<std::pair<std::string, std::string>> rows;
  {
    MutexLock l(&scanned_mu_);
    CollectPrefix(scanned_, prefix, &rows);
  }
  return VisitAll(&rows, prefix, values, fn);
}

void EventLog::ReadTail(
    const std::function<void(const ProjectionStore&)>& fn) const {
  std::shared_ptr<const LogTransaction> submitted;
  {
    MutexLock l(&commit_mu_);
    submitted = in_flight_;
  }
  if (!submitted) {
    fn(*projection_);
    return;
  }
  TailKv state(submitted->state_kv_.get(), state_read_.get(), this, true);
  TailKv links(submitted->links_kv_.get(), links_read_.get(), this, false);
  ProjectionStore view(&state, &links);
  fn(view);
}

Status EventLog::CatchUp() {
  if (!options_.read_only || options_.follow_dir.empty())
    return Status::InvalidArgument("the log was not opened to follow");
  DIRLEDGER_RETURN_IF_ERROR(RocksStatus(db_->TryCatchUpWithPrimary(),
                                        "following the log in " + dir_));
  std::string v;
  auto s = db_->Get(rocksdb::ReadOptions(), meta_cf_, kMetaHead, &v);
  if (s.IsNotFound()) return Status::Ok();
  DIRLEDGER_RETURN_IF_ERROR(RocksStatus(s, "reading the log head"));
  if (v.size() != 8 + kSha256Size)
    return Status::Corruption("log head in " + dir_ + " is damaged");
  MutexLock l(&mu_);
  last_seq_ = tail_seq_ = GetBigEndian64(v);
  head_hash_ = tail_hash_ = v.substr(8);
  return Status::Ok();
}

std::uint64_t EventLog::last_seq() const {
  MutexLock l(&mu_);
  return last_seq_;
}

std::string EventLog::head_hash() const {
  MutexLock l(&mu_);
  return head_hash_;
}

Status EventLog::ReadRaw(std::uint64_t seq, std::string* out) const {
  auto s = db_->Get(rocksdb::ReadOptions(), log_cf_, SeqKey(seq), out);
  if (s.IsNotFound())
    return Status::NotFound("log record " + std::to_string(seq) +
                            " does not exist");
  return RocksStatus(s, "reading log record " + std::to_string(seq));
}

Status EventLog::ReadEvent(std::uint64_t seq, Event* out) const {
  std::string raw;
  DIRLEDGER_RETURN_IF_ERROR(ReadRaw(seq, &raw));
  std::string_view payload;
  DIRLEDGER_RETURN_IF_ERROR(CheckedPayload(raw, seq, &payload, nullptr));
  return DecodeEvent(payload, seq, out);
}

Status EventLog::ReadDecision(std::uint64_t seq, Decision* out) const {
  std::string raw;
  auto s = db_->Get(rocksdb::ReadOptions(), decisions_cf_, SeqKey(seq), &raw);
  if (s.IsNotFound())
    return Status::NotFound("no decision for " + std::to_string(seq));
  DIRLEDGER_RETURN_IF_ERROR(RocksStatus(s, "reading decision"));
  return DecodeDecision(raw, seq, out);
}

Status EventLog::Scan(std::uint64_t from, std::uint64_t to,
                      const VisitFn& fn) const {
  if (from == 0) from = 1;
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, log_cf_));
  std::unique_ptr<rocksdb::Iterator> dit(db_->NewIterator(ro, decisions_cf_));
  const std::string start = SeqKey(from);
  dit->Seek(start);
  Event event;
  Decision decision;
  std::uint64_t expect = from;
  for (it->Seek(start); it->Valid(); it->Next()) {
    if (it->key().size() != 8)
      return Status::Corruption("log key of " +
                                std::to_string(it->key().size()) + " bytes");
    const std::uint64_t seq =
        GetBigEndian64(std::string_view(it->key().data(), it->key().size()));
    if (seq > to) break;
    if (seq != expect)
      return Status::Corruption("log record " + std::to_string(expect) +
                                " is missing (next is " + std::to_string(seq) +
                                ")");
    ++expect;
    std::string_view payload;
    DIRLEDGER_RETURN_IF_ERROR(
        CheckedPayload(std::string_view(it->value().data(), it->value().size()),
                       seq, &payload, nullptr));
    DIRLEDGER_RETURN_IF_ERROR(DecodeEvent(payload, seq, &event));
    const Decision* dp = nullptr;
    while (dit->Valid() &&
           std::string_view(dit->key().data(), dit->key().size()) <
               std::string_view(it->key().data(), it->key().size()))
      dit->Next();
    if (dit->Valid() && dit->key() == it->key()) {
      DIRLEDGER_RETURN_IF_ERROR(DecodeDecision(
          std::string_view(dit->value().data(), dit->value().size()), seq,
          &decision));
      dp = &decision;
    }
    if (!fn(event, dp)) return Status::Ok();
  }
  DIRLEDGER_RETURN_IF_ERROR(RocksStatus(it->status(), "scanning the log"));
  return RocksStatus(dit->status(), "scanning decisions");
}

Status EventLog::SeqsForObject(std::string_view id,
                               std::vector<std::uint64_t>* out) const {
  // The index holds every event up to its watermark; the events after it
  // (still queued for the indexer, or left unindexed by a damaged record)
  // are read from the log.
  const std::uint64_t last = last_seq();
  const std::uint64_t through =
      indexer_ ? indexer_->WaitIdle() : index_through_;
  const std::size_t before = out->size();
  DIRLEDGER_RETURN_IF_ERROR(IndexedSeqs(id, out));
  while (out->size() > before && out->back() > through) out->pop_back();
  if (through >= last) return Status::Ok();
  std::vector<std::string_view> ids;
  return Scan(through + 1, last, [&](const Event& e, const Decision* d) {
    ids.clear();
    ObjectIndexIds(e, d, &ids);
    for (std::string_view i : ids)
      if (!i.empty() && EqualsIgnoreCase(i, id)) {
        out->push_back(e.seq);
        break;
      }
    return true;
  });
}

Status EventLog::IndexedSeqs(std::string_view id,
                             std::vector<std::uint64_t>* out) const {
  // A prefix seek (ObjectIndexPrefix): from the object's key at sequence 0,
  // over that object's keys only.
  const std::string start = ObjectIndexKey(id, 0);
  const std::string_view prefix(start.data(), start.size() - 8);
  rocksdb::ReadOptions ro;
  ro.prefix_same_as_start = true;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, by_object_cf_));
  for (it->Seek(start); it->Valid(); it->Next()) {
    std::string_view k(it->key().data(), it->key().size());
    if (k.size() != prefix.size() + 8 || k.substr(0, prefix.size()) != prefix)
      break;
    out->push_back(GetBigEndian64(k.substr(prefix.size())));
  }
  return RocksStatus(it->status(), "scanning the object index");
}

Status EventLog::GetCursor(std::string_view source, std::string* cookie) const {
  if (options_.read_fault)
    DIRLEDGER_RETURN_IF_ERROR(
        options_.read_fault("cursor " + std::string(source))
            .WithContext("reading the cursor of " + std::string(source)));
  auto s = db_->Get(rocksdb::ReadOptions(), cursors_cf_,
                    rocksdb::Slice(source.data(), source.size()), cookie);
  if (s.IsNotFound())
    return Status::NotFound("no cursor for " + std::string(source));
  return RocksStatus(s, "reading cursor");
}

Status EventLog::ConfigHistory(std::vector<ConfigRecord>* out) const {
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), meta_cf_));
  const std::string_view prefix(kMetaConfigPrefix);
  for (it->Seek(kMetaConfigPrefix); it->Valid(); it->Next()) {
    std::string_view k(it->key().data(), it->key().size());
    if (k.substr(0, prefix.size()) != prefix) break;
    if (k.size() != prefix.size() + 8)
      return Status::Corruption("config history key of " +
                                std::to_string(k.size()) + " bytes");
    out->push_back(ConfigRecord{GetBigEndian64(k.substr(prefix.size())),
                                it->value().ToString()});
  }
  return RocksStatus(it->status(), "reading config history");
}

Status EventLog::GetSourceStatus(std::string_view source,
                                 SourceStatus* out) const {
  std::string v;
  auto s = db_->Get(rocksdb::ReadOptions(), meta_cf_,
                    std::string(kMetaSourcePrefix) + std::string(source), &v);
  if (s.IsNotFound())
    return Status::NotFound("no status for " + std::string(source));
  DIRLEDGER_RETURN_IF_ERROR(RocksStatus(s, "reading source status"));
  if (!DecodeSourceStatus(source, v, out))
    return Status::Corruption("source status of " + std::string(source) +
                              " is damaged");
  return Status::Ok();
}

Status EventLog::ForEachSourceStatus(
    const std::function<void(const SourceStatus&)>& fn) const {
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), meta_cf_));
  const std::string_view prefix(kMetaSourcePrefix);
  for (it->Seek(kMetaSourcePrefix); it->Valid(); it->Next()) {
    std::string_view k(it->key().data(), it->key().size());
    if (k.substr(0, prefix.size()) != prefix) break;
    SourceStatus s;
    if (DecodeSourceStatus(
            k.substr(prefix.size()),
            std::string_view(it->value().data(), it->value().size()), &s))
      fn(s);
  }
  return RocksStatus(it->status(), "reading source status");
}

Status EventLog::NoteSourceContact(std::string_view source,
                                   std::string_view error) {
  if (options_.read_only) return Status::Ok();
  MutexLock l(&sources_mu_);
  SourceStatus s;
  if (auto it = sources_.find(source); it != sources_.end()) s = it->second;
  s.source = std::string(source);
  const std::int64_t now = options_.clock->NowMicros();
  if (error.empty()) {
    s.last_contact_us = now;
  } else {
    s.last_error = std::string(error);
    s.last_error_us = now;
  }
  DIRLEDGER_RETURN_IF_ERROR(
      RocksStatus(db_->Put(rocksdb::WriteOptions(), meta_cf_,
                           std::string(kMetaSourcePrefix) + std::string(source),
                           EncodeSourceStatus(s)),
                  "writing the status of source " + std::string(source)));
  sources_.insert_or_assign(std::string(source), std::move(s));
  return Status::Ok();
}

Status EventLog::ForEachCursor(
    const std::function<void(std::string_view, std::string_view)>& fn) const {
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), cursors_cf_));
  for (it->SeekToFirst(); it->Valid(); it->Next())
    fn(std::string_view(it->key().data(), it->key().size()),
       std::string_view(it->value().data(), it->value().size()));
  return RocksStatus(it->status(), "scanning cursors");
}

Status EventLog::VerifyChain(
    ChainReport* report,
    const std::function<void(std::uint64_t)>& progress) const {
  *report = ChainReport{};
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  ro.verify_checksums = true;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, log_cf_));
  ChainChecker chain;
  auto done = [&](Status s) {
    report->records = chain.records();
    report->first_bad_seq = chain.first_bad_seq();
    if (s.ok()) report->head_hash = chain.head_hash_hex();
    return s;
  };
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    Status s =
        chain.Next(std::string_view(it->key().data(), it->key().size()),
                   std::string_view(it->value().data(), it->value().size()));
    if (!s.ok()) return done(s);
    if (progress && chain.records() % 100000 == 0) progress(chain.records());
  }
  if (!it->status().ok()) {
    report->first_bad_seq = chain.records() + 1;
    report->records = chain.records();
    return Status::Corruption(
        RocksStatus(it->status(), "scanning the log").message());
  }
  std::uint64_t head_seq;
  std::string head_hash;
  {
    MutexLock l(&mu_);
    head_seq = last_seq_;
    head_hash = head_hash_;
  }
  DIRLEDGER_RETURN_IF_ERROR(done(chain.Finish(head_seq, head_hash)));
  return CheckCursors(chain, report);
}

Status EventLog::CheckCursors(const ChainChecker& chain,
                              ChainReport* report) const {
  const auto& recorded = chain.cursors();
  std::map<std::string, std::string, std::less<>> stored;
  DIRLEDGER_RETURN_IF_ERROR(
      ForEachCursor([&](std::string_view source, std::string_view cookie) {
        stored.emplace(source, cookie);
      }));
  for (const auto& [source, cookie] : stored) {
    auto r = recorded.find(source);
    if (r == recorded.end()) {
      report->cursors_unrecorded.push_back(source);
      continue;
    }
    if (r->second.cookie != cookie) {
      report->first_bad_seq = r->second.seq;
      return Status::Corruption(
          "the stored cursor of " + source + " is not the one log record " +
          std::to_string(r->second.seq) +
          " recorded last (it was edited: the source would resume "
          "elsewhere)");
    }
    ++report->cursors_checked;
  }
  for (const auto& [source, r] : recorded)
    if (!stored.count(source)) {
      report->first_bad_seq = r.seq;
      return Status::Corruption(
          "the cursor of " + source + " that log record " +
          std::to_string(r.seq) +
          " recorded is not stored (it was removed: the source would take "
          "everything in again)");
    }
  return Status::Ok();
}

Status EventLog::Checkpoint(const std::string& backup_dir) const {
  DIRLEDGER_RETURN_IF_ERROR(WaitCommitted());
  if (indexer_) indexer_->WaitIdle();  // the backup's index complete
  return database_->Checkpoint(backup_dir, "checkpoint into " + backup_dir);
}

Status EventLog::Restore(const std::string& backup_dir,
                         const std::string& data_dir) {
  std::error_code ec;
  if (!fs::exists(fs::path(backup_dir) / "CURRENT", ec))
    return Status::InvalidArgument(backup_dir +
                                   " is not a dirledger log backup");
  // Open the backup read-only first: refuse a damaged backup before touching
  // the data dir.
  {
    LogOptions ro;
    ro.read_only = true;
    auto opened = EventLog::Open(backup_dir, ro);
    if (!opened.ok())
      return opened.status().WithContext("backup " + backup_dir);
  }
  return RocksDatabase::RestoreStaged(backup_dir, data_dir, "log");
}

Status EventLog::ClearProjection() {
  {
    MutexLock l(&mu_);
    if (in_transaction_)
      return Status::InvalidArgument("a log transaction is open");
  }
  DIRLEDGER_RETURN_IF_ERROR(WaitCommitted());
  DropWritten();
  rocksdb::WriteBatch batch;
  for (auto* cf : {state_cf_, links_cf_}) {
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(rocksdb::ReadOptions(), cf));
    for (it->SeekToFirst(); it->Valid(); it->Next())
      DIRLEDGER_RETURN_IF_ERROR(
          RocksStatus(batch.Delete(cf, it->key()), "clearing projection"));
    DIRLEDGER_RETURN_IF_ERROR(RocksStatus(it->status(), "clearing projection"));
  }
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync;
  DIRLEDGER_RETURN_IF_ERROR(
      RocksStatus(db_->Write(wo, &batch), "clearing projection"));
  MutexLock l(&scanned_mu_);
  scanned_.clear();
  return Status::Ok();
}

Status EventLog::ScanDerivedFamily(DerivedFamily family,
                                   const KvStore::ScanFn& fn) const {
  rocksdb::ColumnFamilyHandle* cf = family == DerivedFamily::kState ? state_cf_
                                    : family == DerivedFamily::kLinks
                                        ? links_cf_
                                        : by_object_cf_;
  rocksdb::ReadOptions ro;
  ro.total_order_seek = true;  // by_object has a prefix extractor
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (!fn(std::string_view(it->key().data(), it->key().size()),
            std::string_view(it->value().data(), it->value().size())))
      break;
  }
  return RocksStatus(it->status(), "scanning " + cf->GetName());
}

Status EventLog::Flush() {
  DIRLEDGER_RETURN_IF_ERROR(WaitCommitted());
  if (indexer_) indexer_->WaitIdle();
  rocksdb::FlushOptions fo;
  return RocksStatus(db_->Flush(fo, database_->families()), "flush");
}

}  // namespace dirledger

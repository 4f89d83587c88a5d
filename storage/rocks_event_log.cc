#include "storage/rocks_event_log.h"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/options.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <filesystem>

#include "codecs/event_codec.h"
#include "codecs/kv_store.h"
#include "codecs/sha256.h"
#include "storage/log_internal.h"
#include "storage/log_record.h"
#include "storage/object_indexer.h"
#include "storage/rocks_database.h"
#include "storage/rocksdb_logger.h"

namespace dirledger {
namespace {

namespace fs = std::filesystem;

constexpr const char* kCfNames[] = {"default", "log",   "decisions", "cursors",
                                    "state",   "links", "by_object", "meta"};
constexpr const char kMetaFormat[] = "format_version";
// A random id given to the log when it is created: which installation a
// backup comes from (docs/operations.md, "Back up and restore").
constexpr const char kMetaInstallation[] = "installation_id";
// Present once the stored projection holds the alias index (key family
// 'i', rules version 7): a log made before it gets it at its next writable
// open, built from the mail objects stored (RocksEventLog::Load).
constexpr const char kMetaAliasIndex[] = "alias_index";

// The memtable insert hint's prefix for the projection families: the
// record type (the first key byte), for keys longer than that byte alone.
// A range deletion (RocksEventLog::CoverEmptiedFamilies) begins at that byte
// alone: RocksDB 7.8 inserts a range deletion with the hint of its begin
// key's prefix, into the skip list of range deletions, which leaves the
// hint pointing into the wrong list for the point keys after it (a failed
// assertion in RocksDB's debug builds, a damaged memtable in others). Out
// of the domain, a range deletion is inserted without a hint.
class RecordTypeHint : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "dirledger.RecordTypeHint"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return rocksdb::Slice(key.data(), 1);
  }
  bool InDomain(const rocksdb::Slice& key) const override {
    return key.size() > 1;
  }
};

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

}  // namespace

// ---- RocksEventLog ---------------------------------------------------------

RocksEventLog::~RocksEventLog() {
  {
    // The committer writes the transaction in flight before it stops.
    MutexLock l(&commit_mu_);
    stop_committer_ = true;
  }
  commit_cv_.SignalAll();
  if (committer_.joinable()) committer_.join();
  in_flight_.reset();
  CoverEmptiedFamilies();
  indexer_.reset();  // writes what it has queued
  projection_.reset();
  state_read_.reset();
  links_read_.reset();
  database_.reset();
}

void RocksEventLog::CoverEmptiedFamilies() {
  if (options_.read_only || db_ == nullptr || state_cf_ == nullptr) return;
  {
    MutexLock l(&commit_mu_);
    if (!commit_error_.ok()) return;
  }
  rocksdb::WriteBatch batch;
  {
    MutexLock l(&scanned_mu_);
    for (const auto& [family, deleted] : scanned_deleted_) {
      if (deleted < kCoverDeletions) continue;  // few to step over
      const std::string begin(1, family);
      const std::string end(1, static_cast<char>(family + 1));
      const auto it = scanned_.lower_bound(begin);
      if (it != scanned_.end() && it->first < end) continue;  // holds keys
      if (!batch.DeleteRange(state_cf_, begin, end).ok()) return;
    }
  }
  if (batch.Count() == 0) return;
  // Not synced: losing it loses nothing but the shortcut.
  if (!db_->Write(rocksdb::WriteOptions(), &batch).ok()) return;
  rocksdb::FlushOptions fo;
  fo.wait = true;
  (void)db_->Flush(fo, state_cf_);
}

Result<std::unique_ptr<EventLog>> EventLog::Open(const std::string& dir,
                                                 const LogOptions& options) {
  Result<std::unique_ptr<RocksEventLog>> log =
      RocksEventLog::Open(dir, options);
  if (!log.ok()) return log.status();
  return std::unique_ptr<EventLog>(std::move(log).value());
}

Result<std::unique_ptr<RocksEventLog>> RocksEventLog::Open(
    const std::string& dir, const LogOptions& options) {
  std::unique_ptr<RocksEventLog> log(new RocksEventLog());
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
  // Tables are compressed: LZ4 where they are written (flushes, the first
  // compactions), cheap beside the deciding thread on a 2-core machine;
  // zstd where they rest. A 100,000-entry sync leaves 1,300-1,550 bytes of
  // log database per entry on disk instead of 7,300 (docs/performance.md,
  // "Log size per entry"). Blocks are cached uncompressed.
  cf_opts.compression = rocksdb::kLZ4Compression;
  cf_opts.bottommost_compression = rocksdb::kZSTD;
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
  projection_opts.memtable_insert_with_hint_prefix_extractor =
      std::make_shared<RecordTypeHint>();
  // The projection's keys (object ids, addresses) spread over its whole key
  // range, so every level-0 compaction rewrites all of level 1. RocksDB's
  // 256 MiB level 1 made a 1,000,000-entry sync rewrite 2.7 GB of it to
  // keep 300 MB: 146 of the log's 251 s of flushes and compactions, in a
  // run of 217 s.
  // A small level 1 of small tables keeps that rewrite small and moves the
  // rest down a table at a time: the run took 161-193 s instead of
  // 217-222 s, its tables 12 % more space (docs/performance.md, "Large syncs
  // and compaction").
  projection_opts.max_bytes_for_level_base = 32u << 20;
  projection_opts.target_file_size_base = 8u << 20;
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
  spec.settle_compactions_at_close = options.settle_compactions_at_close;
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

Status RocksEventLog::StartIndexer() {
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

Status RocksEventLog::Load() {
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
  // The projection's scanned index families, into memory (of the key-only
  // ones, the keys); after the alias index is there.
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
  // The index watermark (ObjectIndexer). A log without one is new and was
  // killed before its indexer wrote the first watermark (its index may
  // hold part of a chunk), or was written before the indexer, its index in
  // the same batches as its events. Either way it is indexed again from the
  // start: index keys are idempotent, and the first watermark ends it.
  index_through_ = 0;
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

Status RocksEventLog::VisitScanned(std::string_view prefix,
                                   const KvStore& values,
                                   const KvStore::ScanFn& fn) const {
  // Copied out first: the callback may read the store again.
  std::vector<std::pair<std::string, std::string>> rows;
  {
    MutexLock l(&scanned_mu_);
    CollectPrefix(scanned_, prefix, &rows);
  }
  return VisitAll(&rows, prefix, values, fn);
}

void RocksEventLog::ReadTail(
    const std::function<void(const ProjectionStore&)>& fn) const {
  std::shared_ptr<const RocksLogTransaction> submitted;
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

Status RocksEventLog::CatchUp() {
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

std::uint64_t RocksEventLog::last_seq() const {
  MutexLock l(&mu_);
  return last_seq_;
}

std::string RocksEventLog::head_hash() const {
  MutexLock l(&mu_);
  return head_hash_;
}

Status RocksEventLog::ReadRaw(std::uint64_t seq, std::string* out) const {
  auto s = db_->Get(rocksdb::ReadOptions(), log_cf_, SeqKey(seq), out);
  if (s.IsNotFound())
    return Status::NotFound("log record " + std::to_string(seq) +
                            " does not exist");
  return RocksStatus(s, "reading log record " + std::to_string(seq));
}

Status RocksEventLog::ReadDecision(std::uint64_t seq, Decision* out) const {
  std::string raw;
  auto s = db_->Get(rocksdb::ReadOptions(), decisions_cf_, SeqKey(seq), &raw);
  if (s.IsNotFound())
    return Status::NotFound("no decision for " + std::to_string(seq));
  DIRLEDGER_RETURN_IF_ERROR(RocksStatus(s, "reading decision"));
  return DecodeDecision(raw, seq, out);
}

Status RocksEventLog::ScanRecords(std::uint64_t from, std::uint64_t to,
                                  const RecordFn& fn) const {
  if (from == 0) from = 1;
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, log_cf_));
  std::unique_ptr<rocksdb::Iterator> dit(db_->NewIterator(ro, decisions_cf_));
  const std::string start = SeqKey(from);
  dit->Seek(start);
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
    while (dit->Valid() &&
           std::string_view(dit->key().data(), dit->key().size()) <
               std::string_view(it->key().data(), it->key().size()))
      dit->Next();
    std::string_view decision;
    const bool decided = dit->Valid() && dit->key() == it->key();
    if (decided)
      decision = std::string_view(dit->value().data(), dit->value().size());
    if (!fn(seq, payload, decided ? &decision : nullptr)) return Status::Ok();
  }
  DIRLEDGER_RETURN_IF_ERROR(RocksStatus(it->status(), "scanning the log"));
  return RocksStatus(dit->status(), "scanning decisions");
}

Status RocksEventLog::SeqsForObject(std::string_view id,
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

Status RocksEventLog::IndexedSeqs(std::string_view id,
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

Status RocksEventLog::GetCursor(std::string_view source,
                                std::string* cookie) const {
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

Status RocksEventLog::ConfigHistory(std::vector<ConfigRecord>* out) const {
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

Status RocksEventLog::GetSourceStatus(std::string_view source,
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

Status RocksEventLog::ForEachSourceStatus(
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

Status RocksEventLog::NoteSourceContact(std::string_view source,
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

Status RocksEventLog::ForEachCursor(
    const std::function<void(std::string_view, std::string_view)>& fn) const {
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), cursors_cf_));
  for (it->SeekToFirst(); it->Valid(); it->Next())
    fn(std::string_view(it->key().data(), it->key().size()),
       std::string_view(it->value().data(), it->value().size()));
  return RocksStatus(it->status(), "scanning cursors");
}

Status RocksEventLog::VerifyChain(
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

Status RocksEventLog::CheckCursors(const ChainChecker& chain,
                                   ChainReport* report) const {
  std::map<std::string, std::string, std::less<>> stored;
  DIRLEDGER_RETURN_IF_ERROR(
      ForEachCursor([&](std::string_view source, std::string_view cookie) {
        stored.emplace(source, cookie);
      }));
  return CheckStoredCursors(chain, stored, report);
}

Status RocksEventLog::Checkpoint(const std::string& backup_dir) const {
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
    auto opened = RocksEventLog::Open(backup_dir, ro);
    if (!opened.ok())
      return opened.status().WithContext("backup " + backup_dir);
  }
  return RocksDatabase::RestoreStaged(backup_dir, data_dir, "log");
}

Status RocksEventLog::ClearProjection() {
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

Status RocksEventLog::ScanDerivedFamily(DerivedFamily family,
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

Status RocksEventLog::Flush() {
  DIRLEDGER_RETURN_IF_ERROR(WaitCommitted());
  if (indexer_) indexer_->WaitIdle();
  rocksdb::FlushOptions fo;
  return RocksStatus(db_->Flush(fo, database_->families()), "flush");
}

}  // namespace dirledger

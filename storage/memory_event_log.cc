#include "storage/memory_event_log.h"

#include <utility>

#include "codecs/event_codec.h"
#include "codecs/sha256.h"
#include "storage/log_record.h"
#include "storage/object_indexer.h"

namespace dirledger {
namespace {

// A transaction's writes over the committed store: reads see them first.
class OverlayKv : public KvStore {
 public:
  explicit OverlayKv(const KvStore* base) : base_(base) {}

  Status Get(std::string_view key, std::string* value) const override {
    if (auto it = writes_.find(key); it != writes_.end()) {
      if (!it->second) return Status::NotFound("no key");
      *value = *it->second;
      return Status::Ok();
    }
    return base_->Get(key, value);
  }
  Status Put(std::string_view key, std::string_view value) override {
    writes_.insert_or_assign(std::string(key), std::string(value));
    return Status::Ok();
  }
  Status Delete(std::string_view key) override {
    writes_.insert_or_assign(std::string(key), std::nullopt);
    return Status::Ok();
  }
  // The committed rows under `prefix` merged with this transaction's, in
  // key order.
  Status Scan(std::string_view prefix, const ScanFn& fn) const override {
    KvRows committed;
    DIRLEDGER_RETURN_IF_ERROR(
        base_->Scan(prefix, [&](std::string_view k, std::string_view v) {
          committed.emplace_back(k, v);
          return true;
        }));
    for (const auto& [k, v] :
         OverlayWrites(std::move(committed), writes_, prefix))
      if (!fn(k, v)) break;
    return Status::Ok();
  }

  const KvWrites& writes() const { return writes_; }
  std::size_t bytes() const {
    std::size_t n = 0;
    for (const auto& [k, v] : writes_) n += k.size() + (v ? v->size() : 0);
    return n;
  }

 private:
  const KvStore* base_;
  KvWrites writes_;
};

}  // namespace

// The committed state or links, read under the log's mutex; scans copy
// the rows first and call back outside it. With `faults`, the read faults
// (LogOptions::read_fault) RocksEventLog applies to its committed view;
// a transaction reads without them, as a RocksEventLog transaction does.
class MemoryEventLog::CommittedKv : public KvStore {
 public:
  CommittedKv(const MemoryEventLog* log, const MemKvStore* store, bool state,
              bool faults)
      : log_(log), store_(store), state_(state), faults_(faults) {}

  Status Get(std::string_view key, std::string* value) const override {
    if (faults_ && log_->options_.read_fault)
      DIRLEDGER_RETURN_IF_ERROR(log_->options_.read_fault("projection read"));
    MutexLock l(&log_->mu_);
    return store_->Get(key, value);
  }
  Status Put(std::string_view, std::string_view) override {
    return Status::InvalidArgument("the committed projection is read-only");
  }
  Status Delete(std::string_view) override {
    return Status::InvalidArgument("the committed projection is read-only");
  }
  Status Scan(std::string_view prefix, const ScanFn& fn) const override {
    // RocksEventLog answers scans of the families it keeps in memory
    // (ProjectionStore::kScannedIndexBytes) without a stored read.
    const bool kept = state_ && !prefix.empty() &&
                      ProjectionStore::kScannedIndexBytes.find(prefix[0]) !=
                          std::string_view::npos;
    if (faults_ && !kept && log_->options_.read_fault)
      DIRLEDGER_RETURN_IF_ERROR(log_->options_.read_fault("projection scan"));
    KvRows rows;
    {
      MutexLock l(&log_->mu_);
      CollectPrefix(store_->data(), prefix, &rows);
    }
    for (const auto& [k, v] : rows)
      if (!fn(k, v)) break;
    return Status::Ok();
  }

 private:
  const MemoryEventLog* log_;
  const MemKvStore* store_;
  bool state_;
  bool faults_;
};

class MemoryEventLog::Transaction final : public LogTransaction {
 public:
  Transaction(MemoryEventLog* log, std::uint64_t next_seq,
              std::string head_hash)
      : log_(log),
        state_kv_(log->state_txn_view_.get()),
        links_kv_(log->links_txn_view_.get()),
        projection_(&state_kv_, &links_kv_),
        next_seq_(next_seq),
        head_hash_(std::move(head_hash)) {}
  // The next may begin once this one is gone, committed or not (as
  // RocksEventLog's; Submit destroys it when it is written).
  ~Transaction() override {
    MutexLock l(&log_->mu_);
    log_->in_transaction_ = false;
  }

  std::uint64_t NextSeq() const override { return next_seq_; }
  std::int64_t NowMicros() const override { return log_->NowMicros(); }

  Status Add(Event* event, const Decision* decision,
             const std::vector<std::string>& object_ids) override {
    if (done_) return Status::InvalidArgument("transaction already committed");
    DIRLEDGER_RETURN_IF_ERROR(CheckAppend(next_seq_, *event, decision));
    if (event->time_us == 0) event->time_us = log_->NowMicros();
    event->prev_hash = head_hash_;
    EventEncoder encoder;
    std::string raw(encoder.Encode(*event));
    char digest[kSha256Size];
    Sha256(raw, digest);
    raw.append(digest, kSha256Size);
    records_.push_back(std::move(raw));
    if (decision) {
      DecisionEncoder dec_encoder;
      decisions_.emplace_back(event->seq,
                              std::string(dec_encoder.Encode(*decision)));
    }
    if (const auto* c = std::get_if<ConfigChange>(&event->body))
      configs_.push_back(ConfigRecord{event->seq, c->sha256});
    AppendAddedEventKeys(*event, object_ids, &index_keys_);
    CountForSource(*event, &source_deltas_);
    head_hash_.assign(digest, kSha256Size);
    ++next_seq_;
    return Status::Ok();
  }

  Status PutCursor(std::string_view source, std::string_view cookie) override {
    if (done_) return Status::InvalidArgument("transaction already committed");
    cursors_.insert_or_assign(std::string(source), std::string(cookie));
    return Status::Ok();
  }

  ProjectionStore& projection() override { return projection_; }
  std::size_t size() const override { return records_.size(); }
  std::size_t bytes() const override {
    std::size_t n = state_kv_.bytes() + links_kv_.bytes();
    for (const std::string& r : records_) n += r.size();
    for (const auto& [seq, d] : decisions_) n += d.size();
    return n;
  }

  Status Commit() override {
    if (done_) return Status::InvalidArgument("transaction already committed");
    done_ = true;
    DIRLEDGER_RETURN_IF_ERROR(projection_.status());
    return log_->Apply(this);
  }

 private:
  friend class MemoryEventLog;

  MemoryEventLog* log_;
  OverlayKv state_kv_;
  OverlayKv links_kv_;
  ProjectionStore projection_;
  std::uint64_t next_seq_;
  std::string head_hash_;
  std::vector<std::string> records_;
  std::vector<std::pair<std::uint64_t, std::string>> decisions_;
  std::map<std::string, std::string, std::less<>> cursors_;
  std::vector<ConfigRecord> configs_;
  SourceCounts source_deltas_;
  std::vector<std::string> index_keys_;
  bool done_ = false;
};

MemoryEventLog::MemoryEventLog(LogOptions options)
    : installation_id_(NewInstallationId()), options_(std::move(options)) {
  if (!options_.clock) options_.clock = SystemClock();
  head_hash_.assign(kSha256Size, '\0');
  state_view_ = std::make_unique<CommittedKv>(this, &state_, true, true);
  links_view_ = std::make_unique<CommittedKv>(this, &links_, false, true);
  state_txn_view_ = std::make_unique<CommittedKv>(this, &state_, true, false);
  links_txn_view_ = std::make_unique<CommittedKv>(this, &links_, false, false);
  projection_ =
      std::make_unique<ProjectionStore>(state_view_.get(), links_view_.get());
}

MemoryEventLog::~MemoryEventLog() = default;

Result<std::unique_ptr<LogTransaction>> MemoryEventLog::Begin() {
  if (options_.read_only)
    return Status::InvalidArgument("the log is open read-only");
  MutexLock l(&mu_);
  if (in_transaction_)
    return Status::InvalidArgument("another log transaction is open");
  in_transaction_ = true;
  return std::unique_ptr<LogTransaction>(
      new Transaction(this, raw_.size() + 1, head_hash_));
}

Status MemoryEventLog::Apply(Transaction* txn) {
  MutexLock l(&mu_);
  const std::uint64_t first = txn->next_seq_ - txn->records_.size();
  if (first != raw_.size() + 1)
    return Status::InvalidArgument("the transaction begins at " +
                                   std::to_string(first) + ", not after " +
                                   std::to_string(raw_.size()));
  for (std::string& r : txn->records_) raw_.push_back(std::move(r));
  for (auto& [seq, d] : txn->decisions_) decisions_[seq] = std::move(d);
  for (auto& [source, cookie] : txn->cursors_)
    cursors_.insert_or_assign(source, std::move(cookie));
  for (ConfigRecord& c : txn->configs_) config_history_.push_back(std::move(c));
  for (const auto& [source, delta] : txn->source_deltas_) {
    SourceStatus& s = sources_[source];
    s.source = source;
    FoldSourceCounts(delta, &s);
  }
  for (std::string& k : txn->index_keys_) object_index_.insert(std::move(k));
  for (const auto& [key, value] : txn->state_kv_.writes())
    (void)(value ? state_.Put(key, *value) : state_.Delete(key));
  for (const auto& [key, value] : txn->links_kv_.writes())
    (void)(value ? links_.Put(key, *value) : links_.Delete(key));
  head_hash_ = txn->head_hash_;
  return Status::Ok();
}

Status MemoryEventLog::Submit(std::unique_ptr<LogTransaction> txn) {
  auto* own = dynamic_cast<Transaction*>(txn.get());
  if (!own || own->log_ != this)
    return Status::InvalidArgument("not a transaction of this log");
  return own->Commit();
}

Status MemoryEventLog::WaitCommitted() const { return Status::Ok(); }

Status MemoryEventLog::CatchUp() {
  return Status::InvalidArgument(
      "the log is kept in memory: there is no writer to follow");
}

std::uint64_t MemoryEventLog::last_seq() const {
  MutexLock l(&mu_);
  return raw_.size();
}

std::string MemoryEventLog::head_hash() const {
  MutexLock l(&mu_);
  return head_hash_;
}

Status MemoryEventLog::ReadRaw(std::uint64_t seq, std::string* out) const {
  MutexLock l(&mu_);
  if (seq == 0 || seq > raw_.size())
    return Status::NotFound("log record " + std::to_string(seq) +
                            " does not exist");
  *out = raw_[seq - 1];
  return Status::Ok();
}

Status MemoryEventLog::ReadDecision(std::uint64_t seq, Decision* out) const {
  std::string raw;
  {
    MutexLock l(&mu_);
    auto it = decisions_.find(seq);
    if (it == decisions_.end())
      return Status::NotFound("no decision for " + std::to_string(seq));
    raw = it->second;
  }
  return DecodeDecision(raw, seq, out);
}

Status MemoryEventLog::ScanRecords(std::uint64_t from, std::uint64_t to,
                                   const RecordFn& fn) const {
  if (from == 0) from = 1;
  for (std::uint64_t seq = from; seq <= to; ++seq) {
    std::string raw;
    std::optional<std::string> dec;
    {
      MutexLock l(&mu_);
      if (seq > raw_.size()) break;
      raw = raw_[seq - 1];
      if (auto it = decisions_.find(seq); it != decisions_.end())
        dec = it->second;
    }
    std::string_view payload;
    DIRLEDGER_RETURN_IF_ERROR(CheckedPayload(raw, seq, &payload, nullptr));
    const std::string_view decision = dec ? std::string_view(*dec) : "";
    if (!fn(seq, payload, dec ? &decision : nullptr)) break;
  }
  return Status::Ok();
}

Status MemoryEventLog::SeqsForObject(std::string_view id,
                                     std::vector<std::uint64_t>* out) const {
  const std::string start = ObjectIndexKey(id, 0);
  const std::string_view prefix(start.data(), start.size() - 8);
  MutexLock l(&mu_);
  for (auto it = object_index_.lower_bound(start); it != object_index_.end();
       ++it) {
    std::string_view k(*it);
    if (k.size() != prefix.size() + 8 || !k.starts_with(prefix)) break;
    out->push_back(GetBigEndian64(k.substr(prefix.size())));
  }
  return Status::Ok();
}

Status MemoryEventLog::GetCursor(std::string_view source,
                                 std::string* cookie) const {
  if (options_.read_fault)
    DIRLEDGER_RETURN_IF_ERROR(
        options_.read_fault("cursor " + std::string(source))
            .WithContext("reading the cursor of " + std::string(source)));
  MutexLock l(&mu_);
  auto it = cursors_.find(source);
  if (it == cursors_.end())
    return Status::NotFound("no cursor for " + std::string(source));
  *cookie = it->second;
  return Status::Ok();
}

Status MemoryEventLog::ConfigHistory(std::vector<ConfigRecord>* out) const {
  MutexLock l(&mu_);
  out->insert(out->end(), config_history_.begin(), config_history_.end());
  return Status::Ok();
}

Status MemoryEventLog::GetSourceStatus(std::string_view source,
                                       SourceStatus* out) const {
  MutexLock l(&mu_);
  auto it = sources_.find(source);
  if (it == sources_.end())
    return Status::NotFound("no status for " + std::string(source));
  *out = it->second;
  return Status::Ok();
}

Status MemoryEventLog::ForEachSourceStatus(
    const std::function<void(const SourceStatus&)>& fn) const {
  std::vector<SourceStatus> all;
  {
    MutexLock l(&mu_);
    for (const auto& [source, s] : sources_) all.push_back(s);
  }
  for (const SourceStatus& s : all) fn(s);
  return Status::Ok();
}

Status MemoryEventLog::NoteSourceContact(std::string_view source,
                                         std::string_view error) {
  if (options_.read_only) return Status::Ok();
  const std::int64_t now = options_.clock->NowMicros();
  MutexLock l(&mu_);
  SourceStatus& s = sources_[std::string(source)];
  s.source = std::string(source);
  if (error.empty()) {
    s.last_contact_us = now;
  } else {
    s.last_error = std::string(error);
    s.last_error_us = now;
  }
  return Status::Ok();
}

Status MemoryEventLog::ForEachCursor(
    const std::function<void(std::string_view, std::string_view)>& fn) const {
  std::map<std::string, std::string, std::less<>> all;
  {
    MutexLock l(&mu_);
    all = cursors_;
  }
  for (const auto& [source, cookie] : all) fn(source, cookie);
  return Status::Ok();
}

void MemoryEventLog::ReadTail(
    const std::function<void(const ProjectionStore&)>& fn) const {
  fn(*projection_);
}

Status MemoryEventLog::VerifyChain(
    ChainReport* report,
    const std::function<void(std::uint64_t)>& progress) const {
  *report = ChainReport{};
  std::vector<std::string> raw;
  std::string head_hash;
  std::map<std::string, std::string, std::less<>> cursors;
  {
    MutexLock l(&mu_);
    raw = raw_;
    head_hash = head_hash_;
    cursors = cursors_;
  }
  ChainChecker chain;
  auto done = [&](Status s) {
    report->records = chain.records();
    report->first_bad_seq = chain.first_bad_seq();
    if (s.ok()) report->head_hash = chain.head_hash_hex();
    return s;
  };
  for (std::uint64_t seq = 1; seq <= raw.size(); ++seq) {
    Status s = chain.Next(BigEndian64(seq), raw[seq - 1]);
    if (!s.ok()) return done(s);
    if (progress && chain.records() % 100000 == 0) progress(chain.records());
  }
  DIRLEDGER_RETURN_IF_ERROR(done(chain.Finish(raw.size(), head_hash)));
  return CheckStoredCursors(chain, cursors, report);
}

Status MemoryEventLog::Checkpoint(const std::string& backup_dir) const {
  return Status::InvalidArgument(
      "the log is kept in memory: it has no files to copy into " + backup_dir);
}

Status MemoryEventLog::ClearProjection() {
  MutexLock l(&mu_);
  if (in_transaction_)
    return Status::InvalidArgument("a log transaction is open");
  state_ = MemKvStore();
  links_ = MemKvStore();
  return Status::Ok();
}

Status MemoryEventLog::Flush() { return Status::Ok(); }

Status MemoryEventLog::ScanDerivedFamily(DerivedFamily family,
                                         const KvStore::ScanFn& fn) const {
  KvRows rows;
  {
    MutexLock l(&mu_);
    switch (family) {
      case DerivedFamily::kState:
        rows.assign(state_.data().begin(), state_.data().end());
        break;
      case DerivedFamily::kLinks:
        rows.assign(links_.data().begin(), links_.data().end());
        break;
      case DerivedFamily::kObjectIndex:
        for (const std::string& k : object_index_) rows.emplace_back(k, "");
        break;
    }
  }
  for (const auto& [k, v] : rows)
    if (!fn(k, v)) break;
  return Status::Ok();
}

std::uint64_t MemoryEventLog::index_through() const { return last_seq(); }

Status MemoryEventLog::ReplaceRawForTest(std::uint64_t seq, std::string raw) {
  MutexLock l(&mu_);
  if (seq == 0 || seq > raw_.size())
    return Status::NotFound("log record " + std::to_string(seq) +
                            " does not exist");
  raw_[seq - 1] = std::move(raw);
  return Status::Ok();
}

}  // namespace dirledger

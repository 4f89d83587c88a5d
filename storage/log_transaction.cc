// The log's write path: RocksLogTransaction (the events, decisions, projection
// writes and cursors of one batch, in one RocksDB WriteBatch) and the
// committer thread that writes a submitted transaction while the next one
// is decided (RocksEventLog::Begin, Submit, WaitCommitted).
#include <memory>
#include <thread>

#include "codecs/event_codec.h"
#include "codecs/sha256.h"
#include "storage/log_internal.h"
#include "storage/object_indexer.h"
#include "storage/rocksdb_write.h"

namespace dirledger {

RocksLogTransaction::RocksLogTransaction(RocksEventLog* log,
                                         RocksLogTransaction* previous)
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

RocksLogTransaction::~RocksLogTransaction() {
  // Batches that grew very large (a huge hold, a restore) are not kept.
  constexpr std::size_t kKeepBytes = 64u << 20;
  const bool keep = batch_ && batch_->GetDataSize() <= kKeepBytes;
  if (keep) batch_->Clear();
  MutexLock l(&log_->mu_);
  if (keep) log_->spare_batch_ = std::move(batch_);
  if (!released_) log_->in_transaction_ = false;
}

std::size_t RocksLogTransaction::bytes() const {
  std::size_t index = 0;
  if (!done_)
    for (const std::string& k : index_keys_) index += k.size() + 3;
  return batch_->GetDataSize() + state_kv_->bytes() + links_kv_->bytes() +
         index;
}

std::int64_t RocksLogTransaction::NowMicros() const {
  return log_->options_.clock->NowMicros();
}

Status RocksLogTransaction::Add(Event* event, const Decision* decision,
                                const std::vector<std::string>& object_ids) {
  if (done_) return Status::InvalidArgument("transaction already committed");
  DIRLEDGER_RETURN_IF_ERROR(CheckAppend(next_seq_, *event, decision));
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
  if (const auto* c = std::get_if<ConfigChange>(&event->body)) {
    DIRLEDGER_RETURN_IF_ERROR(RocksStatus(
        batch_->Put(log_->meta_cf_,
                    std::string(kMetaConfigPrefix) + SeqKey(event->seq),
                    c->sha256),
        "config history write"));
  }
  AppendAddedEventKeys(*event, object_ids, &index_keys_);
  CountForSource(*event, &source_deltas_);
  head_hash_.assign(digest, kSha256Size);
  ++next_seq_;
  ++added_;
  return Status::Ok();
}

Status RocksLogTransaction::PutCursor(std::string_view source,
                                      std::string_view cookie) {
  if (done_) return Status::InvalidArgument("transaction already committed");
  return RocksStatus(batch_->Put(log_->cursors_cf_,
                                 rocksdb::Slice(source.data(), source.size()),
                                 rocksdb::Slice(cookie.data(), cookie.size())),
                     "storing the cursor of " + std::string(source));
}

Status RocksLogTransaction::Commit() {
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

Status RocksLogTransaction::Build() {
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

void RocksLogTransaction::PublishWrites() {
  {
    MutexLock l(&log_->scanned_mu_);
    for (auto& [key, value] : scanned_writes_) {
      if (value) {
        log_->scanned_.insert_or_assign(key, std::move(*value));
      } else {
        log_->scanned_.erase(key);
        if (!key.empty()) ++log_->scanned_deleted_[key[0]];
      }
    }
  }
  MutexLock l(&log_->mu_);
  log_->tail_seq_ = next_seq_ - 1;
  log_->tail_hash_ = head_hash_;
}

Status RocksLogTransaction::WriteBatch() {
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
    FoldSourceCounts(delta, &s);
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

Status RocksLogTransaction::Finish() {
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

// ---- The committer ----

Result<std::unique_ptr<LogTransaction>> RocksEventLog::Begin() {
  if (options_.read_only)
    return Status::InvalidArgument("the log is open read-only");
  RocksLogTransaction* previous = nullptr;
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
  return std::unique_ptr<LogTransaction>(
      new RocksLogTransaction(this, previous));
}

Status RocksEventLog::Submit(std::unique_ptr<LogTransaction> given) {
  auto* own = dynamic_cast<RocksLogTransaction*>(given.get());
  if (!own || own->log_ != this)
    return Status::InvalidArgument("not a transaction of this log");
  std::unique_ptr<RocksLogTransaction> txn(own);
  (void)given.release();
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
  std::shared_ptr<RocksLogTransaction> written;  // destroyed outside the lock
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

Status RocksEventLog::WaitCommitted() const {
  MutexLock l(&commit_mu_);
  while (writing_) commit_cv_.Wait();
  return commit_error_;
}

void RocksEventLog::DropWritten() {
  std::shared_ptr<RocksLogTransaction> written;  // destroyed outside the lock
  MutexLock l(&commit_mu_);
  if (!writing_) written = std::move(in_flight_);
}

void RocksEventLog::CommitterLoop() {
  MutexLock l(&commit_mu_);
  for (;;) {
    while (!writing_ && !stop_committer_) commit_cv_.Wait();
    if (!writing_) return;  // stopping
    RocksLogTransaction* txn = in_flight_.get();
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

}  // namespace dirledger

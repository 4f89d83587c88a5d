#include "storage/object_indexer.h"

#include <rocksdb/db.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/write_batch.h>

#include <algorithm>

#include "codecs/attributes.h"
#include "codecs/kv_store.h"
#include "storage/io_hints.h"
#include "storage/rocksdb_write.h"

namespace dirledger {
namespace {

// Keys queued before Enqueue waits: about eight batches of 1,000 changes.
constexpr std::size_t kMaxQueuedKeys = 16384;
// Keys per index write. RocksDB serializes writes: an event commit that
// arrives while an index write is going in waits for it, so the index is
// written in slices short enough not to hold commits up.
constexpr std::size_t kKeysPerWrite = 512;

}  // namespace

std::string ObjectIndexKey(std::string_view id, std::uint64_t seq) {
  std::string k = AsciiLower(id);
  k += '\0';
  PutBigEndian64(&k, seq);
  return k;
}

std::string DescribeObjectIndexKey(std::string_view key) {
  if (key.size() < 9 || key[key.size() - 9] != '\0')
    return "a key of another layout, " + std::to_string(key.size()) + " bytes";
  std::string out;
  for (char c : key.substr(0, key.size() - 9))
    out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return out + " at sequence " +
         std::to_string(GetBigEndian64(key.substr(key.size() - 8)));
}

std::shared_ptr<const rocksdb::SliceTransform> ObjectIndexPrefix() {
  class Prefix : public rocksdb::SliceTransform {
   public:
    const char* Name() const override { return "dirledger.ObjectIndexPrefix"; }
    rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
      return rocksdb::Slice(key.data(), key.size() - 8);
    }
    bool InDomain(const rocksdb::Slice& key) const override {
      return key.size() > 8;
    }
  };
  static const auto prefix = std::make_shared<const Prefix>();
  return prefix;
}

void AppendObjectIndexKeys(std::uint64_t seq,
                           std::vector<std::string_view>* ids,
                           std::vector<std::string>* keys) {
  std::sort(ids->begin(), ids->end(),
            [](std::string_view a, std::string_view b) {
              return CompareIgnoreCase(a, b) < 0;
            });
  std::string_view prev;
  bool first = true;
  for (std::string_view id : *ids) {
    if (id.empty() || (!first && EqualsIgnoreCase(prev, id))) continue;
    first = false;
    prev = id;
    keys->push_back(ObjectIndexKey(id, seq));
  }
}

void AppendAddedEventKeys(const Event& event,
                          const std::vector<std::string>& object_ids,
                          std::vector<std::string>* keys) {
  std::vector<std::string_view> ids(object_ids.begin(), object_ids.end());
  if (const auto* c = std::get_if<ObservedChange>(&event.body))
    ids.push_back(c->id);
  AppendObjectIndexKeys(event.seq, &ids, keys);
}

void ObjectIndexIds(const Event& event, const Decision* decision,
                    std::vector<std::string_view>* ids) {
  if (decision)
    for (const std::string& id : decision->object_ids) ids->push_back(id);
  if (const auto* c = std::get_if<ObservedChange>(&event.body)) {
    ids->push_back(c->id);
    ids->push_back(c->dn);
  }
}

ObjectIndexer::ObjectIndexer(rocksdb::DB* db,
                             rocksdb::ColumnFamilyHandle* index_cf,
                             rocksdb::ColumnFamilyHandle* meta_cf,
                             std::uint64_t through)
    : db_(db), index_cf_(index_cf), meta_cf_(meta_cf), through_(through) {
  thread_ = std::thread([this] { Loop(); });
}

ObjectIndexer::~ObjectIndexer() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
  }
  work_.notify_all();
  thread_.join();
}

Status ObjectIndexer::Enqueue(std::uint64_t from, std::uint64_t through,
                              std::vector<std::string> keys) {
  std::unique_lock<std::mutex> l(mu_);
  done_.wait(l, [&] {
    return !failed_.ok() || queued_keys_ == 0 ||
           queued_keys_ + keys.size() <= kMaxQueuedKeys;
  });
  if (!failed_.ok()) return failed_;
  queued_keys_ += keys.size();
  queue_.push_back(Chunk{from, through, std::move(keys)});
  l.unlock();
  work_.notify_one();
  return Status::Ok();
}

std::uint64_t ObjectIndexer::WaitIdle() {
  std::unique_lock<std::mutex> l(mu_);
  done_.wait(l, [&] { return queue_.empty() && !writing_; });
  return through_;
}

void ObjectIndexer::Loop() {
  std::unique_lock<std::mutex> l(mu_);
  for (;;) {
    work_.wait(l, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and all written
    Chunk chunk = std::move(queue_.front());
    queue_.pop_front();
    writing_ = true;
    // Past a gap the keys are written but the watermark stays put.
    const bool contiguous = chunk.from == through_ + 1;
    const bool write = failed_.ok();
    l.unlock();
    Status s = write ? Write(&chunk, contiguous) : Status::Ok();
    l.lock();
    writing_ = false;
    queued_keys_ -= chunk.keys.size();
    if (!s.ok() && failed_.ok())
      failed_ = s.WithContext("writing the object index");
    if (failed_.ok() && contiguous) through_ = chunk.through;
    done_.notify_all();
  }
}

Status ObjectIndexer::Write(Chunk* chunk, bool advance) {
  // In the order given: the index's memtable hashes on the object (no skip
  // list to walk in key order), and one object's keys come in sequence order.
  rocksdb::WriteOptions wo;  // the WAL, not synced: a lost tail is rebuilt
  rocksdb::WriteBatch batch;
  const std::size_t n = chunk->keys.size();
  for (std::size_t start = 0;; start += kKeysPerWrite) {
    const std::size_t end = std::min(n, start + kKeysPerWrite);
    batch.Clear();
    for (std::size_t i = start; i < end; ++i) {
      rocksdb::Status s =
          batch.Put(index_cf_, chunk->keys[i], rocksdb::Slice());
      if (!s.ok()) return Status::IOError(s.ToString());  // never: in memory
    }
    // The watermark goes with the last slice: all keys up to it are in.
    if (end == n && advance) {
      rocksdb::Status s =
          batch.Put(meta_cf_, kMetaIndexThrough, BigEndian64(chunk->through));
      if (!s.ok()) return Status::IOError(s.ToString());  // never: in memory
    }
    rocksdb::Status s = WriteToRocksDb(db_, wo, &batch);
    if (!s.ok()) {
      const std::string msg = s.ToString();
      return Status::IOError(msg + IoHint(msg));
    }
    if (end == n) return Status::Ok();
  }
}

}  // namespace dirledger

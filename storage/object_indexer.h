// ObjectIndexer: writes the log's object index (the `by_object` column
// family: lower(id) \0 seq -> "") on a thread of its own, after the events
// it indexes are committed, so the append path does not pay for inserting
// index keys spread all over the key space (about a third of an append's
// cost, measured by tools/bench/append_bench).
//
// The index is derived data: every key can be computed again from the
// events and decisions in the log. Each batch of keys is written together
// with the index's watermark (meta "index_through": the last sequence whose
// keys are all written), so after a crash the index is complete up to the
// watermark and EventLog::Open indexes the rest again from the log.
//
// Thread safety: Enqueue from one writer at a time; WaitIdle from any
// thread.
#ifndef DIRLEDGER_STORAGE_OBJECT_INDEXER_H_
#define DIRLEDGER_STORAGE_OBJECT_INDEXER_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "codecs/event.h"
#include "codecs/status.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class SliceTransform;
}  // namespace rocksdb

namespace dirledger {

// meta key of the index watermark (big-endian u64).
inline constexpr char kMetaIndexThrough[] = "index_through";

// The by_object key of `id` (compared case-insensitively) at `seq`.
std::string ObjectIndexKey(std::string_view id, std::uint64_t seq);

// A readable form of a by_object key: `<id> at sequence <seq>`.
std::string DescribeObjectIndexKey(std::string_view key);

// The prefix of a by_object key that names its object (the key without its
// sequence). The index's memtable hashes on it: an insert touches one
// object's short list instead of searching a skip list of every key, and a
// lookup (a scan of one object's keys) reads that list.
std::shared_ptr<const rocksdb::SliceTransform> ObjectIndexPrefix();

// Appends the keys of `seq` for `ids` to *keys, each id once whatever its
// case; empty ids are skipped. Reorders `ids`.
void AppendObjectIndexKeys(std::uint64_t seq,
                           std::vector<std::string_view>* ids,
                           std::vector<std::string>* keys);

// Appends the keys an event appended with `object_ids` is indexed under:
// each of those ids and, for an observed change, the object's stable id.
void AppendAddedEventKeys(const Event& event,
                          const std::vector<std::string>& object_ids,
                          std::vector<std::string>* keys);

// The ids a stored event is indexed under when the index is rebuilt from
// the log: its decision's object ids and, for an observed change, the
// object's stable id and DN. (At append time the engine leaves out a DN its
// object already had; a rebuilt stretch of the index lists those events
// under the DN too.)
void ObjectIndexIds(const Event& event, const Decision* decision,
                    std::vector<std::string_view>* ids);

class ObjectIndexer {
 public:
  // Starts the thread. `through` is the watermark stored in the log.
  ObjectIndexer(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* index_cf,
                rocksdb::ColumnFamilyHandle* meta_cf, std::uint64_t through);
  // Writes what is queued, then stops the thread.
  ~ObjectIndexer();
  ObjectIndexer(const ObjectIndexer&) = delete;
  ObjectIndexer& operator=(const ObjectIndexer&) = delete;

  // Queues the keys of the events `from`..`through`. Blocks while too much
  // is queued, so a writer faster than the index waits instead of filling
  // memory. Returns the status of the index writes so far: a failed write
  // stops the indexer (the next open indexes from the watermark again).
  // The watermark only moves over contiguous sequences: after a gap (a
  // stretch the log could not be read for) it stays below it.
  Status Enqueue(std::uint64_t from, std::uint64_t through,
                 std::vector<std::string> keys);

  // Waits until nothing is queued or being written; returns the watermark
  // then (the last sequence whose keys are all written).
  std::uint64_t WaitIdle();

 private:
  struct Chunk {
    std::uint64_t from = 0;
    std::uint64_t through = 0;
    std::vector<std::string> keys;
  };
  void Loop();
  // Writes the chunk's keys, and the watermark when `advance`.
  Status Write(Chunk* chunk, bool advance);

  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* index_cf_;
  rocksdb::ColumnFamilyHandle* meta_cf_;

  mutable std::mutex mu_;
  std::condition_variable work_;  // a chunk queued, or stopping
  std::condition_variable done_;  // a chunk written, or failed
  std::deque<Chunk> queue_;
  std::size_t queued_keys_ = 0;
  std::uint64_t through_ = 0;
  bool writing_ = false;
  Status failed_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace dirledger

#endif  // DIRLEDGER_STORAGE_OBJECT_INDEXER_H_

#include "storage/record_read_ahead.h"

#include <deque>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "codecs/mutex.h"
#include "codecs/thread_annotations.h"

namespace dirledger {
namespace {

constexpr std::size_t kBatchRecords = 1000;
constexpr std::size_t kBatchBytes = 4u << 20;
constexpr std::size_t kBatchesAhead = 3;

// Records copied out of the log: their bytes back to back, and where each
// record's parts are.
struct Batch {
  struct Record {
    std::uint64_t seq = 0;
    std::size_t event_at = 0, event_size = 0;
    std::size_t decision_at = 0, decision_size = 0;
    bool decided = false;
  };
  std::string bytes;
  std::vector<Record> records;

  void Clear() {
    bytes.clear();
    records.clear();
  }
  bool Full() const {
    return records.size() >= kBatchRecords || bytes.size() >= kBatchBytes;
  }
};

// The batches between the two threads, and the recycled ones.
class Channel {
 public:
  // Reader side. Waits while kBatchesAhead batches are queued; false when
  // the consumer has stopped (the batch is dropped).
  bool Push(Batch&& batch) EXCLUDES(mu_) {
    MutexLock l(&mu_);
    while (queued_.size() >= kBatchesAhead && !stopped_) space_.Wait();
    if (stopped_) return false;
    queued_.push_back(std::move(batch));
    ready_.Signal();
    return true;
  }
  // A cleared batch to fill, reusing a consumed one's buffers.
  Batch Recycled() EXCLUDES(mu_) {
    MutexLock l(&mu_);
    if (free_.empty()) return Batch();
    Batch b = std::move(free_.back());
    free_.pop_back();
    return b;
  }
  void Finish(Status s) EXCLUDES(mu_) {
    MutexLock l(&mu_);
    finished_ = true;
    status_ = std::move(s);
    ready_.Signal();
  }

  // Consumer side. The next batch; false after the last, with the
  // reader's status in *s.
  bool Pop(Batch* batch, Status* s) EXCLUDES(mu_) {
    MutexLock l(&mu_);
    while (queued_.empty() && !finished_) ready_.Wait();
    if (queued_.empty()) {
      *s = status_;
      return false;
    }
    *batch = std::move(queued_.front());
    queued_.pop_front();
    space_.Signal();
    return true;
  }
  void Return(Batch&& batch) EXCLUDES(mu_) {
    batch.Clear();
    MutexLock l(&mu_);
    free_.push_back(std::move(batch));
  }
  void Stop() EXCLUDES(mu_) {
    MutexLock l(&mu_);
    stopped_ = true;
    space_.SignalAll();
  }

 private:
  Mutex mu_;
  CondVar ready_{&mu_};
  CondVar space_{&mu_};
  std::deque<Batch> queued_ GUARDED_BY(mu_);
  std::vector<Batch> free_ GUARDED_BY(mu_);
  bool finished_ GUARDED_BY(mu_) = false;
  bool stopped_ GUARDED_BY(mu_) = false;
  Status status_ GUARDED_BY(mu_);
};

}  // namespace

Status ScanRecordsAhead(const EventLog& log, std::uint64_t from,
                        std::uint64_t to, const EventLog::RecordFn& fn) {
  Channel channel;
  std::thread reader([&] {
    Batch batch = channel.Recycled();
    bool consumer_left = false;
    Status s = log.ScanRecords(from, to,
                               [&](std::uint64_t seq, std::string_view event,
                                   const std::string_view* decision) {
                                 Batch::Record r;
                                 r.seq = seq;
                                 r.event_at = batch.bytes.size();
                                 r.event_size = event.size();
                                 batch.bytes.append(event);
                                 if (decision) {
                                   r.decided = true;
                                   r.decision_at = batch.bytes.size();
                                   r.decision_size = decision->size();
                                   batch.bytes.append(*decision);
                                 }
                                 batch.records.push_back(r);
                                 if (!batch.Full()) return true;
                                 if (!channel.Push(std::move(batch))) {
                                   consumer_left = true;
                                   return false;
                                 }
                                 batch = channel.Recycled();
                                 return true;
                               });
    // The records read before a damaged one reach the consumer first.
    if (!consumer_left && !batch.records.empty())
      (void)channel.Push(std::move(batch));
    channel.Finish(std::move(s));
  });

  Batch batch;
  Status read;
  bool going = true;
  while (going && channel.Pop(&batch, &read)) {
    for (const Batch::Record& r : batch.records) {
      const std::string_view bytes(batch.bytes);
      const std::string_view decision =
          bytes.substr(r.decision_at, r.decision_size);
      if (!fn(r.seq, bytes.substr(r.event_at, r.event_size),
              r.decided ? &decision : nullptr)) {
        going = false;
        break;
      }
    }
    channel.Return(std::move(batch));
  }
  channel.Stop();
  reader.join();
  return going ? read : Status::Ok();
}

}  // namespace dirledger

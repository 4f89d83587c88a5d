// EventLogSink: a SourceSink that appends what a source delivers, with its
// cursor, to the event log in one transaction per delivery, and keeps the
// objects the source reported in memory (rebuilt from the log at start) for
// LookupKnown and present phases. The intake of `dirledger run` without the
// reconciler: what the OpenLDAP benchmark measures until the full engine
// exists.
//
// Thread safety: the source's thread calls the SourceSink methods; the
// observer and RequestStop may be used from another thread.
#ifndef DIRLEDGER_TOOLS_BENCH_EVENT_LOG_SINK_H_
#define DIRLEDGER_TOOLS_BENCH_EVENT_LOG_SINK_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>

#include "engine/source.h"
#include "storage/event_log.h"

namespace dirledger {

class EventLogSink : public SourceSink {
 public:
  // `delete_threshold`: more missing objects than this in a present phase
  // are held (one DeleteHold event) instead of deleted.
  EventLogSink(EventLog* log, std::string source,
               std::uint64_t delete_threshold);

  // Rebuilds the known objects of the source from the log.
  Status Load();

  Status Deliver(std::vector<EventBody> events,
                 const std::optional<std::string>& cookie) override;
  Status EndPresentPhase(std::vector<std::string> present_ids, RefreshPhase end,
                         const std::optional<std::string>& cookie) override;
  Status ForEachKnown(
      const std::function<bool(ObjectKind, std::string_view id,
                               const AttrList& attrs)>& fn) override;
  std::optional<ObjectState> LookupKnown(std::string_view id) override;
  bool StopRequested() const override { return stop_; }

  void RequestStop() { stop_ = true; }
  // Called (on the source's thread) for every change once it is durable.
  void SetObserver(std::function<void(const ObservedChange&)> fn) {
    observer_ = std::move(fn);
  }

  std::uint64_t events() const { return events_; }
  std::uint64_t commits() const { return commits_; }
  // Seconds spent appending to the log (and keeping the known objects).
  double append_s() const { return append_s_; }
  // Commits that stored a cursor (the first marks the end of a refresh).
  std::uint64_t cursor_commits() const { return cursor_commits_; }
  std::size_t known() const { return known_.size(); }

 private:
  void Apply(const EventBody& body);
  Status Append(std::vector<EventBody> events,
                const std::optional<std::string>& cookie);

  EventLog* log_;
  std::string source_;
  std::uint64_t delete_threshold_;
  std::unordered_map<std::string, ObjectState> known_;
  std::atomic<bool> stop_{false};
  std::function<void(const ObservedChange&)> observer_;
  std::uint64_t events_ = 0;
  std::uint64_t commits_ = 0;
  double append_s_ = 0;
  std::atomic<std::uint64_t> cursor_commits_{0};
};

}  // namespace dirledger

#endif  // DIRLEDGER_TOOLS_BENCH_EVENT_LOG_SINK_H_

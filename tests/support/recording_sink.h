// RecordingSink: a SourceSink for tests that records every call it gets, in
// order, and keeps a simple in-memory table of the objects it was told about
// (for LookupKnown and ForEachKnown) and the last stored cookie, as the real
// intake does with the log. EndPresentPhase computes the missing objects the
// way the real sink does and holds them when there are more than the delete
// threshold given here.
//
// Thread safety: every method may be called from any thread (the source runs
// on its own thread while the test polls what was recorded).
#ifndef DIRLEDGER_TESTS_SUPPORT_RECORDING_SINK_H_
#define DIRLEDGER_TESTS_SUPPORT_RECORDING_SINK_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/source.h"

namespace dirledger::test {

class RecordingSink : public SourceSink {
 public:
  struct Call {
    bool present_phase = false;     // EndPresentPhase, else Deliver
    std::vector<EventBody> events;  // Deliver's events; EndPresentPhase: end
    std::optional<std::string> cookie;
    std::vector<std::string> present_ids;  // sorted
    std::vector<std::string> missing;      // sorted; computed by this sink
    bool held = false;                     // missing > delete threshold
  };

  explicit RecordingSink(std::uint64_t delete_threshold =
                             std::numeric_limits<std::uint64_t>::max())
      : delete_threshold_(delete_threshold) {}

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
  void ClearStop() { stop_ = false; }
  // The next Deliver fails with `status` (and records nothing).
  void FailNextDeliver(Status status);

  std::size_t call_count() const;
  std::vector<Call> calls(std::size_t from = 0) const;
  // Every event delivered (and every present phase's end event), in order.
  std::vector<EventBody> events(std::size_t from_call = 0) const;
  std::vector<ObservedChange> changes(std::size_t from_call = 0) const;
  std::vector<ObjectError> errors(std::size_t from_call = 0) const;
  std::vector<RefreshPhase> phases(std::size_t from_call = 0) const;
  std::optional<std::string> cookie() const;
  std::size_t known_count() const;
  std::optional<ObjectState> known(const std::string& id) const;

  // Polls `pred` every 10 ms until it holds or `timeout_s` passes.
  static bool WaitUntil(const std::function<bool()>& pred,
                        double timeout_s = 30);

 private:
  void ApplyLocked(const EventBody& event);

  const std::uint64_t delete_threshold_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<Call> calls_;                   // guarded by mu_
  std::map<std::string, ObjectState> known_;  // guarded by mu_
  std::optional<std::string> cookie_;         // guarded by mu_
  std::optional<Status> fail_next_;           // guarded by mu_
};

}  // namespace dirledger::test

#endif  // DIRLEDGER_TESTS_SUPPORT_RECORDING_SINK_H_

// RecordingSink: a SourceSink for tests and benchmarks that keeps in memory
// what a source gives it, in order, and the table of known objects the real
// sink derives from the log (LookupKnown, ForEachKnown): changes are applied
// to it as the projection would apply them, and EndPresentPhase turns known
// objects not named present into deletes, or holds them all when there are
// more than the delete threshold (the mass-delete guard), like the engine's
// sink.
//
// Thread safety: none; one thread at a time, as sources use sinks.
#ifndef DIRLEDGER_ENGINE_DIRSYNC_RECORDING_SINK_H_
#define DIRLEDGER_ENGINE_DIRSYNC_RECORDING_SINK_H_

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/source.h"

namespace dirledger {

class RecordingSink : public SourceSink {
 public:
  // One call the source made.
  struct Delivery {
    std::vector<EventBody> events;
    std::optional<std::string> cookie;
    bool present_end = false;  // an EndPresentPhase call
    std::vector<std::string> present_ids;
    Status status;  // what the sink answered
  };

  Status Deliver(std::vector<EventBody> events,
                 const std::optional<std::string>& cookie) override;
  Status EndPresentPhase(std::vector<std::string> present_ids, RefreshPhase end,
                         const std::optional<std::string>& cookie) override;
  Status ForEachKnown(const std::function<bool(ObjectKind, std::string_view,
                                               const AttrList&)>& fn) override;
  std::optional<ObjectState> LookupKnown(std::string_view id) override;
  bool StopRequested() const override;

  // More deletes than this in one present phase are held, not applied.
  void set_delete_threshold(std::uint64_t n) { delete_threshold_ = n; }
  // StopRequested() returns what `fn` says (default: false).
  void set_stop(std::function<bool(const RecordingSink&)> fn) {
    stop_ = std::move(fn);
  }
  // Deliver fails with `s` (once) from now on, as a full disk would.
  void FailNextDeliver(Status s) { fail_next_ = std::move(s); }

  const std::vector<Delivery>& deliveries() const { return deliveries_; }
  // Forgets the deliveries (not the known objects nor the cookie).
  void ClearDeliveries() { deliveries_.clear(); }
  // Every event delivered since the last ClearDeliveries, in order.
  std::vector<EventBody> Events() const;
  std::vector<ObservedChange> Changes() const;
  std::vector<ObjectError> Errors() const;
  std::vector<RefreshPhase> Phases() const;
  // The last cursor stored.
  const std::optional<std::string>& cookie() const { return cookie_; }
  const std::map<std::string, ObjectState>& known() const { return known_; }
  // The known object whose DN is `dn` (case-insensitive), if any.
  std::optional<ObjectState> KnownByDn(std::string_view dn) const;
  std::uint64_t held_deletes() const { return held_; }
  std::uint64_t lookups() const { return lookups_; }

 private:
  void Apply(const ObservedChange& c);

  std::vector<Delivery> deliveries_;
  std::map<std::string, ObjectState> known_;  // by id
  std::optional<std::string> cookie_;
  std::uint64_t delete_threshold_ = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t held_ = 0;
  std::uint64_t lookups_ = 0;
  std::function<bool(const RecordingSink&)> stop_;
  std::optional<Status> fail_next_;
};

}  // namespace dirledger

#endif  // DIRLEDGER_ENGINE_DIRSYNC_RECORDING_SINK_H_

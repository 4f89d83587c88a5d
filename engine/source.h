// Source: one side's change feed (syncrepl, DirSync, the mail directory).
// A source turns what its peer reports into events and hands them, with its
// new cursor, to a SourceSink, which appends both in one log write. Sources
// never decide anything; the reconciler does.
//
// Thread safety: a Source is driven by one thread at a time. SourceSink
// methods may be called from that thread.
#ifndef DIRLEDGER_ENGINE_SOURCE_H_
#define DIRLEDGER_ENGINE_SOURCE_H_

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "codecs/event.h"
#include "codecs/projection.h"
#include "codecs/status.h"

namespace dirledger {

class RemainsFinder;

class SourceSink {
 public:
  virtual ~SourceSink() = default;

  // Appends `events` and, when given, the source's new cursor, in one log
  // write, and returns once they are durable (or why not). Events of a
  // refresh are bracketed by RefreshPhase Begin/End events; deletes inside a
  // refresh count against the connector's mass-delete guard, and the sink
  // may defer a cursor until the refresh ends so a held delete is never
  // skipped by a resumed source.
  virtual Status Deliver(std::vector<EventBody> events,
                         const std::optional<std::string>& cookie) = 0;

  // Ends a refresh whose present phase named `present_ids` (stable ids still
  // present). Every object this source reported before and not named here is
  // gone: the sink appends deletes for them, or holds them when there are
  // more than the connector's delete_threshold, and stores `cookie` with
  // them. `end` is the RefreshPhase End event to append with them.
  virtual Status EndPresentPhase(std::vector<std::string> present_ids,
                                 RefreshPhase end,
                                 const std::optional<std::string>& cookie) = 0;

  // The objects this source reported before (for diffing pollers and full
  // passes): visits (kind, id, attrs) of every object the log holds for it.
  virtual Status ForEachKnown(
      const std::function<bool(ObjectKind, std::string_view id,
                               const AttrList& attrs)>& fn) = 0;

  // What the log knows of the object with stable id `id` on this source's
  // side (either kind): its kind, DN and domain. For sources that are told
  // of a delete by id alone (syncrepl deletes carry only the entryUUID).
  virtual std::optional<ObjectState> LookupKnown(std::string_view id) = 0;

  // True once the run loop wants sources to stop (SIGTERM): finish the
  // current batch, then return.
  virtual bool StopRequested() const = 0;
  // The source has delivered everything its peer held when it started (a
  // refresh ended, a first poll is done). Repeats are harmless.
  virtual void CaughtUp() {}
  // The source cannot reach its peer (`why`) and tries again by itself;
  // it is back once it delivers or is caught up again. Called on each
  // failed attempt (alerts count only the first: RunObserver).
  virtual void Unavailable(const Status& why) {}
};

class Source {
 public:
  virtual ~Source() = default;
  // Stable id, used as the cursor key and in events ("corp/syncrepl").
  virtual const std::string& id() const = 0;
  virtual Side side() const = 0;
  // One pass from `cookie` ("" = from the beginning): a syncrepl refreshOnly
  // search, one DirSync pass, one mail poll.
  virtual Status RunOnce(std::string_view cookie, SourceSink* sink) = 0;
  // Runs until sink->StopRequested(): refreshAndPersist, or polling at the
  // configured interval, reconnecting with backoff while the peer is
  // unavailable. Returns OK on stop, or a non-retryable error.
  virtual Status Run(std::string_view cookie, SourceSink* sink) = 0;
  // Tells a delete from an object that left the source's scope
  // (remains_finder.h); null when the source cannot, or need not.
  virtual RemainsFinder* remains_finder() { return nullptr; }
  // Whether a pass costs about what it reports (a change feed read from a
  // cursor), rather than a listing of everything the peer holds: such a
  // source is polled for the echoes of writes in the middle of another
  // source's long pass (RunLoop::RunOnce).
  virtual bool PassIsIncremental() const { return false; }
};

// Appends an empty full refresh (Begin, End) of `source`: what a poller's
// first poll that found nothing delivers, so the log shows the side was
// polled (a rollback to a later point knows it held nothing then).
inline void AppendEmptyRefresh(const std::string& source,
                               std::vector<EventBody>* events) {
  RefreshPhase phase;
  phase.source = source;
  phase.mode = RefreshMode::kFull;
  phase.kind = PhaseKind::kBegin;
  events->emplace_back(phase);
  phase.kind = PhaseKind::kEnd;
  events->emplace_back(phase);
}

}  // namespace dirledger

#endif  // DIRLEDGER_ENGINE_SOURCE_H_

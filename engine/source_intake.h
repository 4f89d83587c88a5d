// SourceIntake: the SourceSink one source delivers into. It forwards events
// and cursors to the Intake and applies the mass-delete guard: deletes seen
// during a refresh (explicit ones and those computed at the end of a present
// phase) are counted per refresh, and when there are more than the
// connector's delete_threshold they are appended as one DeleteHold instead,
// to wait for `dirledger approve` — a provider that sends a partial or empty
// present list cannot wipe the mail side. While deletes of an unfinished
// refresh are buffered, the source's cursor is stored only with them, so a
// crash never skips a delete. Outside refreshes (persist mode) deletes are
// counted over a rolling window with the same threshold — unless the source
// runs as a service with the connector's delete_delay_s (set_delete_delay,
// rules 3): then persist-mode changes, and the deletes of an incremental
// refresh (a DirSync poll) that its own count does not hold, are appended
// stamped with the delay, and the reconciler makes the deletes wait and
// counts them per window (docs/rules.md, "Deletes that wait").
//
// Thread safety: one source thread at a time (as Source requires).
#ifndef DIRLEDGER_ENGINE_SOURCE_INTAKE_H_
#define DIRLEDGER_ENGINE_SOURCE_INTAKE_H_

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <string>

#include "engine/intake.h"
#include "engine/remains_finder.h"
#include "engine/source.h"

namespace dirledger {

struct SourceStats {
  std::uint64_t events = 0;   // appended
  std::uint64_t changes = 0;  // of which observed changes
  std::uint64_t deletes = 0;  // deletes appended
  std::uint64_t held = 0;     // deletes held for approval
  std::uint64_t batches = 0;
};

class SourceIntake : public SourceSink {
 public:
  // Called after every append (for the run loop to schedule intents and
  // show progress).
  using AppendHook = std::function<void(const AppendResult&)>;

  SourceIntake(Intake* intake, std::string source_id, Side side,
               std::string connector, const std::atomic<bool>* stop,
               AppendHook hook = nullptr);

  Status Deliver(std::vector<EventBody> events,
                 const std::optional<std::string>& cookie) override;
  Status EndPresentPhase(std::vector<std::string> present_ids, RefreshPhase end,
                         const std::optional<std::string>& cookie) override;
  Status ForEachKnown(const std::function<bool(ObjectKind, std::string_view,
                                               const AttrList&)>& fn) override;
  // A lookup that cannot be read (a storage error, a record that fails
  // verification) answers nothing, and the next Deliver or EndPresentPhase
  // returns that error instead of appending: the source never goes on as if
  // the object were unknown (a delete dropped, a move out of the scope
  // missed), and its cursor stays where it was.
  std::optional<ObjectState> LookupKnown(std::string_view id) override;
  bool StopRequested() const override;
  // A refresh's end (Deliver, EndPresentPhase) counts as caught up too.
  void CaughtUp() override;
  void Unavailable(const Status& why) override;
  // Asked where the deletes delivered or found gone are, when they left the
  // source's scope rather than the directory (remains_finder.h); null: no
  // one is asked. Outlives the intake.
  void set_remains_finder(RemainsFinder* finder) { remains_finder_ = finder; }
  // Called the first time the source is caught up.
  void set_caught_up_hook(std::function<void()> hook) {
    caught_up_hook_ = std::move(hook);
  }
  // Called every time the source is caught up (a refresh ended, a poll is
  // done), and when it says its peer is unavailable.
  void set_peer_hooks(std::function<void()> contact,
                      std::function<void(const Status&)> unavailable) {
    contact_hook_ = std::move(contact);
    unavailable_hook_ = std::move(unavailable);
  }

  // Called after every append and its hook; an error it returns is
  // returned by the Deliver that appended (the source stops there, its
  // cursor where that append left it). Lets a one-shot pass apply what it
  // decided so far before it takes more.
  void set_after_append(std::function<Status(const AppendResult&)> fn) {
    after_append_ = std::move(fn);
  }

  const SourceStats& stats() const { return stats_; }
  const std::string& source_id() const { return source_id_; }

  // Window for counting persist-mode deletes against the threshold.
  void set_delete_window(std::chrono::seconds w) { window_ = w; }
  // Service mode: deletes wait `seconds` (0: decided at once).
  void set_delete_delay(std::uint32_t seconds) { delete_delay_s_ = seconds; }

 private:
  Status AppendAndCount(std::vector<EventBody> events,
                        const std::optional<std::string>& cookie);
  // Appends `deletes` (or one DeleteHold for them when `counted` deletes,
  // default deletes.size(), exceed the threshold), then `tail`, with the
  // cookie.
  Status Settle(std::vector<EventBody> deletes, std::vector<EventBody> tail,
                const std::optional<std::string>& cookie, std::string_view why,
                std::uint64_t counted = 0);
  // The objects of this source in the projection; a scan that fails is an
  // error, never a smaller count (the threshold would follow it).
  Result<std::uint64_t> KnownCount();
  std::uint64_t Threshold(std::uint64_t known) const;
  // Whether deletes wait (service mode under rules 3, an LDAP connector).
  bool Delays() const;
  // Stamps the changes of `events` (those at `only`, when given) with the
  // delay, and each delete with the source's object count.
  Status StampDelay(std::vector<EventBody>* events,
                    const std::vector<std::size_t>* only = nullptr);

  Intake* intake_;
  std::string source_id_;
  Side side_;
  std::string connector_;
  const std::atomic<bool>* stop_;
  AppendHook hook_;
  std::function<Status(const AppendResult&)> after_append_;
  RemainsFinder* remains_finder_ = nullptr;
  std::function<void()> caught_up_hook_;
  std::function<void()> contact_hook_;
  std::function<void(const Status&)> unavailable_hook_;
  bool caught_up_ = false;
  SourceStats stats_;

  bool in_refresh_ = false;
  RefreshMode refresh_mode_ = RefreshMode::kIncremental;
  Status lookup_error_;  // the first failed LookupKnown (see there)
  std::uint32_t delete_delay_s_ = 0;
  std::vector<EventBody> buffered_deletes_;
  std::optional<std::string> deferred_cookie_;
  std::chrono::seconds window_{60};
  std::deque<std::chrono::steady_clock::time_point> recent_deletes_;
};

}  // namespace dirledger

#endif  // DIRLEDGER_ENGINE_SOURCE_INTAKE_H_

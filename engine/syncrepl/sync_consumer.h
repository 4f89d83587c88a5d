// SyncConsumer: the RFC 4533 consumer logic of the syncrepl source. It
// receives a sync session's messages (SyncHandler) and turns them into
// events for a SourceSink:
//  - entries added or modified become full-image changes (EntryMapper),
//    deletes and syncIdSet deletes become deletes of what the log knows;
//  - each refresh is bracketed by RefreshPhase Begin and End events;
//  - a refresh with a present phase (refreshPresent, a Sync Done with
//    refreshDeletes FALSE, present syncIdSets, or any refresh without a
//    cookie: the initial content is complete) ends in
//    SourceSink::EndPresentPhase with every entryUUID present, so the sink
//    finds what is gone (and guards against mass deletes);
//  - events go to the sink in batches of `batch_size`. Cookies are delivered
//    with the events they cover: during a refresh only at its end (a cookie
//    stored halfway would make a resumed source skip the present phase's
//    deletes), in the persist phase with every batch.
// An entry that left the connector's scope (moved out of the base DNs, lost
// its object class) is reported as a delete when the log knew it; one the
// session saw (it no longer maps) names its DN (ObservedChange::remains_at),
// the others are looked up by the source's RemainsFinder.
//
// Thread safety: one thread, that of the session and the sink.
#ifndef DIRLEDGER_ENGINE_SYNCREPL_SYNC_CONSUMER_H_
#define DIRLEDGER_ENGINE_SYNCREPL_SYNC_CONSUMER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "engine/ldap/ldap_entry.h"
#include "engine/source.h"
#include "engine/syncrepl/entry_mapper.h"
#include "engine/syncrepl/sync_session.h"

typedef struct ldap LDAP;

namespace dirledger {

// What a syncrepl source has seen since it was created.
struct SyncreplStats {
  std::uint64_t refreshes = 0;         // refreshes completed
  std::uint64_t present_phases = 0;    // of which ended in a present phase
  std::uint64_t refresh_required = 0;  // e-syncRefreshRequired received
  std::uint64_t changes = 0;           // add/modify events
  std::uint64_t deletes = 0;           // delete events
  std::uint64_t errors = 0;            // ObjectError events
  std::uint64_t out_of_scope = 0;      // entries skipped: not ours
  std::uint64_t unknown_deletes = 0;   // deletes of objects the log never had
  std::uint64_t batches = 0;           // Deliver calls
  std::uint64_t reconnects = 0;        // sessions after the first
};

struct SyncConsumerOptions {
  std::uint32_t batch_size = 1000;
  EntryReadOptions entry;
};

class SyncConsumer : public SyncHandler {
 public:
  // `ld` decodes the entries; `sink` and `stats` outlive the consumer.
  SyncConsumer(LDAP* ld, const EntryMapper* mapper, SourceSink* sink,
               const SyncConsumerOptions& options, SyncreplStats* stats);

  // A sync search starts from `cookie` ("" = initial content): queues the
  // RefreshPhase Begin event.
  void BeginRefresh(std::string_view cookie);

  Status OnEntry(SyncState state, std::string_view uuid, LDAPMessage* msg,
                 std::string_view cookie) override;
  Status OnIdSet(bool refresh_deletes,
                 const std::vector<std::string_view>& uuids,
                 std::string_view cookie) override;
  Status OnRefreshMarker(const RefreshMarker& marker,
                         std::string_view cookie) override;
  Status OnNewCookie(std::string_view cookie) override;
  Status OnSearchDone(bool refresh_deletes, std::string_view cookie) override;

  // Persist phase: delivers the pending events with `cookie`, or the cookie
  // alone when it moved. No-op while refreshing.
  Status Flush(std::string_view cookie);

  // The server answered e-syncRefreshRequired: closes the refresh that was
  // started (if anything of it was delivered) so a new one can begin.
  Status RefreshRequired();

  // The session ends early (stop, error): delivers what is pending; with the
  // session's `cookie` only outside a refresh.
  Status Abandon(std::string_view cookie);

  bool refreshing() const { return refreshing_; }
  // The cookie stored with the last delivery: where to resume.
  const std::string& delivered_cookie() const { return delivered_cookie_; }

 private:
  std::optional<ObjectState> LookupKnown(const std::string& id);
  // Queues a change, remembering it for LookupKnown until it is delivered.
  void QueueChange(ObservedChange change);
  void Queue(EventBody event);
  Status Deliver(const std::optional<std::string>& cookie);
  Status MaybeDeliver(std::string_view cookie);
  // Queues the delete of `id` when the log knows it; `remains_at`: the DN
  // of an entry that left the scope but not the directory.
  Status DeleteKnown(const std::string& id, std::string_view remains_at = "");
  Status EndRefresh(std::string_view cookie);

  LDAP* ld_;
  const EntryMapper* mapper_;
  SourceSink* sink_;
  SyncConsumerOptions options_;
  SyncreplStats* stats_;

  std::vector<EventBody> pending_;
  // Objects changed by pending events, which the sink does not know yet:
  // id -> index of the latest change in pending_.
  std::unordered_map<std::string, std::size_t> pending_known_;
  std::string delivered_cookie_;
  Status sink_failure_;  // once the sink failed, nothing more is delivered

  bool refreshing_ = false;
  bool full_ = false;           // refresh without a cookie
  bool present_phase_ = false;  // the server used present semantics
  bool delivered_in_refresh_ = false;
  std::uint64_t refresh_entries_ = 0;
  std::unordered_set<std::string> present_;
};

}  // namespace dirledger

#endif  // DIRLEDGER_ENGINE_SYNCREPL_SYNC_CONSUMER_H_

// DirSyncSource: the change feed of an Active Directory connector
// (server_type = "activedirectory"), by the DirSync control.
//
// Each pass is one DirSync search of the whole naming context (DirSync
// cannot search a subtree) for the connector's account and group classes,
// with LDAP_DIRSYNC_INCREMENTAL_VALUES (group members arrive as values added
// and removed) and the show-deleted control (deletes arrive as tombstones),
// from the cursor the log stores. Objects are keyed by objectGUID; scope
// (the account and group base DNs of the domains naming the connector) is
// decided here, per entry (DirSyncEntryMapper). Responses are followed while
// the server sets MoreResults (Windows does; Samba never does).
//
//  - With a usable cursor (an incremental pass) the changes and the new
//    cursor go to the sink in one Deliver call, bracketed by RefreshPhase
//    Begin/End (mode incremental). A pass that returns nothing delivers
//    nothing: the stored cursor still covers everything.
//  - Without one (first run, a cursor of another domain or another search,
//    or a cookie the server rejects) it is a full pass reconciled against
//    the log, reported as a present phase: RefreshPhase Begin (mode
//    present), the objects whose image differs from what the log knows, in
//    batches of the config's batch_size, then SourceSink::EndPresentPhase
//    with every object seen and the new cursor. The sink turns known objects
//    not seen into deletes, under the mass-delete guard, exactly as for a
//    syncrepl present phase.
//
// LDAP_DIRSYNC_OBJECT_SECURITY: without it the bind account needs the
// "Replicating Directory Changes" right on the naming context; with it the
// server returns only what the account may read. By default the source asks
// without, and falls back to it when the server refuses for lack of rights.
//
// Run polls at the connector's polling_interval_s (AD pushes nothing) and
// reconnects with exponential backoff while the DC is unavailable.
//
// Thread safety: one thread at a time (the Source contract).
#ifndef DIRLEDGER_ENGINE_DIRSYNC_DIRSYNC_SOURCE_H_
#define DIRLEDGER_ENGINE_DIRSYNC_DIRSYNC_SOURCE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "codecs/status.h"
#include "engine/dirsync/dirsync_entry.h"
#include "engine/dirsync/dirsync_search.h"
#include "engine/ldap/ldap_connection.h"
#include "engine/source.h"
#include "replay/rules.h"

namespace dirledger {

enum class ObjectSecurity : std::uint8_t {
  kAuto,    // without; with it when the server refuses for lack of rights
  kAlways,  // always LDAP_DIRSYNC_OBJECT_SECURITY
  kNever,   // never (a refusal is an error)
};

struct DirSyncOptions {
  std::string source_id;  // cursor key and event source, "corp/dirsync"
  std::string connector;  // a connector of `rules`
  std::shared_ptr<const RuleSet> rules;
  LdapConnectOptions ldap;
  ObjectSecurity object_security = ObjectSecurity::kAuto;
  std::size_t batch_size = 1000;  // events per Deliver during a full pass
  double polling_interval_s = 30;
  double initial_backoff_s = 1;
  double max_backoff_s = 60;
  // Waits `seconds`, returning early once sink.StopRequested(). Default:
  // sleeps in short slices. Tests inject their own.
  std::function<void(double seconds, const SourceSink& sink)> wait;
};

// The options of connector `connector`: its URIs, bind DN and password
// (read now from its file or environment), TLS settings, timeout, polling
// interval, and the config's batch size. InvalidArgument when there is no
// such connector or it is not of server_type "activedirectory".
Result<DirSyncOptions> DirSyncOptionsFor(std::shared_ptr<const RuleSet> rules,
                                         std::string_view connector);

// What the last pass did (for status output and tests).
struct DirSyncPassReport {
  bool full = false;        // a full pass, reported as a present phase
  std::string full_reason;  // why it was full
  bool object_security = false;
  std::uint64_t responses = 0;  // DirSync search requests (MoreResults)
  std::uint64_t entries = 0;    // entries the server returned
  std::uint64_t changes = 0;    // ObservedChange events delivered
  std::uint64_t errors = 0;     // ObjectError events delivered
  std::uint64_t unchanged = 0;  // full pass: objects equal to the log's image
  std::uint64_t fetched = 0;    // objects read whole (partial and unknown)
  std::uint64_t present = 0;    // full pass: objects present
  bool delivered = false;       // anything (events or cursor) delivered
  std::string cursor;           // the cursor to resume from after the pass
};

class DirSyncSource : public Source {
 public:
  // REQUIRES: options.rules has the connector options.connector.
  explicit DirSyncSource(DirSyncOptions options);
  ~DirSyncSource() override;

  const std::string& id() const override { return options_.source_id; }
  Side side() const override { return Side::kLdap; }
  Status RunOnce(std::string_view cookie, SourceSink* sink) override;
  Status Run(std::string_view cookie, SourceSink* sink) override;

  const DirSyncPassReport& last_pass() const { return report_; }

 private:
  Status Connect();
  // A pass; once more on a fresh connection if the kept one was dead.
  Status Pass(std::string_view stored, SourceSink* sink);
  Status PassOnce(std::string_view stored, SourceSink* sink);
  // *rejected: the server refused `cookie` itself (a full pass follows).
  Status Incremental(const std::string& cookie, SourceSink* sink,
                     bool* rejected, std::string* why);
  Status Full(SourceSink* sink);
  // Runs one search request, handling the OBJECT_SECURITY fallback.
  DirSyncSearchResult Search(
      const std::string& cookie,
      const std::function<Status(DirSyncEntry)>& on_entry);
  std::string CursorFor(const std::string& server_cookie) const;
  void Wait(double seconds, const SourceSink& sink) const;

  DirSyncOptions options_;
  DirSyncEntryMapper mapper_;
  std::vector<std::string> attributes_;
  std::string filter_;
  std::unique_ptr<LdapConnection> conn_;
  NamingContext nc_;
  std::uint64_t fingerprint_ = 0;
  bool object_security_ = false;
  DirSyncPassReport report_;
};

}  // namespace dirledger

#endif  // DIRLEDGER_ENGINE_DIRSYNC_DIRSYNC_SOURCE_H_

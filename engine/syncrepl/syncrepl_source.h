// SyncreplSource: an OpenLDAP connector's change feed, by RFC 4533 syncrepl
// (libldap's ldap_sync_* API, see sync_session.h). RunOnce is one
// refreshOnly pass; Run is refreshAndPersist until the sink asks to stop,
// reconnecting with exponential backoff while the server is unavailable.
//
// The search: base = the connector's search base, filter = the object
// classes of its attribute map (groups only with group_sync), attributes =
// the map's attributes plus entryUUID (never userPassword). Objects are keyed
// by entryUUID, never by DN. Each lookup is bounded by the connector's
// timeout_s: connecting and binding, and every wait for the next message
// while a refresh runs (a silent persist phase is normal); a lookup over it
// is abandoned, logged, and retried (by Run forever with backoff, by RunOnce
// `once_attempts` times). e-syncRefreshRequired restarts the refresh without
// a cookie (RFC 4533 section 3.8); its present phase reconciles.
// sync_consumer.h describes the events and when cookies are delivered. A
// delete is looked up outside the base (remains_finder()) before it is
// logged: a move out of the scope is told from a delete.
//
// Thread safety: one thread at a time (Source's contract).
#ifndef DIRLEDGER_ENGINE_SYNCREPL_SYNCREPL_SOURCE_H_
#define DIRLEDGER_ENGINE_SYNCREPL_SYNCREPL_SOURCE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "engine/ldap/ldap_connection.h"
#include "engine/source.h"
#include "engine/syncrepl/entry_mapper.h"
#include "engine/syncrepl/ldap_remains_finder.h"
#include "engine/syncrepl/sync_consumer.h"
#include "engine/syncrepl/sync_session.h"
#include "replay/rules.h"

namespace dirledger {

struct SyncreplOptions {
  std::uint32_t batch_size = 0;         // 0: the config's batch_size
  double backoff_initial_s = 1;         // first reconnect delay
  double backoff_max_s = 60;            // longest reconnect delay
  int once_attempts = 3;                // RunOnce: tries when unavailable
  std::size_t max_value_bytes = 65536;  // longer values: ObjectError
  double poll_interval_s = 0.2;         // how often a stop is checked
  int max_full_restarts = 3;            // e-syncRefreshRequired in a row
  // Called after each successful bind, before the sync search (tests use it
  // to make the server hang at that moment).
  std::function<void(LdapConnection&)> after_bind;
};

class SyncreplSource : public Source {
 public:
  // Errors name the connector: unknown, not OpenLDAP, serving no domain, or
  // a map that asks for a password attribute.
  static Result<std::unique_ptr<SyncreplSource>> Create(
      std::shared_ptr<const RuleSet> rules, std::string_view connector,
      SyncreplOptions options = {});

  const std::string& id() const override { return id_; }
  Side side() const override { return Side::kLdap; }
  Status RunOnce(std::string_view cookie, SourceSink* sink) override;
  Status Run(std::string_view cookie, SourceSink* sink) override;

  // Looks the deletes syncprov reports up outside the base: an entry moved
  // out of it, or out of the filter, still exists (ldap_remains_finder.h).
  RemainsFinder* remains_finder() override { return &remains_; }

  const SyncreplStats& stats() const { return stats_; }
  // The search the source sends (for tests and the docs).
  const SyncSearch& search() const { return search_; }

 private:
  SyncreplSource(std::shared_ptr<const RuleSet> rules,
                 const ConnectorRules& connector, SyncreplOptions options);

  // A bound connection (Open), counted and logged as the sync search's.
  Result<std::unique_ptr<LdapConnection>> Connect();
  Result<std::unique_ptr<LdapConnection>> Open();
  // One connection's worth of syncing from *resume (updated as cookies are
  // delivered). OK when a refreshOnly pass completed or a stop was asked.
  Status RunSession(LdapConnection* conn, SyncMode mode, std::string* resume,
                    SourceSink* sink);
  void LogRefresh(const SyncreplStats& before) const;

  std::shared_ptr<const RuleSet> rules_;
  const ConnectorConfig& config_;
  SyncreplOptions options_;
  std::string id_;
  EntryMapper mapper_;
  SyncSearch search_;
  SyncConsumerOptions consumer_options_;
  SyncreplStats stats_;
  bool connected_before_ = false;
  LdapRemainsFinder remains_;
};

}  // namespace dirledger

#endif  // DIRLEDGER_ENGINE_SYNCREPL_SYNCREPL_SOURCE_H_

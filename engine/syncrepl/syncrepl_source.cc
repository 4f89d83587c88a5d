#include "engine/syncrepl/syncrepl_source.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "engine/ldap/backoff.h"
#include "engine/ldap/ldap_filter.h"
#include "engine/secrets.h"

namespace dirledger {
namespace {

using SteadyClock = std::chrono::steady_clock;

std::string Seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", s);
  return buf;
}

// A status message for the log, whose lines already name the source.
std::string_view Text(const Status& st, const std::string& id) {
  std::string_view m = st.message();
  if (m.substr(0, id.size() + 2) == id + ": ") m.remove_prefix(id.size() + 2);
  return m;
}

}  // namespace

Result<std::unique_ptr<SyncreplSource>> SyncreplSource::Create(
    std::shared_ptr<const RuleSet> rules, std::string_view connector,
    SyncreplOptions options) {
  const ConnectorRules* c = rules->connector(connector);
  const std::string what = "connector \"" + std::string(connector) + "\"";
  if (!c) return Status::InvalidArgument("no " + what + " in the config");
  if (c->config.server_type != ServerType::kOpenLdap)
    return Status::InvalidArgument(
        what + " is " + std::string(ServerTypeName(c->config.server_type)) +
        "; syncrepl reads OpenLDAP servers only");
  if (c->domains.empty() && c->config.search_base.empty())
    return Status::InvalidArgument(
        what +
        " serves no domain (no [[domain]] names it) and has no "
        "search_base: there is nothing to sync");
  for (const std::string& a : c->map.RequestedAttributes())
    if (IsSecretAttribute(a, c->config.secret_attributes))
      return Status::InvalidArgument(
          what + ": the attribute map asks for " + a +
          ", which dirledger never reads; map the field to another attribute");
  return std::unique_ptr<SyncreplSource>(
      new SyncreplSource(std::move(rules), *c, options));
}

SyncreplSource::SyncreplSource(std::shared_ptr<const RuleSet> rules,
                               const ConnectorRules& connector,
                               SyncreplOptions options)
    : rules_(std::move(rules)),
      config_(connector.config),
      options_(options),
      id_(connector.config.name + "/syncrepl"),
      mapper_(rules_, connector.config.name, id_),
      remains_([this] { return Open(); }, connector.search_base, id_) {
  const AttributeMap& map = connector.map;
  std::vector<std::string> classes = map.account.object_classes;
  std::vector<std::string> excluded = map.account.excluded_classes;
  if (config_.group_sync) {
    classes.insert(classes.end(), map.group.object_classes.begin(),
                   map.group.object_classes.end());
    excluded.insert(excluded.end(), map.group.excluded_classes.begin(),
                    map.group.excluded_classes.end());
  }
  search_.base = connector.search_base;
  search_.filter = ObjectClassFilter(classes, excluded);
  // The whole entry: every user attribute ("*"; secrets are dropped unread
  // by the entry reader), the mapped ones by name too (a map may name an
  // operational attribute), and the entry's stable id.
  const std::vector<std::string> mapped = map.RequestedAttributes();
  search_.attributes = {"*"};
  search_.attributes.insert(search_.attributes.end(), mapped.begin(),
                            mapped.end());
  search_.attributes.push_back("entryUUID");
  if (options_.batch_size == 0)
    options_.batch_size = rules_->config().batch_size;
  consumer_options_.batch_size = options_.batch_size;
  consumer_options_.entry.require_utf8 = true;
  consumer_options_.entry.max_value_bytes = options_.max_value_bytes;
  // The mapped attributes must be valid (the entry is refused otherwise);
  // the others are kept as the server sent them.
  consumer_options_.entry.checked_attributes = mapped;
  consumer_options_.entry.checked_attributes.push_back("entryUUID");
  consumer_options_.entry.secret_attributes = config_.secret_attributes;
}

Result<std::unique_ptr<LdapConnection>> SyncreplSource::Open() {
  const std::string what = "connector \"" + config_.name + "\"";
  Result<Secret> password =
      ReadSecret(rules_->config(), config_.bind_password_file,
                 config_.bind_password_env, what + " bind password");
  if (!password.ok()) return password.status();
  LdapConnectOptions o;
  o.uris = config_.uris;
  o.bind_dn = config_.bind_dn;
  o.password = std::move(password).value();
  o.timeout_s = config_.timeout_s;
  o.start_tls = config_.start_tls;
  o.ca_file =
      config_.ca_file.empty() ? "" : rules_->config().Resolve(config_.ca_file);
  o.tls_verify = config_.tls_verify;
  o.what = what;
  return LdapConnection::Connect(o);
}

Result<std::unique_ptr<LdapConnection>> SyncreplSource::Connect() {
  auto conn = Open();
  if (conn.ok()) {
    if (connected_before_) ++stats_.reconnects;
    connected_before_ = true;
    spdlog::info("[{}] connected to {} as \"{}\"", id_, (*conn)->uri(),
                 config_.bind_dn);
    if (options_.after_bind) options_.after_bind(**conn);
  }
  return conn;
}

void SyncreplSource::LogRefresh(const SyncreplStats& before) const {
  spdlog::info(
      "[{}] refresh done: {} changes, {} deletes, {} invalid entries, {} out "
      "of scope{}",
      id_, stats_.changes - before.changes, stats_.deletes - before.deletes,
      stats_.errors - before.errors, stats_.out_of_scope - before.out_of_scope,
      stats_.present_phases > before.present_phases
          ? "; ended in a present phase"
          : "");
}

Status SyncreplSource::RunSession(LdapConnection* conn, SyncMode mode,
                                  std::string* resume, SourceSink* sink) {
  const auto timeout = std::chrono::duration<double>(config_.timeout_s);
  for (int full_restarts = 0;; ++full_restarts) {
    SyncConsumer consumer(conn->handle(), &mapper_, sink, consumer_options_,
                          &stats_);
    SyncSession session(conn, &consumer);
    SyncSearch search = search_;
    search.mode = mode;
    search.cookie = *resume;
    consumer.BeginRefresh(*resume);
    DIRLEDGER_RETURN_IF_ERROR(session.Start(search));
    const SyncreplStats before = stats_;
    auto last_message = SteadyClock::now();
    bool restart = false;
    while (!restart) {
      if (sink->StopRequested()) {
        Status st = consumer.Abandon(session.cookie());
        session.Abandon();
        *resume = consumer.delivered_cookie();
        if (!st.ok()) return st;
        if (mode == SyncMode::kRefreshOnly && consumer.refreshing())
          return Status::Aborted(id_ + ": stopped before the refresh from " +
                                 conn->uri() + " completed");
        return Status::Ok();
      }
      const bool was_refreshing = consumer.refreshing();
      Result<PollResult> r = session.Poll(
          options_.poll_interval_s, static_cast<int>(options_.batch_size));
      if (!r.ok()) {
        const Status& err = r.status();
        // A provider restored from an older backup, or emptied, refuses
        // our cookie ("consumer state is newer than provider!", "consumer
        // has state info but provider doesn't!").
        const bool provider_lost_state =
            err.message().find("newer than provider") != std::string::npos ||
            err.message().find("but provider doesn't") != std::string::npos;
        if (provider_lost_state && !resume->empty() &&
            full_restarts < options_.max_full_restarts) {
          spdlog::error(
              "[{}] {}; the provider's state is older than the stored "
              "cookie (restored from a backup, or emptied?): refreshing the "
              "whole content, whose present phase reconciles",
              id_, Text(err, id_));
          DIRLEDGER_RETURN_IF_ERROR(consumer.RefreshRequired());
          resume->clear();
          restart = true;
          continue;
        }
        Status st = consumer.Abandon(session.cookie());
        *resume = consumer.delivered_cookie();
        return st.ok() ? err : st;
      }
      const auto now = SteadyClock::now();
      if (r->messages > 0) {
        last_message = now;
      } else if (consumer.refreshing() && now - last_message > timeout) {
        session.Abandon();
        Status st = consumer.Abandon(session.cookie());
        *resume = consumer.delivered_cookie();
        if (!st.ok()) return st;
        return Status::Timeout(
            id_ + ": refresh from " + conn->uri() + ": no message within " +
            Seconds(config_.timeout_s) + " s (timeout_s); search abandoned");
      }
      if (r->refresh_required) {
        DIRLEDGER_RETURN_IF_ERROR(consumer.RefreshRequired());
        if (full_restarts >= options_.max_full_restarts)
          return Status::IOError(
              id_ + ": " + conn->uri() +
              " keeps answering e-syncRefreshRequired, even to a search "
              "without cookie");
        spdlog::warn(
            "[{}] {} requires a full refresh (e-syncRefreshRequired): "
            "restarting without cookie",
            id_, conn->uri());
        resume->clear();
        restart = true;
        continue;
      }
      if (!consumer.refreshing()) {
        if (was_refreshing) LogRefresh(before);
        DIRLEDGER_RETURN_IF_ERROR(consumer.Flush(session.cookie()));
      }
      *resume = consumer.delivered_cookie();
      if (r->ended) {
        if (mode == SyncMode::kRefreshOnly) return Status::Ok();
        return Status::Unavailable(id_ + ": " + conn->uri() +
                                   " ended the persistent sync search");
      }
    }
  }
}

Status SyncreplSource::RunOnce(std::string_view cookie, SourceSink* sink) {
  std::string resume(cookie);
  Backoff backoff(options_.backoff_initial_s, options_.backoff_max_s);
  const int attempts = std::max(1, options_.once_attempts);
  Status last;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    auto conn = Connect();
    if (conn.ok()) {
      last = RunSession(conn->get(), SyncMode::kRefreshOnly, &resume, sink);
      if (last.ok()) return last;
    } else {
      last = conn.status();
    }
    if (!last.retryable() || attempt == attempts) break;
    const double delay = backoff.Next();
    spdlog::warn("[{}] {} (attempt {} of {}); retrying in {} s", id_,
                 Text(last, id_), attempt, attempts, Seconds(delay));
    if (!SleepUnless(delay, [&] { return sink->StopRequested(); }))
      return Status::Aborted(
          id_ + ": stopped while waiting to retry: " + last.message());
  }
  spdlog::error("[{}] {}", id_, Text(last, id_));
  return last;
}

Status SyncreplSource::Run(std::string_view cookie, SourceSink* sink) {
  std::string resume(cookie);
  Backoff backoff(options_.backoff_initial_s, options_.backoff_max_s);
  while (!sink->StopRequested()) {
    const auto started = SteadyClock::now();
    Status st;
    auto conn = Connect();
    if (conn.ok()) {
      st = RunSession(conn->get(), SyncMode::kRefreshAndPersist, &resume, sink);
      if (st.ok()) return st;  // stopped
      // A session that worked for a while starts the backoff over.
      if (SteadyClock::now() - started > std::chrono::seconds(60))
        backoff.Reset();
    } else {
      st = conn.status();
    }
    if (!st.retryable()) {
      spdlog::error("[{}] {}", id_, Text(st, id_));
      return st;
    }
    sink->Unavailable(st);
    const double delay = backoff.Next();
    spdlog::warn("[{}] {}; reconnecting in {} s", id_, Text(st, id_),
                 Seconds(delay));
    sink->Unavailable(st);
    if (!SleepUnless(delay, [&] { return sink->StopRequested(); })) break;
  }
  return Status::Ok();
}

}  // namespace dirledger

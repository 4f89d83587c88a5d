#include "engine/dirsync/dirsync_source.h"

#include <ldap.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <utility>

#include "engine/dirsync/dirsync_cursor.h"
#include "engine/secrets.h"

namespace dirledger {
namespace {

// Whether two attribute lists hold the same values (names compared
// case-insensitively); both canonical.
bool SameAttrs(const AttrList& a, const AttrList& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!EqualsIgnoreCase(a[i].name, b[i].name) || a[i].values != b[i].values)
      return false;
  return true;
}

// The image a full pass reports equals what the log knows.
bool Unchanged(const ObservedChange& c, const std::optional<ObjectState>& k) {
  if (!k || k->kind != c.kind || k->dn != c.dn || k->domain != c.domain)
    return false;
  AttrList known = k->attrs;
  CanonicalizeAttrs(&known);
  DropEmptyAttrs(&known);
  return SameAttrs(known, c.attrs);
}

RefreshPhase Phase(const DirSyncOptions& o, PhaseKind kind, RefreshMode mode) {
  RefreshPhase p;
  p.source = o.source_id;
  p.connector = o.connector;
  p.kind = kind;
  p.mode = mode;
  return p;
}

}  // namespace

Result<DirSyncOptions> DirSyncOptionsFor(std::shared_ptr<const RuleSet> rules,
                                         std::string_view connector) {
  const ConnectorRules* c = rules->connector(connector);
  if (!c)
    return Status::InvalidArgument("no connector named \"" +
                                   std::string(connector) + "\"");
  const ConnectorConfig& cc = c->config;
  const std::string what = "connector \"" + cc.name + "\"";
  if (cc.server_type != ServerType::kActiveDirectory)
    return Status::InvalidArgument(
        what + ": DirSync needs server_type = \"activedirectory\" (it is \"" +
        std::string(ServerTypeName(cc.server_type)) + "\")");
  Result<Secret> password =
      ReadSecret(rules->config(), cc.bind_password_file, cc.bind_password_env,
                 what + " bind password");
  if (!password.ok()) return password.status();
  DirSyncOptions o;
  o.source_id = cc.name + "/dirsync";
  o.connector = cc.name;
  o.ldap.uris = cc.uris;
  o.ldap.bind_dn = cc.bind_dn;
  o.ldap.password = std::move(password).value();
  o.ldap.timeout_s = cc.timeout_s;
  o.ldap.start_tls = cc.start_tls;
  o.ldap.ca_file =
      cc.ca_file.empty() ? "" : rules->config().Resolve(cc.ca_file);
  o.ldap.tls_verify = cc.tls_verify;
  o.ldap.what = what;
  o.polling_interval_s = cc.polling_interval_s;
  o.batch_size = std::max<std::size_t>(1, rules->config().batch_size);
  o.rules = std::move(rules);
  return o;
}

DirSyncSource::DirSyncSource(DirSyncOptions options)
    : options_(std::move(options)),
      mapper_(options_.rules, options_.connector, options_.source_id) {
  const ConnectorRules& c = mapper_.connector();
  attributes_ = DirSyncSearchAttributes(c.map, c.config.group_sync);
  filter_ = DirSyncSearchFilter(c.map, c.config.group_sync);
  object_security_ = options_.object_security == ObjectSecurity::kAlways;
  if (options_.batch_size == 0) options_.batch_size = 1;
}

DirSyncSource::~DirSyncSource() = default;

Status DirSyncSource::Connect() {
  if (conn_) return Status::Ok();
  Result<std::unique_ptr<LdapConnection>> c =
      LdapConnection::Connect(options_.ldap);
  if (!c.ok()) return c.status();
  std::unique_ptr<LdapConnection> conn = std::move(c).value();
  Result<NamingContext> nc =
      FindNamingContext(conn.get(), mapper_.connector().search_base);
  if (!nc.ok()) return nc.status().WithContext(options_.ldap.what);
  nc_ = std::move(nc).value();
  std::string scope;
  for (const DomainScope& d : mapper_.connector().domains)
    scope += d.domain + "\n" + d.account_base + "\n" + d.group_base + "\n";
  fingerprint_ = SearchFingerprint(nc_.dn, filter_, attributes_, scope);
  conn_ = std::move(conn);
  return Status::Ok();
}

std::string DirSyncSource::CursorFor(const std::string& server_cookie) const {
  return EncodeDirSyncCursor({nc_.guid, fingerprint_, server_cookie});
}

DirSyncSearchResult DirSyncSource::Search(
    const std::string& cookie,
    const std::function<Status(DirSyncEntry)>& on_entry) {
  for (;;) {
    DirSyncRequest req;
    req.base = nc_.dn;
    req.filter = filter_;
    req.attributes = attributes_;
    req.flags = kDirSyncIncrementalValues |
                (object_security_ ? kDirSyncObjectSecurity : 0);
    req.cookie = cookie;
    ++report_.responses;
    DirSyncSearchResult r = RunDirSyncSearch(conn_.get(), req, on_entry);
    report_.entries += r.entries;
    // Without "Replicating Directory Changes" the DC refuses a DirSync
    // search unless it is asked to apply the account's own rights.
    if (!r.status.ok() && r.ldap_code == LDAP_INSUFFICIENT_ACCESS &&
        r.entries == 0 && !object_security_ &&
        options_.object_security == ObjectSecurity::kAuto) {
      spdlog::info(
          "{}: {}; retrying with LDAP_DIRSYNC_OBJECT_SECURITY (the bind "
          "account lacks \"Replicating Directory Changes\")",
          options_.source_id, r.status.message());
      object_security_ = true;
      continue;
    }
    report_.object_security = object_security_;
    return r;
  }
}

Status DirSyncSource::Pass(std::string_view stored, SourceSink* sink) {
  const bool reused = conn_ != nullptr;
  Status s = PassOnce(stored, sink);
  // DCs close idle connections (Windows after MaxConnIdleTime, 15 minutes by
  // default) and restart: a kept connection may be dead by the next poll.
  // Reconnect at once, if nothing was delivered yet.
  if (!s.ok() && s.code() == StatusCode::kUnavailable && reused &&
      !report_.delivered) {
    spdlog::info("{}: {}; reconnecting", options_.source_id, s.message());
    conn_.reset();
    s = PassOnce(stored, sink);
  }
  return s;
}

Status DirSyncSource::PassOnce(std::string_view stored, SourceSink* sink) {
  report_ = DirSyncPassReport();
  report_.cursor = std::string(stored);
  DIRLEDGER_RETURN_IF_ERROR(Connect());
  std::string why;
  if (stored.empty()) {
    why = "no stored cursor";
  } else {
    Result<DirSyncCursor> cursor = DecodeDirSyncCursor(stored);
    if (!cursor.ok()) {
      why = cursor.status().message();
    } else if (cursor->nc_guid != nc_.guid) {
      why = "the stored cursor belongs to another naming context (objectGUID " +
            cursor->nc_guid + "; \"" + nc_.dn + "\" on " + conn_->uri() +
            " is " + nc_.guid + ")";
    } else if (cursor->fingerprint != fingerprint_) {
      why =
          "the search changed since the cursor was stored (attribute map "
          "or base DNs)";
    } else {
      bool rejected = false;
      Status s = Incremental(cursor->server_cookie, sink, &rejected, &why);
      if (!rejected) return s;
    }
    spdlog::warn("{}: full pass: {}", options_.source_id, why);
  }
  report_.full_reason = why;
  return Full(sink);
}

Status DirSyncSource::Incremental(const std::string& cookie, SourceSink* sink,
                                  bool* rejected, std::string* why) {
  std::vector<EventBody> events;
  std::vector<DirSyncEntry> need_whole;
  bool begun = false;
  std::string server_cookie = cookie;
  auto on_entry = [&](DirSyncEntry e) -> Status {
    const std::optional<ObjectState> known = sink->LookupKnown(e.guid);
    EntryDecision d = mapper_.Map(e, e.created, known);
    switch (d.action) {
      case EntryDecision::Action::kSkip:
        break;
      case EntryDecision::Action::kChange:
        events.emplace_back(std::move(d.change));
        ++report_.changes;
        break;
      case EntryDecision::Action::kError:
        events.emplace_back(std::move(d.error));
        ++report_.errors;
        break;
      case EntryDecision::Action::kNeedFullImage:
        need_whole.push_back(std::move(e));
        break;
    }
    return Status::Ok();
  };
  for (bool first = true;; first = false) {
    DirSyncSearchResult r = Search(server_cookie, on_entry);
    if (!r.status.ok()) {
      // A refusal of the stored cookie itself (Samba answers "unavailable
      // critical extension") is not retryable; the full pass that follows
      // shows whether the cookie was the cause.
      if (first && !r.status.retryable() &&
          r.ldap_code != LDAP_INSUFFICIENT_ACCESS) {
        *rejected = true;
        *why = "the server rejected the stored cookie: " + r.status.message();
        return Status::Ok();
      }
      return r.status;
    }
    // Objects the log does not know that came back partial (moved into the
    // scope, undeleted): read them whole.
    for (DirSyncEntry& e : need_whole) {
      Result<std::optional<DirSyncEntry>> whole =
          ReadObjectByGuid(conn_.get(), e.guid, attributes_);
      if (!whole.ok()) return whole.status();
      ++report_.fetched;
      if (!whole->has_value()) continue;  // gone since
      (*whole)->guid = e.guid;
      EntryDecision d = mapper_.Map(**whole, true, std::nullopt);
      if (d.action == EntryDecision::Action::kChange) {
        events.emplace_back(std::move(d.change));
        ++report_.changes;
      } else if (d.action == EntryDecision::Action::kError) {
        events.emplace_back(std::move(d.error));
        ++report_.errors;
      }
    }
    need_whole.clear();
    server_cookie = r.response.cookie;
    const bool last = !r.response.more_results;
    if (last && !begun && report_.entries == 0) {
      // Nothing changed: the stored cursor still covers everything.
      return Status::Ok();
    }
    if (!last && events.size() < options_.batch_size) continue;
    std::vector<EventBody> batch;
    batch.reserve(events.size() + 2);
    if (!begun && !events.empty()) {
      batch.emplace_back(
          Phase(options_, PhaseKind::kBegin, RefreshMode::kIncremental));
      begun = true;
    }
    for (EventBody& e : events) batch.push_back(std::move(e));
    events.clear();
    if (last && begun) {
      RefreshPhase end =
          Phase(options_, PhaseKind::kEnd, RefreshMode::kIncremental);
      end.entries = report_.changes + report_.errors;
      batch.emplace_back(std::move(end));
    }
    const std::string cursor = CursorFor(server_cookie);
    DIRLEDGER_RETURN_IF_ERROR(sink->Deliver(std::move(batch), cursor));
    report_.delivered = true;
    report_.cursor = cursor;
    if (last) return Status::Ok();
  }
}

Status DirSyncSource::Full(SourceSink* sink) {
  report_.full = true;
  const std::uint64_t responses = report_.responses;
  report_ = DirSyncPassReport{.full = true,
                              .full_reason = report_.full_reason,
                              .object_security = object_security_,
                              .responses = responses,
                              .cursor = report_.cursor};
  DIRLEDGER_RETURN_IF_ERROR(
      sink->Deliver({Phase(options_, PhaseKind::kBegin, RefreshMode::kPresent)},
                    std::nullopt));
  report_.delivered = true;
  std::vector<std::string> present;
  std::vector<EventBody> batch;
  auto flush = [&]() -> Status {
    if (batch.empty()) return Status::Ok();
    Status s = sink->Deliver(std::move(batch), std::nullopt);
    batch.clear();
    return s;
  };
  auto on_entry = [&](DirSyncEntry e) -> Status {
    const std::optional<ObjectState> known =
        e.guid.empty() ? std::nullopt : sink->LookupKnown(e.guid);
    EntryDecision d = mapper_.Map(e, true, known);
    if (d.in_scope) present.push_back(e.guid);
    if (d.action == EntryDecision::Action::kChange) {
      if (Unchanged(d.change, known)) {
        ++report_.unchanged;
        return Status::Ok();
      }
      batch.emplace_back(std::move(d.change));
      ++report_.changes;
    } else if (d.action == EntryDecision::Action::kError) {
      batch.emplace_back(std::move(d.error));
      ++report_.errors;
    }
    if (batch.size() >= options_.batch_size) return flush();
    return Status::Ok();
  };
  std::string server_cookie;
  for (;;) {
    DirSyncSearchResult r = Search(server_cookie, on_entry);
    if (!r.status.ok()) return r.status;
    server_cookie = r.response.cookie;
    if (!r.response.more_results) break;
  }
  DIRLEDGER_RETURN_IF_ERROR(flush());
  std::sort(present.begin(), present.end());
  present.erase(std::unique(present.begin(), present.end()), present.end());
  report_.present = present.size();
  RefreshPhase end = Phase(options_, PhaseKind::kEnd, RefreshMode::kPresent);
  end.entries = report_.changes + report_.errors;
  end.present = present.size();
  const std::string cursor = CursorFor(server_cookie);
  Status s = sink->EndPresentPhase(std::move(present), std::move(end), cursor);
  // A hold (mass-delete guard) keeps the deletes for approval; the pass
  // itself is done and the next one goes on from its cookie.
  if (s.ok() || s.code() == StatusCode::kHeld) report_.cursor = cursor;
  return s;
}

Status DirSyncSource::RunOnce(std::string_view cookie, SourceSink* sink) {
  Status s = Pass(cookie, sink);
  if (!s.ok() && s.retryable()) conn_.reset();
  return s;
}

void DirSyncSource::Wait(double seconds, const SourceSink& sink) const {
  if (options_.wait) {
    options_.wait(seconds, sink);
    return;
  }
  const auto until =
      std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (!sink.StopRequested() && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

Status DirSyncSource::Run(std::string_view cookie, SourceSink* sink) {
  std::string cursor(cookie);
  double backoff = options_.initial_backoff_s;
  while (!sink->StopRequested()) {
    Status s = Pass(cursor, sink);
    if (s.ok() || s.code() == StatusCode::kHeld) {
      if (!s.ok()) spdlog::warn("{}: {}", options_.source_id, s.message());
      cursor = report_.cursor;
      backoff = options_.initial_backoff_s;
      Wait(options_.polling_interval_s, *sink);
      continue;
    }
    if (!s.retryable()) return s;
    sink->Unavailable(s);
    spdlog::warn("{}: {}; reconnecting in {:g} s", options_.source_id,
                 s.message(), backoff);
    sink->Unavailable(s);
    conn_.reset();
    Wait(backoff, *sink);
    backoff = std::min(backoff * 2, options_.max_backoff_s);
  }
  return Status::Ok();
}

}  // namespace dirledger

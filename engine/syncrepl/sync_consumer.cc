#include "engine/syncrepl/sync_consumer.h"

#include <ldap.h>

#include <algorithm>

namespace dirledger {
namespace {

std::optional<std::string> CookieOrNone(std::string_view cookie) {
  if (cookie.empty()) return std::nullopt;
  return std::string(cookie);
}

std::string DnOf(LDAP* ld, LDAPMessage* msg) {
  char* dn = ldap_get_dn(ld, msg);
  std::string out = dn ? dn : "";
  if (dn) ldap_memfree(dn);
  return out;
}

}  // namespace

SyncConsumer::SyncConsumer(LDAP* ld, const EntryMapper* mapper,
                           SourceSink* sink, const SyncConsumerOptions& options,
                           SyncreplStats* stats)
    : ld_(ld), mapper_(mapper), sink_(sink), options_(options), stats_(stats) {
  if (options_.batch_size == 0) options_.batch_size = 1;
  pending_.reserve(options_.batch_size + 1);
  pending_known_.reserve(options_.batch_size + 1);
}

void SyncConsumer::BeginRefresh(std::string_view cookie) {
  refreshing_ = true;
  full_ = cookie.empty();
  present_phase_ = false;
  delivered_in_refresh_ = false;
  refresh_entries_ = 0;
  present_.clear();
  delivered_cookie_ = std::string(cookie);
  RefreshPhase begin;
  begin.source = mapper_->source();
  begin.connector = mapper_->connector();
  begin.kind = PhaseKind::kBegin;
  begin.mode = full_ ? RefreshMode::kFull : RefreshMode::kIncremental;
  Queue(std::move(begin));
}

std::optional<ObjectState> SyncConsumer::LookupKnown(const std::string& id) {
  auto it = pending_known_.find(id);
  if (it == pending_known_.end()) return sink_->LookupKnown(id);
  const auto& change = std::get<ObservedChange>(pending_[it->second]);
  if (change.op == ChangeOp::kDelete) return std::nullopt;
  ObjectState o;
  o.side = change.side;
  o.kind = change.kind;
  o.id = change.id;
  o.dn = change.dn;
  o.domain = change.domain;
  o.connector = change.connector;
  o.source = change.source;
  return o;
}

void SyncConsumer::QueueChange(ObservedChange change) {
  pending_known_[change.id] = pending_.size();
  pending_.push_back(std::move(change));
}

void SyncConsumer::Queue(EventBody event) {
  pending_.push_back(std::move(event));
}

Status SyncConsumer::Deliver(const std::optional<std::string>& cookie) {
  if (!sink_failure_.ok()) return sink_failure_;
  if (pending_.empty() && !cookie) return Status::Ok();
  const bool had_events = !pending_.empty();
  std::vector<EventBody> events;
  events.swap(pending_);
  pending_.reserve(options_.batch_size + 1);
  pending_known_.clear();
  ++stats_->batches;
  Status st = sink_->Deliver(std::move(events), cookie);
  if (!st.ok()) {
    // Never deliver again: a later cookie would cover the lost events.
    sink_failure_ = st;
    return st;
  }
  if (cookie) delivered_cookie_ = *cookie;
  if (refreshing_ && had_events) delivered_in_refresh_ = true;
  return Status::Ok();
}

Status SyncConsumer::MaybeDeliver(std::string_view cookie) {
  if (pending_.size() < options_.batch_size) return Status::Ok();
  return Deliver(refreshing_ ? std::nullopt : CookieOrNone(cookie));
}

Status SyncConsumer::DeleteKnown(const std::string& id,
                                 std::string_view remains_at) {
  std::optional<ObjectState> known = LookupKnown(id);
  if (!known) {
    ++stats_->unknown_deletes;
    return Status::Ok();
  }
  ObservedChange c = mapper_->Delete(*known);
  c.remains_at = std::string(remains_at);
  QueueChange(std::move(c));
  ++stats_->deletes;
  return Status::Ok();
}

Status SyncConsumer::OnEntry(SyncState state, std::string_view raw_uuid,
                             LDAPMessage* msg, std::string_view cookie) {
  const std::string id = UuidToText(raw_uuid);
  if (id.empty()) {
    const std::string dn = DnOf(ld_, msg);
    Queue(mapper_->Error("", dn,
                         "entry \"" + dn +
                             "\": the Sync State control carries a malformed "
                             "entryUUID (" +
                             std::to_string(raw_uuid.size()) + " bytes)"));
    ++stats_->errors;
    return MaybeDeliver(cookie);
  }
  switch (state) {
    case SyncState::kPresent:
      present_.insert(id);
      present_phase_ = true;
      break;
    case SyncState::kDelete:
      present_.erase(id);
      DIRLEDGER_RETURN_IF_ERROR(DeleteKnown(id));
      break;
    case SyncState::kAdd:
    case SyncState::kModify: {
      Result<LdapEntry> entry = ReadEntry(ld_, msg, options_.entry);
      if (!entry.ok()) {
        Queue(mapper_->Error(id, DnOf(ld_, msg), entry.status().message()));
        ++stats_->errors;
        if (refreshing_) present_.insert(id);
        break;
      }
      const bool known = LookupKnown(id).has_value();
      MappedEntry m = mapper_->Map(id, std::move(entry).value(), known);
      switch (m.kind) {
        case MappedEntry::Kind::kOutOfScope:
          if (known) {
            // It left the scope, and is still at its DN.
            DIRLEDGER_RETURN_IF_ERROR(DeleteKnown(id, DnOf(ld_, msg)));
          } else {
            ++stats_->out_of_scope;
          }
          break;
        case MappedEntry::Kind::kError:
          Queue(std::move(m.error));
          ++stats_->errors;
          if (refreshing_) present_.insert(id);
          break;
        case MappedEntry::Kind::kChange:
          QueueChange(std::move(m.change));
          ++stats_->changes;
          if (refreshing_) {
            present_.insert(id);
            ++refresh_entries_;
          }
          break;
      }
      break;
    }
  }
  return MaybeDeliver(cookie);
}

Status SyncConsumer::OnIdSet(bool refresh_deletes,
                             const std::vector<std::string_view>& uuids,
                             std::string_view cookie) {
  std::size_t malformed = 0;
  for (std::string_view raw : uuids) {
    const std::string id = UuidToText(raw);
    if (id.empty()) {
      ++malformed;
      continue;
    }
    if (refresh_deletes) {
      present_.erase(id);
      DIRLEDGER_RETURN_IF_ERROR(DeleteKnown(id));
    } else if (refreshing_) {
      present_.insert(id);
    }
  }
  if (!refresh_deletes && refreshing_) present_phase_ = true;
  if (malformed) {
    Queue(mapper_->Error("", "",
                         "a syncIdSet carries " + std::to_string(malformed) +
                             " malformed entryUUID(s); they are ignored"));
    ++stats_->errors;
  }
  return MaybeDeliver(cookie);
}

Status SyncConsumer::OnRefreshMarker(const RefreshMarker& marker,
                                     std::string_view cookie) {
  if (!refreshing_) return Status::Ok();
  if (marker.present) present_phase_ = true;
  if (marker.refresh_done) return EndRefresh(cookie);
  return Status::Ok();
}

Status SyncConsumer::OnNewCookie(std::string_view) {
  // Delivered by Flush() in the persist phase, by EndRefresh() otherwise.
  return Status::Ok();
}

Status SyncConsumer::OnSearchDone(bool refresh_deletes,
                                  std::string_view cookie) {
  if (!refreshing_) return Flush(cookie);
  if (!refresh_deletes) present_phase_ = true;
  return EndRefresh(cookie);
}

Status SyncConsumer::EndRefresh(std::string_view cookie) {
  RefreshPhase end;
  end.source = mapper_->source();
  end.connector = mapper_->connector();
  end.kind = PhaseKind::kEnd;
  end.entries = refresh_entries_;
  const std::optional<std::string> c = CookieOrNone(cookie);
  ++stats_->refreshes;
  if (!full_ && !present_phase_) {
    end.mode = RefreshMode::kDelete;
    Queue(std::move(end));
    Status st = Deliver(c);
    refreshing_ = false;
    return st;
  }
  // A present phase: the sink finds what is gone.
  ++stats_->present_phases;
  end.mode = full_ ? RefreshMode::kFull : RefreshMode::kPresent;
  std::vector<std::string> ids(present_.begin(), present_.end());
  present_.clear();
  std::sort(ids.begin(), ids.end());
  end.present = ids.size();
  DIRLEDGER_RETURN_IF_ERROR(Deliver(std::nullopt));
  refreshing_ = false;
  ++stats_->batches;
  Status st = sink_->EndPresentPhase(std::move(ids), end, c);
  if (!st.ok()) {
    sink_failure_ = st;
    return st;
  }
  if (c) delivered_cookie_ = *c;
  return Status::Ok();
}

Status SyncConsumer::Flush(std::string_view cookie) {
  if (refreshing_) return Status::Ok();
  if (pending_.empty() && (cookie.empty() || cookie == delivered_cookie_))
    return Status::Ok();
  return Deliver(CookieOrNone(cookie));
}

Status SyncConsumer::RefreshRequired() {
  ++stats_->refresh_required;
  Status st;
  if (refreshing_ && delivered_in_refresh_) {
    // Close the bracket of what was delivered; the new refresh reports all.
    RefreshPhase end;
    end.source = mapper_->source();
    end.connector = mapper_->connector();
    end.kind = PhaseKind::kEnd;
    end.mode = full_ ? RefreshMode::kFull : RefreshMode::kIncremental;
    end.entries = refresh_entries_;
    Queue(std::move(end));
    st = Deliver(std::nullopt);
  } else {
    pending_.clear();
    pending_known_.clear();
  }
  refreshing_ = false;
  present_.clear();
  return st;
}

Status SyncConsumer::Abandon(std::string_view cookie) {
  if (pending_.empty() || !sink_failure_.ok()) return Status::Ok();
  return Deliver(refreshing_ ? std::nullopt : CookieOrNone(cookie));
}

}  // namespace dirledger

#include "engine/syncrepl/sync_session.h"

#include <ldap.h>

#include <algorithm>
#include <cstring>

namespace dirledger {

struct SyncSession::State {
  ldap_sync_t ls;
  std::string base;
  std::string filter;
  std::vector<std::string> attributes;
  std::vector<char*> attribute_ptrs;
  std::string seen_cookie;  // the cookie after the last message handled
  long callbacks = 0;       // handler calls made
  Status error;             // a handler's or a callback's failure
  bool running = false;     // a search was sent and has not ended
  bool ended = false;
  bool refresh_required = false;

  std::string_view cookie() const {
    return ls.ls_cookie.bv_val
               ? std::string_view(ls.ls_cookie.bv_val, ls.ls_cookie.bv_len)
               : std::string_view();
  }
};

struct SyncSession::Callbacks {
  static SyncSession* Self(ldap_sync_t* ls) {
    return static_cast<SyncSession*>(ls->ls_private);
  }

  // ldap_sync_poll() passes the head of a message chain to every callback;
  // refuse chains instead of handling one message several times.
  static bool Single(SyncSession* s, LDAPMessage* msg) {
    if (ldap_next_message(s->conn_->handle(), msg) == nullptr) return true;
    s->state_->error = Status::IOError(
        "libldap delivered several messages at once from " + s->conn_->uri() +
        ", which ldap_sync_poll() cannot handle; ending the sync session");
    return false;
  }

  static int Finish(SyncSession* s, Status st) {
    ++s->state_->callbacks;
    s->state_->seen_cookie.assign(s->state_->cookie());
    if (st.ok()) return LDAP_SUCCESS;
    s->state_->error = std::move(st);
    return LDAP_OTHER;
  }

  static int Entry(ldap_sync_t* ls, LDAPMessage* msg, berval* uuid,
                   ldap_sync_refresh_t phase) {
    SyncSession* s = Self(ls);
    if (!Single(s, msg)) return LDAP_OTHER;
    SyncState state;
    switch (phase) {
      case LDAP_SYNC_CAPI_PRESENT:
        state = SyncState::kPresent;
        break;
      case LDAP_SYNC_CAPI_ADD:
        state = SyncState::kAdd;
        break;
      case LDAP_SYNC_CAPI_MODIFY:
        state = SyncState::kModify;
        break;
      case LDAP_SYNC_CAPI_DELETE:
        state = SyncState::kDelete;
        break;
      default:
        return Finish(s, Status::InvalidArgument("unknown sync state " +
                                                 std::to_string(phase) +
                                                 " from " + s->conn_->uri()));
    }
    return Finish(s, s->handler_->OnEntry(
                         state, std::string_view(uuid->bv_val, uuid->bv_len),
                         msg, s->state_->cookie()));
  }

  static int Reference(ldap_sync_t* ls, LDAPMessage* msg) {
    // Referrals are not chased (LDAP_OPT_REFERRALS is off); a referral
    // object inside the base is not an account or group.
    SyncSession* s = Self(ls);
    if (!Single(s, msg)) return LDAP_OTHER;
    return Finish(s, Status::Ok());
  }

  static int Intermediate(ldap_sync_t* ls, LDAPMessage* msg, BerVarray uuids,
                          ldap_sync_refresh_t phase) {
    SyncSession* s = Self(ls);
    if (!Single(s, msg)) return LDAP_OTHER;
    if (phase == LDAP_SYNC_CAPI_PRESENTS_IDSET ||
        phase == LDAP_SYNC_CAPI_DELETES_IDSET) {
      std::vector<std::string_view> ids;
      for (BerVarray u = uuids; u && u->bv_val; ++u)
        ids.emplace_back(u->bv_val, u->bv_len);
      return Finish(
          s, s->handler_->OnIdSet(phase == LDAP_SYNC_CAPI_DELETES_IDSET, ids,
                                  s->state_->cookie()));
    }
    // A refresh marker: decode it ourselves to tell present from delete.
    char* oid = nullptr;
    berval* data = nullptr;
    std::optional<RefreshMarker> marker;
    if (ldap_parse_intermediate(s->conn_->handle(), msg, &oid, &data, nullptr,
                                0) == LDAP_SUCCESS &&
        data)
      marker =
          DecodeRefreshMarker(std::string_view(data->bv_val, data->bv_len));
    if (oid) ldap_memfree(oid);
    if (data) ber_bvfree(data);
    if (!marker)
      return Finish(s,
                    Status::InvalidArgument("malformed syncInfo message from " +
                                            s->conn_->uri()));
    return Finish(s,
                  s->handler_->OnRefreshMarker(*marker, s->state_->cookie()));
  }

  static int Result(ldap_sync_t* ls, LDAPMessage* msg, int refresh_deletes) {
    SyncSession* s = Self(ls);
    s->state_->ended = true;
    s->state_->running = false;
    if (refresh_deletes < 0) {  // e-syncRefreshRequired
      s->state_->refresh_required = true;
      return Finish(s, Status::Ok());
    }
    return Finish(s, s->handler_->OnSearchDone(refresh_deletes != 0,
                                               s->state_->cookie()));
  }
};

SyncSession::SyncSession(LdapConnection* conn, SyncHandler* handler)
    : conn_(conn), handler_(handler), state_(std::make_unique<State>()) {
  ldap_sync_initialize(&state_->ls);
  state_->ls.ls_ld = conn_->handle();
  state_->ls.ls_private = this;
  state_->ls.ls_timeout = -1;  // ldap_result() waits the API timeout
  state_->ls.ls_search_entry = &Callbacks::Entry;
  state_->ls.ls_search_reference = &Callbacks::Reference;
  state_->ls.ls_intermediate = &Callbacks::Intermediate;
  state_->ls.ls_search_result = &Callbacks::Result;
}

SyncSession::~SyncSession() {
  Abandon();
  // The connection, base, filter and attributes are not the API's to free.
  state_->ls.ls_ld = nullptr;
  state_->ls.ls_base = nullptr;
  state_->ls.ls_filter = nullptr;
  state_->ls.ls_attrs = nullptr;
  ldap_sync_destroy(&state_->ls, 0);
}

std::string SyncSession::cookie() const {
  return std::string(state_->cookie());
}

Status SyncSession::Start(const SyncSearch& search) {
  State& st = *state_;
  st.base = search.base;
  st.filter = search.filter;
  st.attributes = search.attributes;
  st.attribute_ptrs.clear();
  for (std::string& a : st.attributes) st.attribute_ptrs.push_back(a.data());
  st.attribute_ptrs.push_back(nullptr);
  st.ls.ls_base = st.base.data();
  st.ls.ls_filter = st.filter.data();
  st.ls.ls_attrs = st.attribute_ptrs.data();
  st.ls.ls_scope = LDAP_SCOPE_SUBTREE;
  if (st.ls.ls_cookie.bv_val) {
    ber_memfree(st.ls.ls_cookie.bv_val);
    st.ls.ls_cookie = berval{};
  }
  if (!search.cookie.empty())
    ber_mem2bv(const_cast<char*>(search.cookie.data()), search.cookie.size(), 1,
               &st.ls.ls_cookie);
  st.seen_cookie = search.cookie;
  // As ldap_sync_init() does before its search.
  st.ls.ls_refreshPhase = LDAP_SYNC_CAPI_NONE;
  st.ls.ls_reloadHint = 0;

  auto value = EncodeSyncRequest(search.mode, search.cookie, false);
  if (!value.ok()) return value.status();
  LDAPControl ctrl{};
  ctrl.ldctl_oid = const_cast<char*>(LDAP_CONTROL_SYNC);
  ctrl.ldctl_value.bv_val = value->data();
  ctrl.ldctl_value.bv_len = value->size();
  ctrl.ldctl_iscritical = 1;
  LDAPControl* ctrls[] = {&ctrl, nullptr};
  const int rc = ldap_search_ext(
      conn_->handle(), st.ls.ls_base, LDAP_SCOPE_SUBTREE, st.ls.ls_filter,
      st.ls.ls_attrs, 0, ctrls, nullptr, nullptr, 0, &st.ls.ls_msgid);
  if (rc != LDAP_SUCCESS)
    return conn_->Error(rc, "sync search of \"" + search.base + "\"");
  st.running = true;
  st.ended = false;
  st.refresh_required = false;
  st.error = Status::Ok();
  return Status::Ok();
}

void SyncSession::Abandon() {
  if (!state_->running) return;
  ldap_abandon_ext(conn_->handle(), state_->ls.ls_msgid, nullptr, nullptr);
  state_->running = false;
}

namespace {

// Sets the handle's API timeout (what ldap_result() waits when given none)
// for the duration of a poll, and puts the connection's back afterwards.
class ApiTimeout {
 public:
  ApiTimeout(LDAP* ld, double restore_s) : ld_(ld), restore_s_(restore_s) {}
  ~ApiTimeout() { Set(restore_s_); }
  void Set(double s) {
    timeval tv;
    tv.tv_sec = static_cast<time_t>(s);
    tv.tv_usec =
        static_cast<suseconds_t>((s - static_cast<double>(tv.tv_sec)) * 1e6);
    ldap_set_option(ld_, LDAP_OPT_TIMEOUT, &tv);
  }

 private:
  LDAP* ld_;
  double restore_s_;
};

}  // namespace

Result<PollResult> SyncSession::Poll(double wait_s, int max_messages) {
  State& st = *state_;
  PollResult out;
  const std::string what =
      "sync search of \"" + st.base + "\" on " + conn_->uri();
  // ldap_sync_poll() waits in ldap_result() for the handle's API timeout
  // (ls_timeout is -1): up to `wait_s` for the first message, 0.1 ms for each
  // further one already on its way. Never zero: with a zero timeout,
  // ldap_result() may read a message into its queue and still report that
  // nothing came, and the message would wait for the next poll.
  constexpr double kDrainS = 0.0001;
  ApiTimeout timeout(conn_->handle(), conn_->options().timeout_s);
  bool first = true;
  while (!st.ended && out.messages < max_messages) {
    timeout.Set(first ? std::max(wait_s, kDrainS) : kDrainS);
    first = false;
    const long before = st.callbacks;
    const int rc = ldap_sync_poll(&st.ls);
    if (!st.error.ok()) {
      Abandon();
      return st.error;
    }
    if (rc < 0) {
      int err = LDAP_SERVER_DOWN;
      ldap_get_option(conn_->handle(), LDAP_OPT_RESULT_CODE, &err);
      st.running = false;
      return LdapStatus(err, "connection lost during the " + what);
    }
    const bool handled = st.callbacks != before;
    if (!handled && rc != LDAP_SUCCESS) {
      // A message the API consumed without a callback: the search ended
      // with an error result, or a message it could not decode.
      char* diag = nullptr;
      int err = rc;
      ldap_get_option(conn_->handle(), LDAP_OPT_RESULT_CODE, &err);
      ldap_get_option(conn_->handle(), LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
      std::string text = diag ? diag : "";
      if (diag) ldap_memfree(diag);
      if (err == LDAP_SUCCESS) err = rc;
      if (text.empty() && err == LDAP_OTHER)
        text =
            "a sync message that could not be decoded, or a result "
            "without a Sync Done control";
      Abandon();
      return LdapStatus(err, what, text);
    }
    if (!handled && st.cookie() != std::string_view(st.seen_cookie)) {
      // A syncInfo newcookie: ldap_sync_poll() stores it without a callback.
      st.seen_cookie.assign(st.cookie());
      ++out.messages;
      Status s = handler_->OnNewCookie(st.seen_cookie);
      if (!s.ok()) {
        Abandon();
        return s;
      }
      continue;
    }
    if (!handled) break;  // nothing within the wait
    ++out.messages;
  }
  out.ended = st.ended;
  out.refresh_required = st.refresh_required;
  return out;
}

}  // namespace dirledger

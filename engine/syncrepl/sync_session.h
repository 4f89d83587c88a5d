// SyncSession: one RFC 4533 sync search on an LdapConnection, driven through
// libldap's ldap_sync_* API: the messages are read and decoded by
// ldap_sync_poll(), which keeps the cookie (ldap_sync_t::ls_cookie) and calls
// back for entries, syncInfo messages and the final result; this class turns
// those callbacks into calls on a SyncHandler.
//
// Two things the API does not do are done here, deliberately:
//  - The search is started by Start(), not ldap_sync_init(): ldap_sync_init()
//    runs the whole refresh phase inside itself, polling in a fixed 100 ms
//    loop with no time limit and no way to stop, so a hung server would hang
//    the source and a stop request would wait for the whole refresh.
//    Start() sends the same request (sync_protocol.h) and leaves every
//    message to ldap_sync_poll(), which Poll() calls with a wait it bounds
//    (the handle's API timeout), so the caller regains control at least
//    that often.
//  - Once refreshDone is TRUE, ldap_sync_poll() reports refreshPresent and
//    refreshDelete alike as LDAP_SYNC_CAPI_DONE; the intermediate callback
//    decodes the message itself to tell them apart (a present phase means
//    "everything not named is gone").
// ldap_sync_poll() hands the first message of a chain to every callback; the
// callbacks check that libldap gave them one message (it does on plain and
// TLS connections, where it reads one PDU at a time) and end the session
// with an error otherwise, rather than mis-handle entries.
//
// Thread safety: one thread at a time; the connection must not be used by
// anything else while a session is open on it.
#ifndef DIRLEDGER_ENGINE_SYNCREPL_SYNC_SESSION_H_
#define DIRLEDGER_ENGINE_SYNCREPL_SYNC_SESSION_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "codecs/status.h"
#include "engine/ldap/ldap_connection.h"
#include "engine/syncrepl/sync_protocol.h"

typedef struct ldapmsg LDAPMessage;

namespace dirledger {

// The Sync State of an entry (RFC 4533 section 2.2).
enum class SyncState { kPresent, kAdd, kModify, kDelete };

// Receives a session's messages, in order. `cookie` is the session's cookie
// after the message (the last one the server sent; "" before any). A handler
// error ends the session with that error.
class SyncHandler {
 public:
  virtual ~SyncHandler() = default;
  // A searchResultEntry. `uuid` is the raw entryUUID of its Sync State
  // control; with kAdd / kModify `msg` holds the whole entry, with kPresent
  // / kDelete only its DN. `msg` is valid during the call only.
  virtual Status OnEntry(SyncState state, std::string_view uuid,
                         LDAPMessage* msg, std::string_view cookie) = 0;
  // A syncIdSet: entries deleted (refresh_deletes) or present, by raw UUID.
  virtual Status OnIdSet(bool refresh_deletes,
                         const std::vector<std::string_view>& uuids,
                         std::string_view cookie) = 0;
  // A syncInfo refreshPresent / refreshDelete: a refresh phase ended.
  virtual Status OnRefreshMarker(const RefreshMarker& marker,
                                 std::string_view cookie) = 0;
  // A syncInfo newcookie (or any cookie that came without another message).
  virtual Status OnNewCookie(std::string_view cookie) = 0;
  // The searchResultDone with a Sync Done control (success).
  virtual Status OnSearchDone(bool refresh_deletes,
                              std::string_view cookie) = 0;
};

struct SyncSearch {
  SyncMode mode = SyncMode::kRefreshOnly;
  std::string base;
  std::string filter;
  std::vector<std::string> attributes;
  std::string cookie;  // "" = initial content
};

struct PollResult {
  int messages = 0;    // messages handled by this poll
  bool ended = false;  // the search is over (done or refresh required)
  bool refresh_required = false;  // ended with e-syncRefreshRequired (4096)
};

class SyncSession {
 public:
  SyncSession(LdapConnection* conn, SyncHandler* handler);
  ~SyncSession();  // abandons the search if it still runs
  SyncSession(const SyncSession&) = delete;
  SyncSession& operator=(const SyncSession&) = delete;

  // Sends the sync search.
  Status Start(const SyncSearch& search);

  // Hands every message that has arrived to the handler (at most
  // `max_messages`), waiting up to `wait_s` for the first one. A lost
  // connection is Unavailable; a search the server ended with an error is
  // that error (both name the server).
  Result<PollResult> Poll(double wait_s, int max_messages);

  // Tells the server to stop sending (when the search still runs).
  void Abandon();

  // The latest cookie the server sent ("" = none yet).
  std::string cookie() const;

 private:
  struct Callbacks;
  friend struct Callbacks;

  LdapConnection* conn_;
  SyncHandler* handler_;
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace dirledger

#endif  // DIRLEDGER_ENGINE_SYNCREPL_SYNC_SESSION_H_

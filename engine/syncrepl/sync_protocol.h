// RFC 4533 (LDAP Content Synchronization) wire details the syncrepl source
// needs beside libldap's ldap_sync_* API: the Sync Request control it sends
// (so it can start the search itself, see sync_session.h), the kind of a
// syncInfo refreshPresent/refreshDelete message (which ldap_sync_poll() folds
// into one "done" phase once refreshDone is TRUE), and entryUUIDs as text.
//
// Thread safety: pure functions.
#ifndef DIRLEDGER_ENGINE_SYNCREPL_SYNC_PROTOCOL_H_
#define DIRLEDGER_ENGINE_SYNCREPL_SYNC_PROTOCOL_H_

#include <optional>
#include <string>
#include <string_view>

#include "codecs/status.h"

namespace dirledger {

enum class SyncMode { kRefreshOnly, kRefreshAndPersist };

// The BER value of a Sync Request control: { mode, cookie (when not empty),
// reloadHint (only when true) }.
Result<std::string> EncodeSyncRequest(SyncMode mode, std::string_view cookie,
                                      bool reload_hint);

// A syncInfo message that ends a refresh phase (RFC 4533 section 2.5).
struct RefreshMarker {
  bool present = false;      // refreshPresent, else refreshDelete
  bool refresh_done = true;  // DEFAULT TRUE
};
// Decodes the value of a syncInfo intermediate response; std::nullopt when
// it is not a refreshPresent / refreshDelete (newcookie, syncIdSet) or is
// malformed.
std::optional<RefreshMarker> DecodeRefreshMarker(std::string_view value);

// An entryUUID as RFC 4122 text, lower case: the 16 raw bytes a Sync State
// control or syncIdSet carries, or (from servers that send text) the 36
// character form. "" when it is neither.
std::string UuidToText(std::string_view raw);

}  // namespace dirledger

#endif  // DIRLEDGER_ENGINE_SYNCREPL_SYNC_PROTOCOL_H_

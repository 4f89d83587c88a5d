// The event model: immutable facts appended to the log, and the decisions the
// reconciler records next to them. These are the in-memory forms; their stored
// form is FlatBuffers (codecs/schema/event.fbs, codecs/event_codec.h).
//
// Thread safety: plain values.
#ifndef DIRLEDGER_CODECS_EVENT_H_
#define DIRLEDGER_CODECS_EVENT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "codecs/attributes.h"

namespace dirledger {

enum class Side : std::uint8_t { kLdap = 0, kMail = 1 };
enum class ObjectKind : std::uint8_t { kAccount = 0, kGroup = 1 };
enum class ChangeOp : std::uint8_t {
  kAdd = 0,
  kModify = 1,
  kDelete = 2,
  kPresent = 3
};

std::string_view SideName(Side side);        // "ldap", "mail"
std::string_view KindName(ObjectKind kind);  // "account", "group"
std::string_view ChangeOpName(ChangeOp op);  // "add", ...
Side OtherSide(Side side);

// A change a side reported for one object.
struct ObservedChange {
  Side side = Side::kLdap;
  std::string source;
  std::string connector;
  std::string domain;
  ObjectKind kind = ObjectKind::kAccount;
  std::string id;
  std::string dn;
  ChangeOp op = ChangeOp::kModify;
  bool full_image = false;
  AttrList attrs;
  AttrList value_adds;
  AttrList value_deletes;
  std::uint64_t origin_intent = 0;
  // Service mode (rules 3): a delete waits this long before it is decided as
  // a delete, counted with the other deletes of its source waiting (the
  // delete_delay_s in force when it was taken); 0: decided at once.
  std::uint32_t delete_delay_s = 0;
  // With delete_delay_s: the objects its source had when it was taken (what
  // a percentage delete_threshold is of).
  std::uint64_t source_known = 0;
  // A delete of an LDAP entry that was not deleted: it left the connector's
  // scope (moved out of the base DNs, or out of its filter) and is at this
  // DN now. Empty for a real delete and on every other change.
  std::string remains_at;
};

struct CursorAdvance {
  std::string source;
  std::string cookie;  // opaque bytes
};

enum class PhaseKind : std::uint8_t { kBegin = 0, kEnd = 1 };
enum class RefreshMode : std::uint8_t {
  kIncremental = 0,
  kFull = 1,
  kPresent = 2,
  kDelete = 3
};

struct RefreshPhase {
  std::string source;
  std::string connector;
  PhaseKind kind = PhaseKind::kBegin;
  RefreshMode mode = RefreshMode::kIncremental;
  std::uint64_t entries = 0;
  std::uint64_t present = 0;
  std::uint64_t missing = 0;
};

struct NamedFile {
  std::string name;
  std::string content;
};

struct ConfigChange {
  std::string text;
  std::string sha256;  // 32 raw bytes
  std::vector<NamedFile> files;
  std::string path;
  // The reconciler's rules version (Config::reconciler_rules); 0 in events
  // written before it was recorded, which were decided under version 1.
  std::uint32_t reconciler_rules = 0;
};

enum class ActionKind : std::uint8_t {
  kApprove = 0,
  kReject = 1,
  kRollback = 2,
  kRestore = 3,
  kNote = 4,
  kMailAdmin = 5,
  kDismiss = 6,
  // The run loop: the deletes of hold_id's window that are due by this
  // event's time are decided as deletes (rules 3, delete_delay_s).
  kRelease = 7
};
std::string_view ActionKindName(ActionKind kind);

struct ObjectTarget {
  Side side = Side::kLdap;
  ObjectKind kind = ObjectKind::kAccount;
  std::string id;
  std::string dn;
  std::string domain;
  std::string connector;
  bool exists = false;
  AttrList attrs;
  // A rollback's mail target that a rename dirledger made since the point
  // took to another address: that address, the object renamed back to this
  // one (rules version 10). Empty otherwise.
  std::string renamed_from;
};

struct OperatorAction {
  ActionKind kind = ActionKind::kNote;
  std::string actor;
  std::string hold_id;
  std::uint64_t to_seq = 0;
  std::string side_filter;
  std::string domain_filter;
  std::vector<ObjectTarget> targets;
  std::string command;
  std::string failure_id;  // kDismiss: the failure record dismissed
};

struct WriteOutcome {
  std::uint64_t intent_id = 0;
  bool ok = false;
  std::string message;
  Side side = Side::kLdap;
  std::string target_id;
  std::string assigned_id;
  bool retryable = false;
  std::uint32_t attempts = 0;
  bool already_applied = false;
};

struct ObjectRef {
  Side side = Side::kLdap;
  ObjectKind kind = ObjectKind::kAccount;
  std::string id;
  std::string dn;
  std::string domain;
  // A held or delayed delete's ObservedChange::remains_at ("" for none).
  std::string remains_at;
};

struct DeleteHold {
  std::string hold_id;
  std::string source;
  std::string connector;
  std::string reason;
  std::vector<ObjectRef> deletes;
  std::uint64_t known = 0;
};

struct ObjectError {
  Side side = Side::kLdap;
  std::string source;
  std::string connector;
  std::string id;
  std::string dn;
  std::string message;
};

using EventBody =
    std::variant<ObservedChange, CursorAdvance, RefreshPhase, ConfigChange,
                 OperatorAction, WriteOutcome, DeleteHold, ObjectError>;

// "change", "cursor", "phase", "config", "operator", "outcome", "hold",
// "error": the `kind` shown by `dirledger log`.
std::string_view EventKindName(const EventBody& body);

struct Event {
  std::uint64_t seq = 0;     // assigned by the log on append
  std::int64_t time_us = 0;  // assigned by the log on append
  std::string prev_hash;     // assigned by the log on append (32 bytes)
  EventBody body;
};

enum class Outcome : std::uint8_t {
  kRecorded = 0,
  kPropagated = 1,
  kDiscardedDirection = 2,
  kConflictResolved = 3,
  kConflictOpen = 4,
  kNoChange = 5,
  kEcho = 6,
  kSkippedDomainOff = 7,
  kSkippedOutOfScope = 8,
  kIgnoredDelete = 9,
  kHeld = 10,
  kReleased = 11,
  kRejected = 12,
  kApplied = 13,
  kFailed = 14,
  kError = 15,
  kRolledBack = 16,
  kDelayed = 17,  // a delete waits for delete_delay_s
};
// "propagated", "discarded (direction)", ... as shown to users.
std::string_view OutcomeName(Outcome outcome);

enum class IntentOp : std::uint8_t {
  kAdd = 0,
  kModify = 1,
  kDelete = 2,
  kRename = 3
};
std::string_view IntentOpName(IntentOp op);

// Intent ids are (event seq << 16) | index, unique and replay-stable.
constexpr std::uint64_t MakeIntentId(std::uint64_t seq, std::uint32_t index) {
  return (seq << 16) | (index & 0xffff);
}
constexpr std::uint64_t IntentSeq(std::uint64_t intent_id) {
  return intent_id >> 16;
}
// An intent id as reasons and the command name it: "<seq>.<index>".
inline std::string IntentName(std::uint64_t intent_id) {
  return std::to_string(IntentSeq(intent_id)) + "." +
         std::to_string(intent_id & 0xffff);
}

struct Intent {
  std::uint64_t id = 0;
  Side target = Side::kMail;
  ObjectKind kind = ObjectKind::kAccount;
  IntentOp op = IntentOp::kModify;
  std::string target_id;
  std::string dn;
  std::string new_dn;
  std::string domain;
  std::string connector;
  AttrList set;
  AttrList add_values;
  AttrList delete_values;
  AttrList expect;
  std::uint64_t expected_version = 0;
  std::string source_id;
};

struct Decision {
  std::uint64_t seq = 0;
  std::string rule;
  Outcome outcome = Outcome::kRecorded;
  std::string reason;
  std::vector<Intent> intents;
  std::string link_ldap_id;
  std::string link_mail_id;
  std::vector<std::string> conflict_fields;
  Side winner = Side::kLdap;
  std::vector<std::string> object_ids;
};

}  // namespace dirledger

#endif  // DIRLEDGER_CODECS_EVENT_H_

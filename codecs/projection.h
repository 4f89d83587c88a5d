// The projection: current state per side, links, pending intents, open
// conflicts, held deletes and drift, all derived from the log. The reconciler
// reads it through ProjectionView and describes every change it wants as a
// StateDelta, which the caller applies: in memory during replay
// (replay/in_memory_projection.h), or into the same RocksDB WriteBatch as the
// event during intake (storage/projection_store.h). Deleting the projection
// and replaying the log rebuilds it exactly.
//
// Thread safety: plain values; ProjectionView implementations say their own.
#ifndef DIRLEDGER_CODECS_PROJECTION_H_
#define DIRLEDGER_CODECS_PROJECTION_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "codecs/event.h"
#include "codecs/status.h"

namespace dirledger {

// The last known image of one object on one side.
struct ObjectState {
  Side side = Side::kLdap;
  ObjectKind kind = ObjectKind::kAccount;
  std::string id;  // stable id on its side
  std::string dn;  // LDAP DN; on the mail side, the address
  std::string domain;
  std::string connector;
  std::string address;  // the mail address this object maps to ("" unknown)
  AttrList attrs;       // canonical, side-native attribute names
  std::uint64_t version = 0;  // seq of the event that last changed it
  std::string source;         // source that reported it (present-phase scope)
  // Mail objects: the pending Add intent creating the LDAP partner (whose id
  // is unknown until the outcome), 0 when none. Later changes of this object
  // are written to that entry by DN instead of creating it twice.
  std::uint64_t creating_intent = 0;
  // Mail objects: the pending Rename moving this object to another address,
  // 0 when none. Until it is done the object counts as leaving: a new LDAP
  // entry with its address does not link to it.
  std::uint64_t leaving_intent = 0;

  friend bool operator==(const ObjectState&, const ObjectState&) = default;
};

// A binding between an LDAP object and a mail object.
struct LinkState {
  ObjectKind kind = ObjectKind::kAccount;
  std::string ldap_id;
  std::string mail_id;
  std::string domain;
  std::string connector;
  AttrList agreed;  // mapped fields both sides last agreed on
  std::uint64_t version = 0;

  friend bool operator==(const LinkState&, const LinkState&) = default;
};

// An intent decided but not yet known to be applied (or applied, awaiting
// its echo).
struct PendingIntent {
  Intent intent;
  std::uint64_t decided_seq = 0;
  bool applied = false;  // outcome ok seen; kept until its echo is observed

  friend bool operator==(const PendingIntent& a, const PendingIntent& b) {
    return a.decided_seq == b.decided_seq && a.applied == b.applied &&
           a.intent.id == b.intent.id;
  }
};

// A conflict left open by `no_change` (or awaiting an operator).
struct ConflictState {
  ObjectKind kind = ObjectKind::kAccount;
  std::string ldap_id;
  std::string mail_id;
  std::string domain;
  std::string connector;
  std::vector<std::string> fields;
  AttrList ldap_values;  // in mail field names
  AttrList mail_values;
  std::uint64_t opened_seq = 0;

  friend bool operator==(const ConflictState&, const ConflictState&) = default;
};

// kWaiting: a window of deletes waiting for delete_delay_s (service mode,
// rules 3): each is decided as a delete when due, unless the window exceeds
// delete_threshold, when it becomes a hold (kOpen) whole. kReleased: a
// window whose deletes were all decided when due.
enum class HoldStatus : std::uint8_t {
  kOpen = 0,
  kApproved = 1,
  kRejected = 2,
  kWaiting = 3,
  kReleased = 4
};
std::string_view HoldStatusName(HoldStatus status);

struct HoldState {
  DeleteHold hold;
  HoldStatus status = HoldStatus::kOpen;
  std::uint64_t seq = 0;          // event that held it
  std::uint64_t decided_seq = 0;  // approve/reject event
  // kWaiting: when each of hold.deletes is due (its event's time plus the
  // delete_delay_s it was taken with), in the same order.
  std::vector<std::int64_t> due_us;
  // A hold made from a window: later deletes of its source join it until
  // then (the last one's time plus its delay), so a burst is held whole.
  std::int64_t until_us = 0;

  friend bool operator==(const HoldState& a, const HoldState& b) {
    return a.hold.hold_id == b.hold.hold_id && a.status == b.status &&
           a.seq == b.seq && a.decided_seq == b.decided_seq &&
           a.hold.deletes.size() == b.hold.deletes.size() &&
           a.due_us == b.due_us && a.until_us == b.until_us;
  }
};

// Fields where a one-way connector's non-authoritative side differs from the
// authoritative one (changes there were discarded by direction).
struct DriftState {
  ObjectKind kind = ObjectKind::kAccount;
  std::string ldap_id;
  std::string mail_id;
  std::string domain;
  std::string connector;
  std::vector<std::string> fields;
  std::uint64_t since_seq = 0;

  friend bool operator==(const DriftState&, const DriftState&) = default;
};

// An open failure, listed by `status` until it is resolved or dismissed
// (docs/rules.md, "Failures"): a write that failed for good
// (kFailedWrite, from a failed WriteOutcome) or input about one object that
// could not be taken (kObjectError). One per (kind, side, object); a later
// one replaces it.
enum class FailureKind : std::uint8_t {
  kFailedWrite = 0,
  kObjectError = 1,
  kRefusedAddress = 2,  // rules version 6: aliases an LDAP entry may not give
};
std::string_view FailureKindName(FailureKind kind);  // "failed_write", ...

struct FailureState {
  FailureKind kind = FailureKind::kFailedWrite;
  Side side = Side::kLdap;
  ObjectKind object_kind = ObjectKind::kAccount;
  std::string object;  // its id on `side` (LDAP: entryUUID, or the DN when
                       // the entry has none yet; mail: the address)
  std::string dn;
  std::string domain;
  std::string connector;
  std::string source;           // kObjectError: the source that reported it
  std::uint64_t intent_id = 0;  // kFailedWrite: the intent that failed
  IntentOp op = IntentOp::kModify;
  std::string message;          // the server's words, or the reason
  std::uint64_t since_seq = 0;  // the event that opened it

  friend bool operator==(const FailureState&, const FailureState&) = default;
};
// The id an operator types (`dirledger dismiss F123`): "F" and since_seq.
std::string FailureId(const FailureState& f);

// The attribute of a mail object that holds its other addresses (the field
// `aliases`, replay/attribute_map.h).
inline constexpr std::string_view kMailAliasesAttribute = "aliases";

// The addresses the alias index lists for `o`: for a mail object the values
// of its kMailAliasesAttribute, lower case, sorted, without duplicates or
// empty values; for an LDAP entry none (which attribute holds its aliases
// depends on its connector's map). Both projections keep the index by it.
std::vector<std::string> IndexedAliases(const ObjectState& o);

// Read access the reconciler needs. Lookups return std::nullopt when absent.
class ProjectionView {
 public:
  virtual ~ProjectionView() = default;
  virtual std::optional<ObjectState> GetObject(Side side, ObjectKind kind,
                                               std::string_view id) const = 0;
  // The id of the object on `side` whose DN (compared case-insensitively)
  // is `dn`.
  virtual std::optional<std::string> FindIdByDn(Side side,
                                                std::string_view dn) const = 0;
  // The id of the object on `side` that maps to mail `address`.
  virtual std::optional<std::string> FindIdByAddress(
      Side side, ObjectKind kind, std::string_view address) const = 0;
  // The ids of the mail objects of `kind` that hold `address` (compared
  // case-insensitively) as an alias (IndexedAliases), in id order.
  virtual std::vector<std::string> FindIdsByAlias(
      ObjectKind kind, std::string_view address) const = 0;
  virtual std::optional<LinkState> GetLinkByLdap(ObjectKind kind,
                                                 std::string_view id) const = 0;
  virtual std::optional<LinkState> GetLinkByMail(ObjectKind kind,
                                                 std::string_view id) const = 0;
  virtual std::optional<PendingIntent> GetPending(
      std::uint64_t intent_id) const = 0;
  // Pending intents whose target is (side, kind, id), by intent id.
  virtual std::vector<PendingIntent> PendingFor(Side side, ObjectKind kind,
                                                std::string_view id) const = 0;
  virtual std::optional<ConflictState> GetConflict(
      ObjectKind kind, std::string_view ldap_id) const = 0;
  virtual std::optional<HoldState> GetHold(std::string_view hold_id) const = 0;
  virtual std::optional<DriftState> GetDrift(
      ObjectKind kind, std::string_view ldap_id) const = 0;
  // Ids of the objects on `side` waiting for `key` (compared
  // case-insensitively) to become known, in order: a group for a member it
  // could not resolve when it was decided (key: the member's LDAP DN, or
  // mail address), an LDAP entry for a mail address another entry still
  // held (key: "address:" + address).
  virtual std::vector<std::string> WaitingFor(Side side,
                                              std::string_view key) const {
    return {};
  }
  // The open failure of `kind` about (side, object), compared exactly.
  virtual std::optional<FailureState> GetFailure(
      FailureKind kind, Side side, std::string_view object) const {
    return std::nullopt;
  }
  // The open failure whose FailureId is `failure_id` (ignoring case).
  virtual std::optional<FailureState> FindFailure(
      std::string_view failure_id) const {
    return std::nullopt;
  }
};

// One change to the projection. Applying a delta's mutations in order is the
// only way the projection changes.
struct PutObject {
  ObjectState object;
};
struct EraseObject {
  Side side;
  ObjectKind kind;
  std::string id;
};
struct PutLink {
  LinkState link;
};
struct EraseLink {
  ObjectKind kind;
  std::string ldap_id;
  std::string mail_id;
};
struct PutPending {
  PendingIntent pending;
};
struct ErasePending {
  std::uint64_t intent_id;
};
struct PutConflict {
  ConflictState conflict;
};
struct EraseConflict {
  ObjectKind kind;
  std::string ldap_id;
};
struct PutHold {
  HoldState hold;
};
struct PutDrift {
  DriftState drift;
};
struct EraseDrift {
  ObjectKind kind;
  std::string ldap_id;
};
// An object waiting for something to become known (WaitingFor).
struct PutWait {
  Side side;
  std::string key;
  std::string waiter;
};
struct EraseWait {
  Side side;
  std::string key;
  std::string waiter;
};

struct PutFailure {
  FailureState failure;
};
struct EraseFailure {
  FailureKind kind;
  Side side;
  std::string object;
};

using StateMutation =
    std::variant<PutObject, EraseObject, PutLink, EraseLink, PutPending,
                 ErasePending, PutConflict, EraseConflict, PutHold, PutDrift,
                 EraseDrift, PutWait, EraseWait, PutFailure, EraseFailure>;

struct StateDelta {
  std::vector<StateMutation> mutations;
  bool empty() const { return mutations.empty(); }
  void clear() { mutations.clear(); }
};

// Stored form of each record (FlatBuffers, codecs/schema/projection.fbs).
std::string EncodeObjectState(const ObjectState& o);
Status DecodeObjectState(std::string_view bytes, ObjectState* out);
std::string EncodeLinkState(const LinkState& l);
Status DecodeLinkState(std::string_view bytes, LinkState* out);
std::string EncodePendingIntent(const PendingIntent& p);
Status DecodePendingIntent(std::string_view bytes, PendingIntent* out);
std::string EncodeConflictState(const ConflictState& c);
Status DecodeConflictState(std::string_view bytes, ConflictState* out);
std::string EncodeHoldState(const HoldState& h);
Status DecodeHoldState(std::string_view bytes, HoldState* out);
std::string EncodeDriftState(const DriftState& d);
Status DecodeDriftState(std::string_view bytes, DriftState* out);
std::string EncodeFailureState(const FailureState& f);
Status DecodeFailureState(std::string_view bytes, FailureState* out);

}  // namespace dirledger

#endif  // DIRLEDGER_CODECS_PROJECTION_H_

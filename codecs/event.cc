#include "codecs/event.h"

namespace dirledger {

std::string_view SideName(Side side) {
  return side == Side::kLdap ? "ldap" : "mail";
}

Side OtherSide(Side side) {
  return side == Side::kLdap ? Side::kMail : Side::kLdap;
}

std::string_view KindName(ObjectKind kind) {
  return kind == ObjectKind::kAccount ? "account" : "group";
}

std::string_view ChangeOpName(ChangeOp op) {
  switch (op) {
    case ChangeOp::kAdd:
      return "add";
    case ChangeOp::kModify:
      return "modify";
    case ChangeOp::kDelete:
      return "delete";
    case ChangeOp::kPresent:
      return "present";
  }
  return "unknown";
}

std::string_view ActionKindName(ActionKind kind) {
  switch (kind) {
    case ActionKind::kApprove:
      return "approve";
    case ActionKind::kReject:
      return "reject";
    case ActionKind::kRollback:
      return "rollback";
    case ActionKind::kRestore:
      return "restore";
    case ActionKind::kNote:
      return "note";
    case ActionKind::kMailAdmin:
      return "mail-admin";
    case ActionKind::kDismiss:
      return "dismiss";
    case ActionKind::kRelease:
      return "release";
  }
  return "unknown";
}

std::string_view EventKindName(const EventBody& body) {
  struct Namer {
    std::string_view operator()(const ObservedChange&) { return "change"; }
    std::string_view operator()(const CursorAdvance&) { return "cursor"; }
    std::string_view operator()(const RefreshPhase&) { return "phase"; }
    std::string_view operator()(const ConfigChange&) { return "config"; }
    std::string_view operator()(const OperatorAction&) { return "operator"; }
    std::string_view operator()(const WriteOutcome&) { return "outcome"; }
    std::string_view operator()(const DeleteHold&) { return "hold"; }
    std::string_view operator()(const ObjectError&) { return "error"; }
  };
  return std::visit(Namer{}, body);
}

std::string_view OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kRecorded:
      return "recorded";
    case Outcome::kPropagated:
      return "propagated";
    case Outcome::kDiscardedDirection:
      return "discarded (direction)";
    case Outcome::kConflictResolved:
      return "conflict resolved";
    case Outcome::kConflictOpen:
      return "conflict open";
    case Outcome::kNoChange:
      return "no change";
    case Outcome::kEcho:
      return "echo";
    case Outcome::kSkippedDomainOff:
      return "skipped (domain sync off)";
    case Outcome::kSkippedOutOfScope:
      return "skipped (out of scope)";
    case Outcome::kIgnoredDelete:
      return "ignored (ldap delete)";
    case Outcome::kHeld:
      return "held";
    case Outcome::kReleased:
      return "released";
    case Outcome::kRejected:
      return "rejected";
    case Outcome::kApplied:
      return "applied";
    case Outcome::kFailed:
      return "failed";
    case Outcome::kError:
      return "error";
    case Outcome::kRolledBack:
      return "rolled back";
    case Outcome::kDelayed:
      return "delayed";
  }
  return "unknown";
}

std::string_view IntentOpName(IntentOp op) {
  switch (op) {
    case IntentOp::kAdd:
      return "add";
    case IntentOp::kModify:
      return "modify";
    case IntentOp::kDelete:
      return "delete";
    case IntentOp::kRename:
      return "rename";
  }
  return "unknown";
}

}  // namespace dirledger

// The reconciler's failure records (docs/rules.md, "Failures"): a write that
// failed for good and input about an object that could not be taken stay in
// the projection, listed by `status`, until a later event resolves them or
// an operator dismisses them. Rules version 3 on; under earlier versions
// nothing here changes the projection.
#include "replay/intent_writes.h"
#include "replay/reconcile_internal.h"

namespace dirledger {
namespace {

void Erase(DecisionBuilder& b, FailureKind kind, Side side,
           std::string_view object) {
  if (object.empty()) return;
  if (b.state.Failure(kind, side, object))
    b.Put(EraseFailure{kind, side, std::string(object)});
}

}  // namespace

bool KeepsFailures(const DecisionBuilder& b) {
  return b.rules.config().reconciler_rules >= 3;
}

std::string FailureObject(const Intent& i) {
  if (i.target == Side::kMail) return IsMailRename(i) ? i.dn : i.target_id;
  return i.target_id.empty() ? i.dn : i.target_id;
}

void OpenFailedWrite(DecisionBuilder& b, const Intent& i,
                     const std::string& message) {
  if (!KeepsFailures(b)) return;
  FailureState f;
  f.kind = FailureKind::kFailedWrite;
  f.side = i.target;
  f.object_kind = i.kind;
  f.object = FailureObject(i);
  f.dn = i.dn;
  f.domain = i.domain;
  f.connector = i.connector;
  f.intent_id = i.id;
  f.op = i.op;
  f.message = message;
  f.since_seq = b.seq;
  if (f.object.empty()) return;
  b.Put(PutFailure{std::move(f)});
}

void ClearFailedWrite(DecisionBuilder& b, const Intent& i) {
  if (!KeepsFailures(b)) return;
  const std::string object = FailureObject(i);
  if (object.empty()) return;
  const FailureState* f =
      b.state.Failure(FailureKind::kFailedWrite, i.target, object);
  if (!f) return;
  // A rename that failed stays open until a rename is made: the object's
  // other writes succeeding does not give it its new address.
  if (f->op == IntentOp::kRename && i.op != IntentOp::kRename) return;
  b.Put(EraseFailure{FailureKind::kFailedWrite, i.target, object});
}

void OpenObjectError(DecisionBuilder& b, const ObjectError& e) {
  if (!KeepsFailures(b)) return;
  FailureState f;
  f.kind = FailureKind::kObjectError;
  f.side = e.side;
  f.object = e.id.empty() ? e.dn : e.id;
  f.dn = e.dn;
  f.connector = e.connector;
  f.source = e.source;
  f.message = e.message;
  f.since_seq = b.seq;
  if (f.object.empty()) return;
  b.Put(PutFailure{std::move(f)});
}

void ResolveByObservation(DecisionBuilder& b, const ObservedChange& c,
                          const Verdict& v) {
  if (!KeepsFailures(b)) return;
  const bool valid = c.op != ChangeOp::kPresent || c.full_image ||
                     !c.attrs.empty() || !c.value_adds.empty() ||
                     !c.value_deletes.empty();
  if (valid) {
    // The object was read again, whole and valid: what could not be taken
    // before is no longer what it holds.
    Erase(b, FailureKind::kObjectError, c.side, c.id);
    if (c.dn != c.id) Erase(b, FailureKind::kObjectError, c.side, c.dn);
  }
  const bool agreed = v.rule == "change/agrees";
  if (c.op != ChangeOp::kDelete && !agreed) return;
  // Deleted, or both sides hold the same values: no write is missing any
  // longer, on this object or its counterpart.
  Erase(b, FailureKind::kFailedWrite, c.side, c.id);
  if (c.dn != c.id) Erase(b, FailureKind::kFailedWrite, c.side, c.dn);
  if (c.side == Side::kLdap) {
    if (const ObjectState* o = b.state.Object(c.side, c.kind, c.id);
        o && !o->address.empty())
      Erase(b, FailureKind::kFailedWrite, Side::kMail, o->address);
    if (const LinkState* l = b.state.LinkByLdap(c.kind, c.id))
      Erase(b, FailureKind::kFailedWrite, Side::kMail, l->mail_id);
  } else if (const LinkState* l = b.state.LinkByMail(c.kind, c.id)) {
    Erase(b, FailureKind::kFailedWrite, Side::kLdap, l->ldap_id);
    if (const ObjectState* o = b.state.Object(Side::kLdap, c.kind, l->ldap_id))
      Erase(b, FailureKind::kFailedWrite, Side::kLdap, o->dn);
  }
}

Verdict DecideDismiss(DecisionBuilder& b, const OperatorAction& a) {
  b.Id(a.failure_id);
  std::optional<FailureState> f;
  if (KeepsFailures(b) && !a.failure_id.empty())
    f = b.state.FailureById(a.failure_id);
  if (!f)
    return Verdict{"operator/unknown-failure", Outcome::kError,
                   "there is no open failure " + a.failure_id +
                       " to dismiss (unknown, or resolved or dismissed "
                       "already)"};
  b.Id(f->object);
  b.Id(f->dn);
  b.Put(EraseFailure{f->kind, f->side, f->object});
  const std::string by = a.actor.empty() ? "" : " by " + a.actor;
  return Verdict{"operator/dismiss", Outcome::kRecorded,
                 "failure " + FailureId(*f) + " (" +
                     std::string(FailureKindName(f->kind)) + " of " +
                     Describe(f->side, f->object_kind, f->object, f->dn) +
                     ") dismissed" + by};
}

}  // namespace dirledger

#include "codecs/projection.h"

#include <algorithm>

#include "codecs/fb_util.h"
#include "dirledger/fb/projection_generated.h"

namespace dirledger {
namespace {

namespace fb = ::dirledger::fb;
using namespace ::dirledger::fbutil;  // NOLINT: codec helpers

std::string Finish(FlatBufferBuilder& b) {
  return std::string(reinterpret_cast<const char*>(b.GetBufferPointer()),
                     b.GetSize());
}

// REQUIRES: the result is used before the next call on this thread (the
// bytes may live in the thread's aligned scratch buffer).
template <typename T>
const T* Verified(std::string_view bytes) {
  bytes = Aligned(bytes);
  flatbuffers::Verifier v(reinterpret_cast<const uint8_t*>(bytes.data()),
                          bytes.size());
  if (!v.VerifyBuffer<T>(nullptr)) return nullptr;
  return flatbuffers::GetRoot<T>(bytes.data());
}

Status Bad(std::string_view what) {
  return Status::Corruption(std::string(what) +
                            " record fails FlatBuffers verification");
}

}  // namespace

std::vector<std::string> IndexedAliases(const ObjectState& o) {
  std::vector<std::string> out;
  if (o.side != Side::kMail) return out;
  for (const std::string& a : AttrValues(o.attrs, kMailAliasesAttribute))
    if (!a.empty()) out.push_back(AsciiLower(a));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string_view HoldStatusName(HoldStatus status) {
  switch (status) {
    case HoldStatus::kOpen:
      return "open";
    case HoldStatus::kApproved:
      return "approved";
    case HoldStatus::kRejected:
      return "rejected";
    case HoldStatus::kWaiting:
      return "waiting";
    case HoldStatus::kReleased:
      return "released";
  }
  return "unknown";
}

std::string EncodeObjectState(const ObjectState& o) {
  FlatBufferBuilder b(256);
  auto id = Str(b, o.id), dn = Str(b, o.dn), domain = Str(b, o.domain),
       connector = Str(b, o.connector), address = Str(b, o.address),
       source = Str(b, o.source);
  auto attrs = Attrs(b, o.attrs);
  b.Finish(fb::CreateObjectStateRecord(
      b, static_cast<fb::Side>(o.side), static_cast<fb::ObjectKind>(o.kind), id,
      dn, domain, connector, address, attrs, o.version, source,
      o.creating_intent, o.leaving_intent));
  return Finish(b);
}

Status DecodeObjectState(std::string_view bytes, ObjectState* out) {
  const auto* r = Verified<fb::ObjectStateRecord>(bytes);
  if (!r || !InRange(r->side(), fb::Side::MAX) ||
      !InRange(r->kind(), fb::ObjectKind::MAX))
    return Bad("object state");
  out->side = static_cast<Side>(r->side());
  out->kind = static_cast<ObjectKind>(r->kind());
  Assign(&out->id, r->id());
  Assign(&out->dn, r->dn());
  Assign(&out->domain, r->domain());
  Assign(&out->connector, r->connector());
  Assign(&out->address, r->address());
  ReadAttrs(&out->attrs, r->attrs());
  out->version = r->version();
  Assign(&out->source, r->source());
  out->creating_intent = r->creating_intent();
  out->leaving_intent = r->leaving_intent();
  return Status::Ok();
}

std::string EncodeLinkState(const LinkState& l) {
  FlatBufferBuilder b(256);
  auto ldap = Str(b, l.ldap_id), mail = Str(b, l.mail_id),
       domain = Str(b, l.domain), connector = Str(b, l.connector);
  auto agreed = Attrs(b, l.agreed);
  b.Finish(fb::CreateLinkRecord(b, static_cast<fb::ObjectKind>(l.kind), ldap,
                                mail, domain, connector, agreed, l.version));
  return Finish(b);
}

Status DecodeLinkState(std::string_view bytes, LinkState* out) {
  const auto* r = Verified<fb::LinkRecord>(bytes);
  if (!r || !InRange(r->kind(), fb::ObjectKind::MAX)) return Bad("link");
  out->kind = static_cast<ObjectKind>(r->kind());
  Assign(&out->ldap_id, r->ldap_id());
  Assign(&out->mail_id, r->mail_id());
  Assign(&out->domain, r->domain());
  Assign(&out->connector, r->connector());
  ReadAttrs(&out->agreed, r->agreed());
  out->version = r->version();
  return Status::Ok();
}

std::string EncodePendingIntent(const PendingIntent& p) {
  FlatBufferBuilder b(256);
  auto intent = BuildIntent(b, p.intent);
  b.Finish(fb::CreatePendingIntentRecord(b, intent, p.decided_seq, p.applied));
  return Finish(b);
}

Status DecodePendingIntent(std::string_view bytes, PendingIntent* out) {
  const auto* r = Verified<fb::PendingIntentRecord>(bytes);
  if (!r || !r->intent()) return Bad("pending intent");
  DIRLEDGER_RETURN_IF_ERROR(
      ReadIntent(r->intent(), "pending intent", &out->intent));
  out->decided_seq = r->decided_seq();
  out->applied = r->applied();
  return Status::Ok();
}

std::string EncodeConflictState(const ConflictState& c) {
  FlatBufferBuilder b(256);
  auto ldap = Str(b, c.ldap_id), mail = Str(b, c.mail_id),
       domain = Str(b, c.domain), connector = Str(b, c.connector);
  auto fields = Strings(b, c.fields);
  auto lv = Attrs(b, c.ldap_values), mv = Attrs(b, c.mail_values);
  b.Finish(fb::CreateConflictRecord(b, static_cast<fb::ObjectKind>(c.kind),
                                    ldap, mail, domain, connector, fields, lv,
                                    mv, c.opened_seq));
  return Finish(b);
}

Status DecodeConflictState(std::string_view bytes, ConflictState* out) {
  const auto* r = Verified<fb::ConflictRecord>(bytes);
  if (!r || !InRange(r->kind(), fb::ObjectKind::MAX)) return Bad("conflict");
  out->kind = static_cast<ObjectKind>(r->kind());
  Assign(&out->ldap_id, r->ldap_id());
  Assign(&out->mail_id, r->mail_id());
  Assign(&out->domain, r->domain());
  Assign(&out->connector, r->connector());
  ReadStrings(&out->fields, r->fields());
  ReadAttrs(&out->ldap_values, r->ldap_values());
  ReadAttrs(&out->mail_values, r->mail_values());
  out->opened_seq = r->opened_seq();
  return Status::Ok();
}

std::string EncodeHoldState(const HoldState& h) {
  FlatBufferBuilder b(256);
  std::vector<Offset<fb::ObjectRef>> refs;
  refs.reserve(h.hold.deletes.size());
  for (const ObjectRef& r : h.hold.deletes) {
    auto id = Str(b, r.id), dn = Str(b, r.dn), domain = Str(b, r.domain);
    Offset<flatbuffers::String> remains_at;
    if (!r.remains_at.empty()) remains_at = Str(b, r.remains_at);
    refs.push_back(fb::CreateObjectRef(b, static_cast<fb::Side>(r.side),
                                       static_cast<fb::ObjectKind>(r.kind), id,
                                       dn, domain, remains_at));
  }
  auto rv = b.CreateVector(refs);
  auto hold_id = Str(b, h.hold.hold_id), source = Str(b, h.hold.source),
       connector = Str(b, h.hold.connector), reason = Str(b, h.hold.reason);
  auto hold = fb::CreateDeleteHold(b, hold_id, source, connector, reason, rv,
                                   h.hold.known);
  Offset<flatbuffers::Vector<std::int64_t>> due;
  if (!h.due_us.empty()) due = b.CreateVector(h.due_us);
  b.Finish(fb::CreateHoldRecord(b, hold, static_cast<fb::HoldStatus>(h.status),
                                h.seq, h.decided_seq, due, h.until_us));
  return Finish(b);
}

Status DecodeHoldState(std::string_view bytes, HoldState* out) {
  const auto* r = Verified<fb::HoldRecord>(bytes);
  if (!r || !r->hold() || !InRange(r->status(), fb::HoldStatus::MAX))
    return Bad("hold");
  const auto* h = r->hold();
  Assign(&out->hold.hold_id, h->hold_id());
  Assign(&out->hold.source, h->source());
  Assign(&out->hold.connector, h->connector());
  Assign(&out->hold.reason, h->reason());
  out->hold.deletes.clear();
  if (h->deletes()) {
    for (const auto* d : *h->deletes()) {
      if (!InRange(d->side(), fb::Side::MAX) ||
          !InRange(d->kind(), fb::ObjectKind::MAX))
        return Bad("hold");
      ObjectRef ref;
      ref.side = static_cast<Side>(d->side());
      ref.kind = static_cast<ObjectKind>(d->kind());
      Assign(&ref.id, d->id());
      Assign(&ref.dn, d->dn());
      Assign(&ref.domain, d->domain());
      Assign(&ref.remains_at, d->remains_at());
      out->hold.deletes.push_back(std::move(ref));
    }
  }
  out->hold.known = h->known();
  out->status = static_cast<HoldStatus>(r->status());
  out->seq = r->seq();
  out->decided_seq = r->decided_seq();
  out->due_us.clear();
  if (r->due_us()) {
    if (r->due_us()->size() != out->hold.deletes.size()) return Bad("hold");
    out->due_us.assign(r->due_us()->begin(), r->due_us()->end());
  }
  out->until_us = r->until_us();
  return Status::Ok();
}

std::string EncodeDriftState(const DriftState& d) {
  FlatBufferBuilder b(128);
  auto ldap = Str(b, d.ldap_id), mail = Str(b, d.mail_id),
       domain = Str(b, d.domain), connector = Str(b, d.connector);
  auto fields = Strings(b, d.fields);
  b.Finish(fb::CreateDriftRecord(b, static_cast<fb::ObjectKind>(d.kind), ldap,
                                 mail, domain, connector, fields, d.since_seq));
  return Finish(b);
}

Status DecodeDriftState(std::string_view bytes, DriftState* out) {
  const auto* r = Verified<fb::DriftRecord>(bytes);
  if (!r || !InRange(r->kind(), fb::ObjectKind::MAX)) return Bad("drift");
  out->kind = static_cast<ObjectKind>(r->kind());
  Assign(&out->ldap_id, r->ldap_id());
  Assign(&out->mail_id, r->mail_id());
  Assign(&out->domain, r->domain());
  Assign(&out->connector, r->connector());
  ReadStrings(&out->fields, r->fields());
  out->since_seq = r->since_seq();
  return Status::Ok();
}

std::string_view FailureKindName(FailureKind kind) {
  switch (kind) {
    case FailureKind::kFailedWrite:
      return "failed_write";
    case FailureKind::kObjectError:
      return "object_error";
    case FailureKind::kRefusedAddress:
      return "refused_address";
  }
  return "unknown";
}

std::string FailureId(const FailureState& f) {
  return "F" + std::to_string(f.since_seq);
}

std::string EncodeFailureState(const FailureState& f) {
  FlatBufferBuilder b(256);
  auto object = Str(b, f.object), dn = Str(b, f.dn), domain = Str(b, f.domain),
       connector = Str(b, f.connector), source = Str(b, f.source),
       message = Str(b, f.message);
  b.Finish(fb::CreateFailureRecord(
      b, static_cast<fb::FailureKind>(f.kind), static_cast<fb::Side>(f.side),
      static_cast<fb::ObjectKind>(f.object_kind), object, dn, domain, connector,
      source, f.intent_id, static_cast<fb::IntentOp>(f.op), message,
      f.since_seq));
  return Finish(b);
}

Status DecodeFailureState(std::string_view bytes, FailureState* out) {
  const auto* r = Verified<fb::FailureRecord>(bytes);
  if (!r || !InRange(r->kind(), fb::FailureKind::MAX) ||
      !InRange(r->side(), fb::Side::MAX) ||
      !InRange(r->object_kind(), fb::ObjectKind::MAX) ||
      !InRange(r->op(), fb::IntentOp::MAX))
    return Bad("failure");
  out->kind = static_cast<FailureKind>(r->kind());
  out->side = static_cast<Side>(r->side());
  out->object_kind = static_cast<ObjectKind>(r->object_kind());
  Assign(&out->object, r->object());
  Assign(&out->dn, r->dn());
  Assign(&out->domain, r->domain());
  Assign(&out->connector, r->connector());
  Assign(&out->source, r->source());
  out->intent_id = r->intent_id();
  out->op = static_cast<IntentOp>(r->op());
  Assign(&out->message, r->message());
  out->since_seq = r->since_seq();
  return Status::Ok();
}

}  // namespace dirledger

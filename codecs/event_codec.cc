#include "codecs/event_codec.h"

#include <flatbuffers/flatbuffers.h>

#include "codecs/fb_util.h"
#include "dirledger/fb/event_generated.h"

namespace dirledger {
namespace {

namespace fb = ::dirledger::fb;
using namespace ::dirledger::fbutil;  // NOLINT: codec helpers

struct BodyEncoder {
  FlatBufferBuilder& b;

  std::pair<fb::EventBody, Offset<void>> operator()(const ObservedChange& c) {
    auto source = Str(b, c.source), connector = Str(b, c.connector),
         domain = Str(b, c.domain), id = Str(b, c.id), dn = Str(b, c.dn);
    auto attrs = Attrs(b, c.attrs), adds = Attrs(b, c.value_adds),
         dels = Attrs(b, c.value_deletes);
    Offset<flatbuffers::String> remains_at;
    if (!c.remains_at.empty()) remains_at = Str(b, c.remains_at);
    auto o = fb::CreateObservedChange(
        b, static_cast<fb::Side>(c.side), source, connector, domain,
        static_cast<fb::ObjectKind>(c.kind), id, dn,
        static_cast<fb::ChangeOp>(c.op), c.full_image, attrs, adds, dels,
        c.origin_intent, c.delete_delay_s, c.source_known, remains_at);
    return {fb::EventBody::ObservedChange, o.Union()};
  }
  std::pair<fb::EventBody, Offset<void>> operator()(const CursorAdvance& c) {
    auto source = Str(b, c.source);
    auto cookie = Bytes(b, c.cookie);
    return {fb::EventBody::CursorAdvance,
            fb::CreateCursorAdvance(b, source, cookie).Union()};
  }
  std::pair<fb::EventBody, Offset<void>> operator()(const RefreshPhase& p) {
    auto source = Str(b, p.source), connector = Str(b, p.connector);
    return {fb::EventBody::RefreshPhase,
            fb::CreateRefreshPhase(b, source, connector,
                                   static_cast<fb::PhaseKind>(p.kind),
                                   static_cast<fb::RefreshMode>(p.mode),
                                   p.entries, p.present, p.missing)
                .Union()};
  }
  std::pair<fb::EventBody, Offset<void>> operator()(const ConfigChange& c) {
    std::vector<Offset<fb::NamedFile>> files;
    for (const NamedFile& f : c.files) {
      auto name = Str(b, f.name);
      auto content = Bytes(b, f.content);
      files.push_back(fb::CreateNamedFile(b, name, content));
    }
    auto fv = b.CreateVector(files);
    auto text = Str(b, c.text);
    auto sha = Bytes(b, c.sha256);
    auto path = Str(b, c.path);
    return {fb::EventBody::ConfigChange,
            fb::CreateConfigChange(b, text, sha, fv, path, c.reconciler_rules)
                .Union()};
  }
  std::pair<fb::EventBody, Offset<void>> operator()(const OperatorAction& a) {
    std::vector<Offset<fb::ObjectTarget>> targets;
    targets.reserve(a.targets.size());
    for (const ObjectTarget& t : a.targets) {
      auto id = Str(b, t.id), dn = Str(b, t.dn), domain = Str(b, t.domain),
           connector = Str(b, t.connector);
      auto attrs = Attrs(b, t.attrs);
      // Absent unless set, so targets encode as before.
      Offset<flatbuffers::String> renamed_from;
      if (!t.renamed_from.empty()) renamed_from = Str(b, t.renamed_from);
      targets.push_back(fb::CreateObjectTarget(
          b, static_cast<fb::Side>(t.side), static_cast<fb::ObjectKind>(t.kind),
          id, dn, domain, connector, t.exists, attrs, renamed_from));
    }
    auto tv = b.CreateVector(targets);
    auto actor = Str(b, a.actor), hold = Str(b, a.hold_id),
         side = Str(b, a.side_filter), domain = Str(b, a.domain_filter),
         command = Str(b, a.command);
    // Absent unless set, so actions of other kinds encode as before.
    Offset<flatbuffers::String> failure;
    if (!a.failure_id.empty()) failure = Str(b, a.failure_id);
    return {fb::EventBody::OperatorAction,
            fb::CreateOperatorAction(b, static_cast<fb::ActionKind>(a.kind),
                                     actor, hold, a.to_seq, side, domain, tv,
                                     command, failure)
                .Union()};
  }
  std::pair<fb::EventBody, Offset<void>> operator()(const WriteOutcome& w) {
    auto msg = Str(b, w.message), target = Str(b, w.target_id),
         assigned = Str(b, w.assigned_id);
    return {fb::EventBody::WriteOutcome,
            fb::CreateWriteOutcome(
                b, w.intent_id, w.ok, msg, static_cast<fb::Side>(w.side),
                target, assigned, w.retryable, w.attempts, w.already_applied)
                .Union()};
  }
  std::pair<fb::EventBody, Offset<void>> operator()(const DeleteHold& h) {
    std::vector<Offset<fb::ObjectRef>> refs;
    refs.reserve(h.deletes.size());
    for (const ObjectRef& r : h.deletes) {
      auto id = Str(b, r.id), dn = Str(b, r.dn), domain = Str(b, r.domain);
      Offset<flatbuffers::String> remains_at;
      if (!r.remains_at.empty()) remains_at = Str(b, r.remains_at);
      refs.push_back(fb::CreateObjectRef(b, static_cast<fb::Side>(r.side),
                                         static_cast<fb::ObjectKind>(r.kind),
                                         id, dn, domain, remains_at));
    }
    auto rv = b.CreateVector(refs);
    auto hold = Str(b, h.hold_id), source = Str(b, h.source),
         connector = Str(b, h.connector), reason = Str(b, h.reason);
    return {
        fb::EventBody::DeleteHold,
        fb::CreateDeleteHold(b, hold, source, connector, reason, rv, h.known)
            .Union()};
  }
  std::pair<fb::EventBody, Offset<void>> operator()(const ObjectError& e) {
    auto source = Str(b, e.source), connector = Str(b, e.connector),
         id = Str(b, e.id), dn = Str(b, e.dn), msg = Str(b, e.message);
    return {fb::EventBody::ObjectError,
            fb::CreateObjectError(b, static_cast<fb::Side>(e.side), source,
                                  connector, id, dn, msg)
                .Union()};
  }
};

void BuildEvent(FlatBufferBuilder& b, const Event& e) {
  auto [type, body] = std::visit(BodyEncoder{b}, e.body);
  auto prev = Bytes(b, e.prev_hash);
  fb::EventBuilder eb(b);
  eb.add_seq(e.seq);
  eb.add_time_us(e.time_us);
  eb.add_prev_hash(prev);
  eb.add_body_type(type);
  eb.add_body(body);
  b.Finish(eb.Finish());
}

void BuildDecision(FlatBufferBuilder& b, const Decision& d) {
  std::vector<Offset<fb::Intent>> intents;
  intents.reserve(d.intents.size());
  for (const Intent& i : d.intents) intents.push_back(BuildIntent(b, i));
  auto iv = b.CreateVector(intents);
  auto rule = Str(b, d.rule), reason = Str(b, d.reason),
       link_ldap = Str(b, d.link_ldap_id), link_mail = Str(b, d.link_mail_id);
  auto fields = Strings(b, d.conflict_fields);
  auto ids = Strings(b, d.object_ids);
  b.Finish(fb::CreateDecision(
      b, d.seq, rule, static_cast<fb::Outcome>(d.outcome), reason, iv,
      link_ldap, link_mail, fields, static_cast<fb::Side>(d.winner), ids));
}

std::string SeqLabel(std::uint64_t seq) {
  return "log record " + std::to_string(seq);
}

Status DecodeBody(const fb::Event* e, std::uint64_t seq, EventBody* out) {
  const std::string where = SeqLabel(seq);
  if (e->body_type() != fb::EventBody::NONE && e->body() == nullptr)
    return Status::Corruption(where + ": event type " +
                              std::to_string(static_cast<int>(e->body_type())) +
                              " has no body");
  switch (e->body_type()) {
    case fb::EventBody::ObservedChange: {
      const auto* c = e->body_as_ObservedChange();
      if (!InRange(c->side(), fb::Side::MAX) ||
          !InRange(c->kind(), fb::ObjectKind::MAX) ||
          !InRange(c->op(), fb::ChangeOp::MAX))
        return Status::Corruption(where + ": change has an unknown enum value");
      if (!std::holds_alternative<ObservedChange>(*out))
        out->emplace<ObservedChange>();
      auto& o = std::get<ObservedChange>(*out);
      o.side = static_cast<Side>(c->side());
      Assign(&o.source, c->source());
      Assign(&o.connector, c->connector());
      Assign(&o.domain, c->domain());
      o.kind = static_cast<ObjectKind>(c->kind());
      Assign(&o.id, c->id());
      Assign(&o.dn, c->dn());
      o.op = static_cast<ChangeOp>(c->op());
      o.full_image = c->full_image();
      ReadAttrs(&o.attrs, c->attrs());
      ReadAttrs(&o.value_adds, c->value_adds());
      ReadAttrs(&o.value_deletes, c->value_deletes());
      o.origin_intent = c->origin_intent();
      o.delete_delay_s = c->delete_delay_s();
      o.source_known = c->source_known();
      Assign(&o.remains_at, c->remains_at());
      return Status::Ok();
    }
    case fb::EventBody::CursorAdvance: {
      const auto* c = e->body_as_CursorAdvance();
      CursorAdvance o;
      Assign(&o.source, c->source());
      AssignBytes(&o.cookie, c->cookie());
      *out = std::move(o);
      return Status::Ok();
    }
    case fb::EventBody::RefreshPhase: {
      const auto* p = e->body_as_RefreshPhase();
      if (!InRange(p->kind(), fb::PhaseKind::MAX) ||
          !InRange(p->mode(), fb::RefreshMode::MAX))
        return Status::Corruption(where + ": phase has an unknown enum value");
      RefreshPhase o;
      Assign(&o.source, p->source());
      Assign(&o.connector, p->connector());
      o.kind = static_cast<PhaseKind>(p->kind());
      o.mode = static_cast<RefreshMode>(p->mode());
      o.entries = p->entries();
      o.present = p->present();
      o.missing = p->missing();
      *out = std::move(o);
      return Status::Ok();
    }
    case fb::EventBody::ConfigChange: {
      const auto* c = e->body_as_ConfigChange();
      ConfigChange o;
      Assign(&o.text, c->text());
      AssignBytes(&o.sha256, c->sha256());
      if (c->files()) {
        for (const auto* f : *c->files()) {
          NamedFile nf;
          Assign(&nf.name, f->name());
          AssignBytes(&nf.content, f->content());
          o.files.push_back(std::move(nf));
        }
      }
      Assign(&o.path, c->path());
      o.reconciler_rules = c->reconciler_rules();
      *out = std::move(o);
      return Status::Ok();
    }
    case fb::EventBody::OperatorAction: {
      const auto* a = e->body_as_OperatorAction();
      if (!InRange(a->kind(), fb::ActionKind::MAX))
        return Status::Corruption(where + ": unknown operator action kind");
      OperatorAction o;
      o.kind = static_cast<ActionKind>(a->kind());
      Assign(&o.actor, a->actor());
      Assign(&o.hold_id, a->hold_id());
      o.to_seq = a->to_seq();
      Assign(&o.side_filter, a->side_filter());
      Assign(&o.domain_filter, a->domain_filter());
      if (a->targets()) {
        for (const auto* t : *a->targets()) {
          if (!InRange(t->side(), fb::Side::MAX) ||
              !InRange(t->kind(), fb::ObjectKind::MAX))
            return Status::Corruption(where + ": target has an unknown enum");
          ObjectTarget ot;
          ot.side = static_cast<Side>(t->side());
          ot.kind = static_cast<ObjectKind>(t->kind());
          Assign(&ot.id, t->id());
          Assign(&ot.dn, t->dn());
          Assign(&ot.domain, t->domain());
          Assign(&ot.connector, t->connector());
          ot.exists = t->exists();
          ReadAttrs(&ot.attrs, t->attrs());
          Assign(&ot.renamed_from, t->renamed_from());
          o.targets.push_back(std::move(ot));
        }
      }
      Assign(&o.command, a->command());
      Assign(&o.failure_id, a->failure_id());
      *out = std::move(o);
      return Status::Ok();
    }
    case fb::EventBody::WriteOutcome: {
      const auto* w = e->body_as_WriteOutcome();
      if (!InRange(w->side(), fb::Side::MAX))
        return Status::Corruption(where + ": outcome has an unknown side");
      WriteOutcome o;
      o.intent_id = w->intent_id();
      o.ok = w->ok();
      Assign(&o.message, w->message());
      o.side = static_cast<Side>(w->side());
      Assign(&o.target_id, w->target_id());
      Assign(&o.assigned_id, w->assigned_id());
      o.retryable = w->retryable();
      o.attempts = w->attempts();
      o.already_applied = w->already_applied();
      *out = std::move(o);
      return Status::Ok();
    }
    case fb::EventBody::DeleteHold: {
      const auto* h = e->body_as_DeleteHold();
      DeleteHold o;
      Assign(&o.hold_id, h->hold_id());
      Assign(&o.source, h->source());
      Assign(&o.connector, h->connector());
      Assign(&o.reason, h->reason());
      if (h->deletes()) {
        o.deletes.reserve(h->deletes()->size());
        for (const auto* r : *h->deletes()) {
          if (!InRange(r->side(), fb::Side::MAX) ||
              !InRange(r->kind(), fb::ObjectKind::MAX))
            return Status::Corruption(where +
                                      ": held delete has an unknown enum");
          ObjectRef ref;
          ref.side = static_cast<Side>(r->side());
          ref.kind = static_cast<ObjectKind>(r->kind());
          Assign(&ref.id, r->id());
          Assign(&ref.dn, r->dn());
          Assign(&ref.domain, r->domain());
          Assign(&ref.remains_at, r->remains_at());
          o.deletes.push_back(std::move(ref));
        }
      }
      o.known = h->known();
      *out = std::move(o);
      return Status::Ok();
    }
    case fb::EventBody::ObjectError: {
      const auto* x = e->body_as_ObjectError();
      if (!InRange(x->side(), fb::Side::MAX))
        return Status::Corruption(where + ": error event has an unknown side");
      ObjectError o;
      o.side = static_cast<Side>(x->side());
      Assign(&o.source, x->source());
      Assign(&o.connector, x->connector());
      Assign(&o.id, x->id());
      Assign(&o.dn, x->dn());
      Assign(&o.message, x->message());
      *out = std::move(o);
      return Status::Ok();
    }
    case fb::EventBody::NONE:
      break;
  }
  return Status::Corruption(where + ": unknown event type " +
                            std::to_string(static_cast<int>(e->body_type())));
}

}  // namespace

EventEncoder::EventEncoder()
    : builder_(std::make_unique<FlatBufferBuilder>(1024)) {}
EventEncoder::~EventEncoder() = default;

std::string_view EventEncoder::Encode(const Event& event) {
  builder_->Clear();
  BuildEvent(*builder_, event);
  return {reinterpret_cast<const char*>(builder_->GetBufferPointer()),
          builder_->GetSize()};
}

DecisionEncoder::DecisionEncoder()
    : builder_(std::make_unique<FlatBufferBuilder>(512)) {}
DecisionEncoder::~DecisionEncoder() = default;

std::string_view DecisionEncoder::Encode(const Decision& decision) {
  builder_->Clear();
  BuildDecision(*builder_, decision);
  return {reinterpret_cast<const char*>(builder_->GetBufferPointer()),
          builder_->GetSize()};
}

std::string EncodeEvent(const Event& event) {
  EventEncoder enc;
  return std::string(enc.Encode(event));
}

std::string EncodeDecision(const Decision& decision) {
  DecisionEncoder enc;
  return std::string(enc.Encode(decision));
}

Status VerifyEventBytes(std::string_view bytes, std::uint64_t seq) {
  bytes = Aligned(bytes);
  flatbuffers::Verifier v(reinterpret_cast<const uint8_t*>(bytes.data()),
                          bytes.size());
  if (!fb::VerifyEventBuffer(v))
    return Status::Corruption(SeqLabel(seq) +
                              ": event fails FlatBuffers verification");
  return Status::Ok();
}

Status VerifyDecisionBytes(std::string_view bytes, std::uint64_t seq) {
  bytes = Aligned(bytes);
  flatbuffers::Verifier v(reinterpret_cast<const uint8_t*>(bytes.data()),
                          bytes.size());
  if (!v.VerifyBuffer<fb::Decision>(nullptr))
    return Status::Corruption("decision " + std::to_string(seq) +
                              ": fails FlatBuffers verification");
  return Status::Ok();
}

Status DecodeEvent(std::string_view bytes, std::uint64_t seq, Event* out) {
  bytes = Aligned(bytes);
  DIRLEDGER_RETURN_IF_ERROR(VerifyEventBytes(bytes, seq));
  const fb::Event* e = fb::GetEvent(bytes.data());
  if (e->seq() != seq)
    return Status::Corruption(SeqLabel(seq) + ": record says it is sequence " +
                              std::to_string(e->seq()));
  out->seq = e->seq();
  out->time_us = e->time_us();
  AssignBytes(&out->prev_hash, e->prev_hash());
  return DecodeBody(e, seq, &out->body);
}

Status DecodeDecision(std::string_view bytes, std::uint64_t seq,
                      Decision* out) {
  bytes = Aligned(bytes);
  DIRLEDGER_RETURN_IF_ERROR(VerifyDecisionBytes(bytes, seq));
  const auto* d = flatbuffers::GetRoot<fb::Decision>(bytes.data());
  if (d->seq() != seq)
    return Status::Corruption("decision " + std::to_string(seq) +
                              ": record says it is sequence " +
                              std::to_string(d->seq()));
  if (!InRange(d->outcome(), fb::Outcome::MAX) ||
      !InRange(d->winner(), fb::Side::MAX))
    return Status::Corruption("decision " + std::to_string(seq) +
                              ": unknown enum value");
  out->seq = d->seq();
  Assign(&out->rule, d->rule());
  out->outcome = static_cast<Outcome>(d->outcome());
  Assign(&out->reason, d->reason());
  const auto* iv = d->intents();
  out->intents.resize(iv ? iv->size() : 0);
  for (size_t k = 0; k < out->intents.size(); ++k) {
    DIRLEDGER_RETURN_IF_ERROR(
        ReadIntent(iv->Get(static_cast<flatbuffers::uoffset_t>(k)),
                   "decision " + std::to_string(seq), &out->intents[k]));
  }
  Assign(&out->link_ldap_id, d->link_ldap_id());
  Assign(&out->link_mail_id, d->link_mail_id());
  ReadStrings(&out->conflict_fields, d->conflict_fields());
  out->winner = static_cast<Side>(d->winner());
  ReadStrings(&out->object_ids, d->object_ids());
  return Status::Ok();
}

}  // namespace dirledger

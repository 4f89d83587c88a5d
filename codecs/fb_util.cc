#include "codecs/fb_util.h"

#include <cstdint>

namespace dirledger::fbutil {

std::string_view Aligned(std::string_view bytes) {
  if ((reinterpret_cast<std::uintptr_t>(bytes.data()) & 7) == 0) return bytes;
  // std::string storage comes from operator new: 16-byte aligned.
  thread_local std::string scratch;
  scratch.assign(bytes.data(), bytes.size());
  return scratch;
}

Offset<Vector<Offset<fb::Attribute>>> Attrs(FlatBufferBuilder& b,
                                            const AttrList& attrs) {
  std::vector<Offset<fb::Attribute>> out;
  out.reserve(attrs.size());
  std::vector<Offset<flatbuffers::String>> values;
  for (const Attribute& a : attrs) {
    values.clear();
    values.reserve(a.values.size());
    for (const std::string& v : a.values) values.push_back(Str(b, v));
    auto name = Str(b, a.name);
    auto vals = b.CreateVector(values);
    out.push_back(fb::CreateAttribute(b, name, vals));
  }
  return b.CreateVector(out);
}

Offset<Vector<Offset<flatbuffers::String>>> Strings(
    FlatBufferBuilder& b, const std::vector<std::string>& v) {
  std::vector<Offset<flatbuffers::String>> out;
  out.reserve(v.size());
  for (const std::string& s : v) out.push_back(Str(b, s));
  return b.CreateVector(out);
}

Offset<fb::Intent> BuildIntent(FlatBufferBuilder& b, const Intent& i) {
  auto target_id = Str(b, i.target_id), dn = Str(b, i.dn),
       new_dn = Str(b, i.new_dn), domain = Str(b, i.domain),
       connector = Str(b, i.connector), source_id = Str(b, i.source_id);
  auto set = Attrs(b, i.set), adds = Attrs(b, i.add_values),
       dels = Attrs(b, i.delete_values), expect = Attrs(b, i.expect);
  return fb::CreateIntent(b, i.id, static_cast<fb::Side>(i.target),
                          static_cast<fb::ObjectKind>(i.kind),
                          static_cast<fb::IntentOp>(i.op), target_id, dn,
                          new_dn, domain, connector, set, adds, dels, expect,
                          i.expected_version, source_id);
}

void ReadAttrs(AttrList* out, const Vector<Offset<fb::Attribute>>* v) {
  if (!v) {
    out->clear();
    return;
  }
  out->resize(v->size());
  for (flatbuffers::uoffset_t i = 0; i < v->size(); ++i) {
    const fb::Attribute* a = v->Get(i);
    Attribute& dst = (*out)[i];
    Assign(&dst.name, a->name());
    const auto* vals = a->values();
    const flatbuffers::uoffset_t n = vals ? vals->size() : 0;
    dst.values.resize(n);
    for (flatbuffers::uoffset_t j = 0; j < n; ++j)
      Assign(&dst.values[j], vals->Get(j));
  }
}

void ReadStrings(std::vector<std::string>* out,
                 const Vector<Offset<flatbuffers::String>>* v) {
  const flatbuffers::uoffset_t n = v ? v->size() : 0;
  out->resize(n);
  for (flatbuffers::uoffset_t i = 0; i < n; ++i) Assign(&(*out)[i], v->Get(i));
}

Status ReadIntent(const fb::Intent* i, const std::string& where, Intent* o) {
  if (!InRange(i->target(), fb::Side::MAX) ||
      !InRange(i->kind(), fb::ObjectKind::MAX) ||
      !InRange(i->op(), fb::IntentOp::MAX))
    return Status::Corruption(where + ": intent has an unknown enum value");
  o->id = i->id();
  o->target = static_cast<Side>(i->target());
  o->kind = static_cast<ObjectKind>(i->kind());
  o->op = static_cast<IntentOp>(i->op());
  Assign(&o->target_id, i->target_id());
  Assign(&o->dn, i->dn());
  Assign(&o->new_dn, i->new_dn());
  Assign(&o->domain, i->domain());
  Assign(&o->connector, i->connector());
  ReadAttrs(&o->set, i->set());
  ReadAttrs(&o->add_values, i->add_values());
  ReadAttrs(&o->delete_values, i->delete_values());
  ReadAttrs(&o->expect, i->expect());
  o->expected_version = i->expected_version();
  Assign(&o->source_id, i->source_id());
  return Status::Ok();
}

}  // namespace dirledger::fbutil

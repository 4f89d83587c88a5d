#include "replay/packed_record.h"

#include <cstring>
#include <iterator>
#include <utility>

namespace dirledger {
namespace {

// Object flags.
constexpr std::uint64_t kDnIsId = 1;
constexpr std::uint64_t kAddressIsId = 2;
constexpr std::uint64_t kAddressIsDn = 4;

char* WriteVarint(char* p, std::uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}

void PutVarint(std::string* out, std::uint64_t v) {
  char bytes[10];
  out->append(bytes, WriteVarint(bytes, v));
}

void PutBytes(std::string* out, std::string_view s) {
  PutVarint(out, s.size());
  out->append(s);
}

// Reads what Put* wrote; the bytes are trusted (packed by this process).
class Unpacker {
 public:
  explicit Unpacker(std::string_view bytes)
      : p_(bytes.data()), end_(bytes.data() + bytes.size()) {}

  std::uint64_t Varint() {
    std::uint64_t v = 0;
    for (int shift = 0; p_ < end_; shift += 7) {
      const auto b = static_cast<unsigned char>(*p_++);
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if (b < 0x80) break;
    }
    return v;
  }
  std::string_view Bytes() {
    const std::size_t n = Varint();
    std::string_view s(p_, n);
    p_ += n;
    return s;
  }
  std::uint32_t Number() { return static_cast<std::uint32_t>(Varint()); }

 private:
  const char* p_;
  const char* end_;
};

std::size_t VarintSize(std::uint64_t v) {
  std::size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

// Sized first, then written in place: packing runs once for every record a
// replay writes, and a push_back per byte was most of its cost.
void PackAttrs(const AttrList& attrs, NameTable* names, std::string* out) {
  std::uint32_t numbers[64];
  std::vector<std::uint32_t> more;
  std::uint32_t* number = numbers;
  if (attrs.size() > std::size(numbers)) {
    more.resize(attrs.size());
    number = more.data();
  }
  std::size_t size = VarintSize(attrs.size());
  for (std::size_t i = 0; i < attrs.size(); ++i) {
    const Attribute& a = attrs[i];
    number[i] = names->Intern(a.name);
    size += VarintSize(number[i]) + VarintSize(a.values.size());
    for (const std::string& v : a.values)
      size += VarintSize(v.size()) + v.size();
  }
  const std::size_t at = out->size();
  out->resize(at + size);
  char* p = WriteVarint(out->data() + at, attrs.size());
  for (std::size_t i = 0; i < attrs.size(); ++i) {
    const Attribute& a = attrs[i];
    p = WriteVarint(p, number[i]);
    p = WriteVarint(p, a.values.size());
    for (const std::string& v : a.values) {
      p = WriteVarint(p, v.size());
      std::memcpy(p, v.data(), v.size());
      p += v.size();
    }
  }
}

void UnpackAttrs(Unpacker* in, const NameTable& names, AttrList* attrs) {
  attrs->resize(in->Varint());
  for (Attribute& a : *attrs) {
    a.name = names.Name(in->Number());
    a.values.resize(in->Varint());
    for (std::string& v : a.values) v = in->Bytes();
  }
}

}  // namespace

std::uint32_t NameTable::Intern(std::string_view s) {
  const std::size_t slot =
      (s.size() * 31 + (s.empty() ? 0 : static_cast<unsigned char>(s.back()))) %
      kRecent;
  if (const std::uint32_t n = recent_[slot];
      n < names_.size() && names_[n] == s)
    return n;
  auto [it, added] = numbers_.try_emplace(s);
  if (added) {
    it->second = static_cast<std::uint32_t>(names_.size());
    names_.emplace_back(s);
  }
  recent_[slot] = it->second;
  return it->second;
}

void PackObject(const ObjectState& o, NameTable* names, std::string* out) {
  std::uint64_t flags = 0;
  if (o.dn == o.id) flags |= kDnIsId;
  if (o.address == o.id)
    flags |= kAddressIsId;
  else if (o.address == o.dn)
    flags |= kAddressIsDn;
  PutVarint(out, flags);
  PutVarint(out, o.version);
  PutVarint(out, o.creating_intent);
  PutVarint(out, o.leaving_intent);
  PutVarint(out, names->Intern(o.domain));
  PutVarint(out, names->Intern(o.connector));
  PutVarint(out, names->Intern(o.source));
  if (!(flags & kDnIsId)) PutBytes(out, o.dn);
  if (!(flags & (kAddressIsId | kAddressIsDn))) PutBytes(out, o.address);
  PackAttrs(o.attrs, names, out);
}

void UnpackObject(std::string_view packed, Side side, ObjectKind kind,
                  std::string_view id, const NameTable& names,
                  ObjectState* out) {
  Unpacker in(packed);
  out->side = side;
  out->kind = kind;
  out->id = id;
  const std::uint64_t flags = in.Varint();
  out->version = in.Varint();
  out->creating_intent = in.Varint();
  out->leaving_intent = in.Varint();
  out->domain = names.Name(in.Number());
  out->connector = names.Name(in.Number());
  out->source = names.Name(in.Number());
  if (flags & kDnIsId)
    out->dn = id;
  else
    out->dn = in.Bytes();
  if (flags & kAddressIsId)
    out->address = id;
  else if (flags & kAddressIsDn)
    out->address = out->dn;
  else
    out->address = in.Bytes();
  UnpackAttrs(&in, names, &out->attrs);
}

const std::string& PackedObjectSource(std::string_view packed,
                                      const NameTable& names) {
  Unpacker in(packed);
  for (int i = 0; i < 6; ++i) in.Varint();  // flags to connector
  return names.Name(in.Number());
}

void PackLink(const LinkState& l, NameTable* names, std::string* out) {
  PutVarint(out, l.version);
  PutVarint(out, names->Intern(l.domain));
  PutVarint(out, names->Intern(l.connector));
  PutBytes(out, l.mail_id);
  PackAttrs(l.agreed, names, out);
}

void UnpackLink(std::string_view packed, ObjectKind kind,
                std::string_view ldap_id, const NameTable& names,
                LinkState* out) {
  Unpacker in(packed);
  out->kind = kind;
  out->ldap_id = ldap_id;
  out->version = in.Varint();
  out->domain = names.Name(in.Number());
  out->connector = names.Name(in.Number());
  out->mail_id = in.Bytes();
  UnpackAttrs(&in, names, &out->agreed);
}

std::string_view PackedLinkMailId(std::string_view packed) {
  Unpacker in(packed);
  for (int i = 0; i < 3; ++i) in.Varint();  // version, domain, connector
  return in.Bytes();
}

}  // namespace dirledger

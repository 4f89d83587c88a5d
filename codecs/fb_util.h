// Internal to codecs/: helpers shared by the FlatBuffers encoders and
// decoders (strings, byte vectors, attribute lists, intents).
#ifndef DIRLEDGER_CODECS_FB_UTIL_H_
#define DIRLEDGER_CODECS_FB_UTIL_H_

#include <flatbuffers/flatbuffers.h>

#include <string>
#include <vector>

#include "codecs/event.h"
#include "codecs/status.h"
#include "dirledger/fb/event_generated.h"

namespace dirledger::fbutil {

using flatbuffers::FlatBufferBuilder;
using flatbuffers::Offset;
using flatbuffers::Vector;

inline Offset<flatbuffers::String> Str(FlatBufferBuilder& b,
                                       const std::string& s) {
  return b.CreateString(s.data(), s.size());
}

inline Offset<Vector<uint8_t>> Bytes(FlatBufferBuilder& b,
                                     const std::string& s) {
  return b.CreateVector(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

Offset<Vector<Offset<fb::Attribute>>> Attrs(FlatBufferBuilder& b,
                                            const AttrList& attrs);
Offset<Vector<Offset<flatbuffers::String>>> Strings(
    FlatBufferBuilder& b, const std::vector<std::string>& v);
Offset<fb::Intent> BuildIntent(FlatBufferBuilder& b, const Intent& i);

inline void Assign(std::string* out, const flatbuffers::String* s) {
  if (s)
    out->assign(s->data(), s->size());
  else
    out->clear();
}

inline void AssignBytes(std::string* out, const Vector<uint8_t>* v) {
  if (v)
    out->assign(reinterpret_cast<const char*>(v->data()), v->size());
  else
    out->clear();
}

void ReadAttrs(AttrList* out, const Vector<Offset<fb::Attribute>>* v);
void ReadStrings(std::vector<std::string>* out,
                 const Vector<Offset<flatbuffers::String>>* v);
// Fails (with `where` in the message) on an enum value this build does not
// know.
Status ReadIntent(const fb::Intent* i, const std::string& where, Intent* out);

// FlatBuffers reads fields in place, so the buffer must start on an 8-byte
// boundary. Bytes handed out by RocksDB (or sliced from a larger value) may
// not: those are copied into a thread-local aligned scratch buffer first.
std::string_view Aligned(std::string_view bytes);

template <typename E>
bool InRange(E v, E max) {
  return static_cast<unsigned>(v) <= static_cast<unsigned>(max);
}

}  // namespace dirledger::fbutil

#endif  // DIRLEDGER_CODECS_FB_UTIL_H_

// Packed records: how the in-memory projection (replay/
// in_memory_projection.h) keeps the objects and links it has not read or
// written lately, as one string of bytes each instead of a tree of strings
// and vectors. A decoded ObjectState with a dozen one-valued attributes costs
// about 1.5 KB of heap in some thirty allocations; packed, about 300 bytes in
// one. Attribute names, domains, connectors and sources, which repeat from
// record to record, are packed as numbers into a NameTable; the id, which the
// table's key already holds, is not packed again.
//
// The bytes are the projection's own and never leave the process: they are
// not a file or record format (checkpoints and the log use the encodings of
// codecs/projection.h), so a change of layout needs no version. Unpacking
// trusts them; a test packs and unpacks every record of simulated histories
// and compares.
//
// Layout (varint: LEB128, string: varint length then bytes):
//   object: flags, version, creating_intent, leaving_intent, domain,
//           connector, source (NameTable numbers), dn unless flags say it
//           equals the id, address unless flags say it equals the id or the
//           DN, attributes.
//   link:   version, domain, connector, mail_id, agreed attributes.
//   attributes: count, then each: name (NameTable number), value count,
//           values.
//
// Thread safety: NameTable is not thread-safe; the functions are pure.
#ifndef DIRLEDGER_REPLAY_PACKED_RECORD_H_
#define DIRLEDGER_REPLAY_PACKED_RECORD_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "codecs/projection.h"
#include "codecs/string_map.h"

namespace dirledger {

// Strings numbered in the order first seen, each once.
class NameTable {
 public:
  std::uint32_t Intern(std::string_view s);
  // The string numbered `n` (which Intern returned).
  const std::string& Name(std::uint32_t n) const { return names_[n]; }
  std::size_t size() const { return names_.size(); }

 private:
  // Names asked for come in the same few orders (attribute lists are
  // sorted), so a small table indexed by length and last byte answers most
  // of them without hashing; a miss or a collision asks numbers_.
  static constexpr std::size_t kRecent = 256;
  std::uint32_t recent_[kRecent] = {};
  std::vector<std::string> names_;
  StringMap<std::uint32_t> numbers_;
};

// Appends `o` packed to `out`; `names` gains the strings it has not seen.
void PackObject(const ObjectState& o, NameTable* names, std::string* out);
// The object `packed` holds, with the side, kind and id of its table key.
void UnpackObject(std::string_view packed, Side side, ObjectKind kind,
                  std::string_view id, const NameTable& names,
                  ObjectState* out);
// Only its source, without unpacking the rest.
const std::string& PackedObjectSource(std::string_view packed,
                                      const NameTable& names);

void PackLink(const LinkState& l, NameTable* names, std::string* out);
void UnpackLink(std::string_view packed, ObjectKind kind,
                std::string_view ldap_id, const NameTable& names,
                LinkState* out);
// Only its mail id, without unpacking the rest.
std::string_view PackedLinkMailId(std::string_view packed);

// A record as a projection table holds it: packed, or decoded while it is
// in use (then `packed` is empty if the decoded record has changed since).
// The packed bytes belong to the table (replay/packed_table.h).
template <typename T>
struct PackedCell {
  PackedCell() = default;
  PackedCell(const PackedCell& o)
      : packed(o.packed), hot(o.hot ? std::make_unique<T>(*o.hot) : nullptr) {}
  PackedCell& operator=(const PackedCell& o) {
    if (this != &o) *this = PackedCell(o);
    return *this;
  }
  PackedCell(PackedCell&&) noexcept = default;
  PackedCell& operator=(PackedCell&&) noexcept = default;

  std::string_view packed;
  // Decoding on a lookup is not a change of the projection.
  mutable std::unique_ptr<T> hot;
};

}  // namespace dirledger

#endif  // DIRLEDGER_REPLAY_PACKED_RECORD_H_

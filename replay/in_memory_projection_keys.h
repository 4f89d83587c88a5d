// The keys of InMemoryProjection's record tables (replay/
// in_memory_projection.h): side and kind as one byte each, then the id.
// Internal to the in_memory_projection*.cc files: a record read from a
// checkpoint is keyed exactly as Apply keys it.
#ifndef DIRLEDGER_REPLAY_IN_MEMORY_PROJECTION_KEYS_H_
#define DIRLEDGER_REPLAY_IN_MEMORY_PROJECTION_KEYS_H_

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "codecs/projection.h"

namespace dirledger::projection_keys {

inline char SideByte(Side s) {
  return static_cast<char>('0' + static_cast<int>(s));
}
inline char KindByte(ObjectKind k) {
  return static_cast<char>('0' + static_cast<int>(k));
}

inline std::string Prefixed(char a, char b, std::string_view id) {
  std::string k;
  k.reserve(2 + id.size());
  k.push_back(a);
  k.push_back(b);
  k.append(id);
  return k;
}

// Objects: side kind id.
inline std::string ObjectKey(Side side, ObjectKind kind, std::string_view id) {
  return Prefixed(SideByte(side), KindByte(kind), id);
}

// Links (by LDAP and by mail id), conflicts, drift: kind id.
inline std::string KindKey(ObjectKind kind, std::string_view id) {
  std::string k(1, KindByte(kind));
  k.append(id);
  return k;
}

// Pointers to the rows of a hash table (codecs/string_map.h) whose keys
// start with `prefix`, sorted by key: every listing and every write of a
// table goes in key order, never in hash order.
template <typename Map>
std::vector<const typename Map::value_type*> SortedRows(
    const Map& m, std::string_view prefix = {}) {
  std::vector<const typename Map::value_type*> rows;
  rows.reserve(m.size());
  for (const auto& row : m)
    if (std::string_view(row.first).substr(0, prefix.size()) == prefix)
      rows.push_back(&row);
  std::sort(rows.begin(), rows.end(),
            [](const auto* a, const auto* b) { return a->first < b->first; });
  return rows;
}

// For the code that writes a table's rows out: a row's record encoded with
// `encode` (one of codecs/projection.h's Encode* functions).
template <typename T>
auto RowEncoder(std::string (*encode)(const T&)) {
  return [encode](const auto& row) { return encode(row.second); };
}

// ProjectionStore's failure key without its prefix byte: kind side object.
inline std::string FailureTableKey(FailureKind kind, Side side,
                                   std::string_view object) {
  return Prefixed(static_cast<char>('0' + static_cast<int>(kind)),
                  SideByte(side), object);
}

}  // namespace dirledger::projection_keys

#endif  // DIRLEDGER_REPLAY_IN_MEMORY_PROJECTION_KEYS_H_

// PackedTable: a table of the in-memory projection (objects, links) whose
// records are kept packed (replay/packed_record.h): a StringMap from key to
// PackedCell, with every record's packed bytes in one arena of the table's
// (codecs/string_arena.h), where a std::string per record cost 32 bytes and
// an allocation beside its bytes.
//
// A record's bytes change only through SetPacked and ClearPacked; bytes
// replaced or erased are counted dead, and the arena is rebuilt when more
// of it is dead than alive. Pointers, iterators and views into the table
// are valid until the table changes (StringMap's contract).
//
// Thread safety: none.
#ifndef DIRLEDGER_REPLAY_PACKED_TABLE_H_
#define DIRLEDGER_REPLAY_PACKED_TABLE_H_

#include <cstddef>
#include <string_view>
#include <utility>

#include "codecs/string_arena.h"
#include "codecs/string_map.h"
#include "replay/packed_record.h"

namespace dirledger {

template <typename T>
class PackedTable {
 public:
  using Map = StringMap<PackedCell<T>>;
  using value_type = typename Map::value_type;
  using iterator = typename Map::iterator;
  using const_iterator = typename Map::const_iterator;

  PackedTable() = default;
  // A copy has an arena of its own.
  PackedTable(const PackedTable& other) : map_(other.map_) {
    bytes_.TakeCopies(map_, PackedOf);
  }
  PackedTable& operator=(const PackedTable& other) {
    if (this != &other) *this = PackedTable(other);
    return *this;
  }
  PackedTable(PackedTable&&) noexcept = default;
  PackedTable& operator=(PackedTable&&) noexcept = default;

  std::size_t size() const { return map_.size(); }
  bool empty() const { return map_.empty(); }
  iterator begin() { return map_.begin(); }
  iterator end() { return map_.end(); }
  const_iterator begin() const { return map_.begin(); }
  const_iterator end() const { return map_.end(); }
  iterator find(std::string_view key) { return map_.find(key); }
  const_iterator find(std::string_view key) const { return map_.find(key); }
  // A new row has no packed bytes and no decoded record.
  std::pair<iterator, bool> try_emplace(std::string_view key) {
    return map_.try_emplace(key);
  }

  void erase(const_iterator it) {
    bytes_.Release(it->second.packed);
    map_.erase(it);
    MaybeCompact();
  }
  std::size_t erase(std::string_view key) {
    const const_iterator it = map_.find(key);
    if (it == map_.end()) return 0;
    erase(it);
    return 1;
  }

  // Makes `bytes` the packed record of `row` (a row of this table).
  void SetPacked(value_type* row, std::string_view bytes) {
    bytes_.Release(row->second.packed);
    row->second.packed = bytes_.Add(bytes);
    MaybeCompact();
  }
  // Drops the packed record of `row` (its decoded record has changed).
  void ClearPacked(value_type* row) {
    bytes_.Release(row->second.packed);
    row->second.packed = {};
  }

 private:
  void MaybeCompact() { bytes_.CompactIfMostlyDead(map_, PackedOf); }
  // The view of a row's packed record, in bytes_.
  static std::string_view& PackedOf(value_type& row) {
    return row.second.packed;
  }

  Map map_;
  StringArena bytes_;  // the packed records' bytes
};

}  // namespace dirledger

#endif  // DIRLEDGER_REPLAY_PACKED_TABLE_H_

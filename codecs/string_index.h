// StringIndex: a StringMap (codecs/string_map.h) from string keys to string
// values, both kept in arenas, for the in-memory projection's indexes (a DN
// or an address to an object's id, a mail id to its link's LDAP id): a
// quarter of a million or more entries of two short strings each, where a
// pair of std::strings cost 64 bytes and two allocations beside the bytes.
//
// Values are set with Set() and read as views, valid (like pointers and
// iterators into the index) until the index changes.
//
// Thread safety: none.
#ifndef DIRLEDGER_CODECS_STRING_INDEX_H_
#define DIRLEDGER_CODECS_STRING_INDEX_H_

#include <cstddef>
#include <string_view>
#include <utility>

#include "codecs/string_arena.h"
#include "codecs/string_map.h"

namespace dirledger {

class StringIndex {
 public:
  using Map = StringMap<std::string_view>;
  using value_type = Map::value_type;  // (key, value)
  using const_iterator = Map::const_iterator;

  StringIndex() = default;
  // A copy has arenas of its own.
  StringIndex(const StringIndex& other) : map_(other.map_) {
    values_.TakeCopies(map_, ValueOf);
  }
  StringIndex& operator=(const StringIndex& other) {
    if (this != &other) *this = StringIndex(other);
    return *this;
  }
  StringIndex(StringIndex&&) noexcept = default;
  StringIndex& operator=(StringIndex&&) noexcept = default;

  std::size_t size() const { return map_.size(); }
  bool empty() const { return map_.empty(); }
  const_iterator begin() const { return map_.begin(); }
  const_iterator end() const { return map_.end(); }
  const_iterator find(std::string_view key) const { return map_.find(key); }

  // Maps `key` to `value` (replacing what it mapped to); whether it was new.
  bool Set(std::string_view key, std::string_view value) {
    auto [it, added] = map_.try_emplace(key);
    if (!added) {
      if (it->second == value) return false;
      values_.Release(it->second);
    }
    it->second = values_.Add(value);
    MaybeCompact();
    return added;
  }

  // Removes the entry with `key`; the number removed (0 or 1).
  std::size_t erase(std::string_view key) {
    const const_iterator it = map_.find(key);
    if (it == map_.end()) return 0;
    erase(it);
    return 1;
  }
  void erase(const_iterator it) {
    values_.Release(it->second);
    map_.erase(it);
    MaybeCompact();
  }

 private:
  void MaybeCompact() { values_.CompactIfMostlyDead(map_, ValueOf); }
  // The view of an entry's value, in values_.
  static std::string_view& ValueOf(value_type& e) { return e.second; }

  Map map_;
  StringArena values_;  // the bytes of the values
};

}  // namespace dirledger

#endif  // DIRLEDGER_CODECS_STRING_INDEX_H_

// StringMap: a hash map from string keys to values, for the tables looked
// up on every decision: the in-memory projection's objects, links and their
// indexes by DN, address and id. A lookup probes one contiguous array of small
// slots, each holding a slice of its key's hash and the position of its entry,
// and reads the entry only when the slice matches: where std::unordered_map
// walks a bucket's chain of separately allocated nodes, each a cache miss.
// Entries are kept densely in insertion-and-erase order (an erase moves the
// last entry into the hole), so iteration visits no empty slots. The keys'
// bytes are kept in a StringArena (codecs/string_arena.h): an entry holds a
// view of its key, 16 bytes, where a std::string took 32 and an allocation.
//
// The subset of std::unordered_map it offers has the same meaning, with two
// differences: every insert and erase may move entries, so pointers and
// iterators into the map, and views of its keys, are valid only until the
// map changes; and a key is a std::string_view.
//
// Thread safety: none (like the standard containers).
#ifndef DIRLEDGER_CODECS_STRING_MAP_H_
#define DIRLEDGER_CODECS_STRING_MAP_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "codecs/string_arena.h"

namespace dirledger {

template <typename V>
class StringMap {
 public:
  using value_type = std::pair<std::string_view, V>;
  using iterator = value_type*;
  using const_iterator = const value_type*;

  StringMap() = default;
  // A copy has an arena of its own.
  StringMap(const StringMap& other)
      : slots_(other.slots_), entries_(other.entries_), used_(other.used_) {
    keys_.TakeCopies(entries_, KeyOf);
  }
  StringMap& operator=(const StringMap& other) {
    if (this != &other) *this = StringMap(other);
    return *this;
  }
  // The keys' bytes stay where they are: the views move along.
  StringMap(StringMap&&) noexcept = default;
  StringMap& operator=(StringMap&&) noexcept = default;

  std::size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  iterator begin() { return entries_.data(); }
  iterator end() { return entries_.data() + entries_.size(); }
  const_iterator begin() const { return entries_.data(); }
  const_iterator end() const { return entries_.data() + entries_.size(); }

  iterator find(std::string_view key) {
    const std::size_t slot = FindSlot(key, HashOf(key));
    return slot == kNone ? end() : &entries_[slots_[slot].entry];
  }
  const_iterator find(std::string_view key) const {
    return const_cast<StringMap*>(this)->find(key);
  }

  // Inserts (key, V()) unless the key is present; the entry and whether it
  // was inserted.
  std::pair<iterator, bool> try_emplace(std::string_view key) {
    const std::uint64_t hash = HashOf(key);
    if (const std::size_t slot = FindSlot(key, hash); slot != kNone)
      return {&entries_[slots_[slot].entry], false};
    return {Insert(key, V(), hash), true};
  }
  std::pair<iterator, bool> emplace(std::string_view key, V value) {
    const std::uint64_t hash = HashOf(key);
    if (const std::size_t slot = FindSlot(key, hash); slot != kNone)
      return {&entries_[slots_[slot].entry], false};
    return {Insert(key, std::move(value), hash), true};
  }
  V& operator[](std::string_view key) { return try_emplace(key).first->second; }

  // Removes the entry with `key`; the number removed (0 or 1).
  std::size_t erase(std::string_view key) {
    const std::size_t slot = FindSlot(key, HashOf(key));
    if (slot == kNone) return 0;
    EraseAt(slot);
    return 1;
  }
  void erase(const_iterator it) { erase(it->first); }

 private:
  // A slot: the entry's position (kEmpty / kErased: none) and the high half
  // of its key's hash (the low bits chose where probing starts).
  struct Slot {
    std::uint32_t entry;
    std::uint32_t tag;
  };
  static constexpr std::uint32_t kEmpty = 0xffffffffu;
  static constexpr std::uint32_t kErased = 0xfffffffeu;
  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);

  static std::uint64_t HashOf(std::string_view key) {
    return std::hash<std::string_view>()(key);
  }
  static std::uint32_t TagOf(std::uint64_t hash) {
    return static_cast<std::uint32_t>(hash >> 32);
  }

  std::size_t FindSlot(std::string_view key, std::uint64_t hash) const {
    if (slots_.empty()) return kNone;
    const std::size_t mask = slots_.size() - 1;
    const std::uint32_t tag = TagOf(hash);
    for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
      const Slot& s = slots_[i];
      if (s.entry == kEmpty) return kNone;
      if (s.entry != kErased && s.tag == tag && entries_[s.entry].first == key)
        return i;
    }
  }

  // The first slot, from where `hash` starts probing, that holds no entry.
  std::size_t FreeSlot(std::uint64_t hash) const {
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = hash & mask;
    while (slots_[i].entry != kEmpty && slots_[i].entry != kErased)
      i = (i + 1) & mask;
    return i;
  }

  iterator Insert(std::string_view key, V&& value, std::uint64_t hash) {
    // At most 3/4 of the slots hold an entry or an erased mark: every probe
    // ends at an empty slot, and linear probing's runs stay short.
    if ((used_ + 1) * 4 > slots_.size() * 3) Rehash();
    const std::size_t slot = FreeSlot(hash);
    if (slots_[slot].entry == kEmpty) ++used_;
    slots_[slot] =
        Slot{static_cast<std::uint32_t>(entries_.size()), TagOf(hash)};
    entries_.emplace_back(keys_.Add(key), std::move(value));
    return &entries_.back();
  }

  void EraseAt(std::size_t slot) {
    const std::uint32_t hole = slots_[slot].entry;
    slots_[slot].entry = kErased;
    keys_.Release(entries_[hole].first);
    const std::uint32_t last = static_cast<std::uint32_t>(entries_.size() - 1);
    if (hole != last) {
      // The last entry moves into the hole; its slot follows it.
      const std::size_t mask = slots_.size() - 1;
      std::size_t i = HashOf(entries_[last].first) & mask;
      while (slots_[i].entry != last) i = (i + 1) & mask;
      slots_[i].entry = hole;
      entries_[hole] = std::move(entries_[last]);
    }
    entries_.pop_back();
    keys_.CompactIfMostlyDead(entries_, KeyOf);
  }

  // The view of an entry's key, in keys_.
  static std::string_view& KeyOf(value_type& e) { return e.first; }

  // Rebuilds the slots, twice as many when more than half would hold an
  // entry (erased marks are dropped either way).
  void Rehash() {
    std::size_t n = slots_.empty() ? 16 : slots_.size();
    while ((entries_.size() + 1) * 2 > n) n *= 2;
    slots_.assign(n, Slot{kEmpty, 0});
    used_ = entries_.size();
    // The hashes are computed again rather than kept (8 bytes an entry):
    // a rehash is rare beside the lookups.
    for (std::size_t e = 0; e < entries_.size(); ++e) {
      const std::uint64_t hash = HashOf(entries_[e].first);
      slots_[FreeSlot(hash)] = Slot{static_cast<std::uint32_t>(e), TagOf(hash)};
    }
  }

  StringArena keys_;         // the bytes of entries_[i].first
  std::vector<Slot> slots_;  // a power of two of them
  std::vector<value_type> entries_;
  std::size_t used_ = 0;  // slots holding an entry or kErased
};

}  // namespace dirledger

#endif  // DIRLEDGER_CODECS_STRING_MAP_H_

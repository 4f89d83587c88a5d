// StringArena: bytes of many small strings kept in large blocks, for tables
// that hold hundreds of thousands of short keys (the in-memory projection's
// ids, DNs and addresses). A std::string costs 32 bytes plus, past 15
// characters, an allocation of its own rounded up to the allocator's size
// class (48 bytes for a 36-character id); a string here costs its length.
//
// Add() copies a string in and returns a view of the copy, valid until the
// arena is compacted or destroyed; moving the arena keeps views valid (the
// blocks stay where they are). Nothing is freed one string at a time:
// Release() only counts the bytes as dead, and the owner has the arena
// rebuilt (CompactIfMostlyDead) when more of it is dead than alive.
//
// Thread safety: none.
#ifndef DIRLEDGER_CODECS_STRING_ARENA_H_
#define DIRLEDGER_CODECS_STRING_ARENA_H_

#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

namespace dirledger {

class StringArena {
 public:
  StringArena() = default;
  StringArena(const StringArena&) = delete;
  StringArena& operator=(const StringArena&) = delete;
  // The blocks move, so views stay valid; the arena moved from is empty
  // (it must not go on filling a block it no longer owns).
  StringArena(StringArena&& other) noexcept { *this = std::move(other); }
  StringArena& operator=(StringArena&& other) noexcept {
    if (this != &other) {
      blocks_ = std::move(other.blocks_);
      other.blocks_.clear();
      next_ = std::exchange(other.next_, nullptr);
      free_ = std::exchange(other.free_, 0);
      live_ = std::exchange(other.live_, 0);
      dead_ = std::exchange(other.dead_, 0);
    }
    return *this;
  }

  std::string_view Add(std::string_view s) {
    if (s.empty()) return {};
    live_ += s.size();
    if (s.size() > kBlockSize / 4) {
      // A long string gets a block of its own; the free space of the
      // current block stays in use.
      blocks_.emplace_back(new char[s.size()]);
      std::memcpy(blocks_.back().get(), s.data(), s.size());
      return {blocks_.back().get(), s.size()};
    }
    if (s.size() > free_) {
      blocks_.emplace_back(new char[kBlockSize]);
      next_ = blocks_.back().get();
      free_ = kBlockSize;
    }
    char* at = next_;
    std::memcpy(at, s.data(), s.size());
    next_ += s.size();
    free_ -= s.size();
    return {at, s.size()};
  }

  // Counts the bytes of `s` (a view Add returned) as no longer used.
  void Release(std::string_view s) {
    live_ -= s.size();
    dead_ += s.size();
  }

  std::size_t live_bytes() const { return live_; }
  std::size_t dead_bytes() const { return dead_; }

  // Points the view view_of(x) of every x in `owners` (a view of this
  // arena's or another's) at a copy of its bytes here: a copied owner takes
  // copies of its strings.
  template <typename Range, typename ViewOf>
  void TakeCopies(Range& owners, ViewOf view_of) {
    for (auto& x : owners) {
      std::string_view& v = view_of(x);
      v = Add(v);
    }
  }

  // When more of the arena is dead than alive (and more than a megabyte):
  // copies the strings alive, the views view_of(x) of every x in `owners`,
  // into new blocks (TakeCopies) and drops the old ones. Whether it did.
  template <typename Range, typename ViewOf>
  bool CompactIfMostlyDead(Range& owners, ViewOf view_of) {
    if (dead_ <= kCompactAfterDeadBytes || dead_ <= live_) return false;
    StringArena fresh;
    fresh.TakeCopies(owners, view_of);
    *this = std::move(fresh);
    return true;
  }

 private:
  static constexpr std::size_t kBlockSize = 64 * 1024;
  static constexpr std::size_t kCompactAfterDeadBytes = 1 << 20;

  std::vector<std::unique_ptr<char[]>> blocks_;
  char* next_ = nullptr;  // the free space of the block filled now
  std::size_t free_ = 0;
  std::size_t live_ = 0;
  std::size_t dead_ = 0;
};

}  // namespace dirledger

#endif  // DIRLEDGER_CODECS_STRING_ARENA_H_

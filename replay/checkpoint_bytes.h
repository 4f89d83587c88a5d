// Byte-level writing and reading for projection checkpoints
// (replay/projection_checkpoint.h): little-endian fixed-width integers and
// length-prefixed strings. The reader checks every length against what is
// left, so a damaged or hostile checkpoint is a Corruption status, never a
// read past its end or an allocation its size does not justify.
//
// Thread safety: plain values.
#ifndef DIRLEDGER_REPLAY_CHECKPOINT_BYTES_H_
#define DIRLEDGER_REPLAY_CHECKPOINT_BYTES_H_

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include "codecs/status.h"

namespace dirledger::checkpoint_bytes {

inline void PutU64(std::string* out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}

inline void PutString(std::string* out, std::string_view s) {
  PutU64(out, s.size());
  out->append(s);
}

// Reads from the front of a byte range, held whole or streamed (a
// checkpoint's tables as they are decompressed). Streamed, it holds what
// one read needs and a chunk ahead, never the whole; a string read points
// into the reader and is valid until the next read.
class Reader {
 public:
  // Puts up to `n` of the next bytes at `dst`: how many (0: none are left).
  using Fill = std::function<std::size_t(char* dst, std::size_t n)>;

  explicit Reader(std::string_view in) : in_(in), left_(in.size()) {}
  // `size` bytes, as `fill` gives them.
  Reader(std::uint64_t size, Fill fill) : left_(size), fill_(std::move(fill)) {}

  Status U64(std::uint64_t* v) {
    DIRLEDGER_RETURN_IF_ERROR(Need(8, "an integer"));
    std::uint64_t x = 0;
    for (int i = 0; i < 8; ++i)
      x |= static_cast<std::uint64_t>(static_cast<unsigned char>(in_[i]))
           << (8 * i);
    Take(8);
    *v = x;
    return Status::Ok();
  }

  Status String(std::string_view* s) {
    std::uint64_t n = 0;
    DIRLEDGER_RETURN_IF_ERROR(U64(&n));
    DIRLEDGER_RETURN_IF_ERROR(Need(n, "a string of " + std::to_string(n)));
    *s = in_.substr(0, n);
    Take(n);
    return Status::Ok();
  }

  // A count of items, each at least `min_item_bytes` long: a count the rest
  // of the input cannot hold is damage (and is never reserved).
  Status Count(std::uint64_t min_item_bytes, std::uint64_t* n) {
    DIRLEDGER_RETURN_IF_ERROR(U64(n));
    if (*n > left_ / min_item_bytes)
      return Status::Corruption("a count of " + std::to_string(*n) +
                                " items where " + std::to_string(left_) +
                                " bytes are left");
    return Status::Ok();
  }

  // Bytes not read yet.
  std::uint64_t left() const { return left_; }

 private:
  static constexpr std::size_t kChunk = std::size_t{1} << 20;

  Status Short(const std::string& what) const {
    return Status::Corruption("ends early: " + what + " where " +
                              std::to_string(left_) + " bytes are left");
  }

  // At least `n` bytes in in_. Streamed, the buffer grows a chunk at a time
  // as bytes arrive, so a damaged length costs no more than the input has.
  Status Need(std::uint64_t n, const std::string& what) {
    if (n > left_) return Short(what);
    if (in_.size() >= n) return Status::Ok();
    std::string fresh(in_);
    while (fresh.size() < n) {
      const std::size_t at = fresh.size();
      const std::size_t want =
          static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, left_ - at));
      fresh.resize(at + want);
      const std::size_t got = fill_ ? fill_(fresh.data() + at, want) : 0;
      fresh.resize(at + got);
      if (got == 0)
        return Status::Corruption("ends early: " + what + " where " +
                                  std::to_string(at) + " bytes came of the " +
                                  std::to_string(left_) + " said to be left");
    }
    buffer_.swap(fresh);
    in_ = buffer_;
    return Status::Ok();
  }

  void Take(std::uint64_t n) {
    in_.remove_prefix(n);
    left_ -= n;
  }

  std::string_view in_;  // bytes at hand
  std::uint64_t left_;   // bytes not read: in_ and those still to come
  Fill fill_;            // streamed: where the rest comes from
  std::string buffer_;   // streamed: what in_ points into
};

}  // namespace dirledger::checkpoint_bytes

#endif  // DIRLEDGER_REPLAY_CHECKPOINT_BYTES_H_

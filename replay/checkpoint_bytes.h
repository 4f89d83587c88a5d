// Byte-level writing and reading for projection checkpoints
// (replay/projection_checkpoint.h): little-endian fixed-width integers and
// length-prefixed strings. The reader checks every length against what is
// left, so a damaged or hostile checkpoint is a Corruption status, never a
// read past its end or an allocation its size does not justify.
//
// Thread safety: plain values.
#ifndef DIRLEDGER_REPLAY_CHECKPOINT_BYTES_H_
#define DIRLEDGER_REPLAY_CHECKPOINT_BYTES_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "codecs/status.h"

namespace dirledger::checkpoint_bytes {

inline void PutU64(std::string* out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}

inline void PutString(std::string* out, std::string_view s) {
  PutU64(out, s.size());
  out->append(s);
}

// Reads from the front of a byte range.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  Status U64(std::uint64_t* v) {
    if (in_.size() < 8) return Short("an integer");
    std::uint64_t x = 0;
    for (int i = 0; i < 8; ++i)
      x |= static_cast<std::uint64_t>(static_cast<unsigned char>(in_[i]))
           << (8 * i);
    in_.remove_prefix(8);
    *v = x;
    return Status::Ok();
  }

  // The string points into the reader's input.
  Status String(std::string_view* s) {
    std::uint64_t n = 0;
    DIRLEDGER_RETURN_IF_ERROR(U64(&n));
    if (n > in_.size()) return Short("a string of " + std::to_string(n));
    *s = in_.substr(0, n);
    in_.remove_prefix(n);
    return Status::Ok();
  }

  // A count of items, each at least `min_item_bytes` long: a count the rest
  // of the input cannot hold is damage (and is never reserved).
  Status Count(std::uint64_t min_item_bytes, std::uint64_t* n) {
    DIRLEDGER_RETURN_IF_ERROR(U64(n));
    if (*n > in_.size() / min_item_bytes)
      return Status::Corruption("a count of " + std::to_string(*n) +
                                " items where " + std::to_string(in_.size()) +
                                " bytes are left");
    return Status::Ok();
  }

  std::size_t left() const { return in_.size(); }

 private:
  Status Short(const std::string& what) const {
    return Status::Corruption("ends early: " + what + " where " +
                              std::to_string(in_.size()) + " bytes are left");
  }

  std::string_view in_;
};

}  // namespace dirledger::checkpoint_bytes

#endif  // DIRLEDGER_REPLAY_CHECKPOINT_BYTES_H_

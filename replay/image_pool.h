// Reusable storage for field images (replay/field_image.h). Every decision
// builds a few images of about a dozen fields; building them into storage
// left from the decision before costs no allocation once the shapes repeat.
//
// ImageBuffer holds one image and, aside, the storage of the attributes it
// held before (an emptied image keeps its strings' and vectors' capacity).
// ImagePool lends buffers for a scope (ImagePool::Lease), last lent first
// returned; a lent buffer starts empty.
//
// Reuse changes no result: an image built into a used buffer equals one
// built into a new one.
//
// Thread safety: not thread-safe; one pool per thread of decisions.
#ifndef DIRLEDGER_REPLAY_IMAGE_POOL_H_
#define DIRLEDGER_REPLAY_IMAGE_POOL_H_

#include <cstddef>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "codecs/attributes.h"

namespace dirledger {

class ImageBuffer {
 public:
  const AttrList& list() const { return list_; }

  // Empties the image, keeping its storage (in constant time when nothing
  // is set aside yet; the storage is then reused in reverse order).
  void Clear() {
    if (spare_.empty()) {
      list_.swap(spare_);
    } else {
      Truncate(0);
    }
  }
  // Keeps the first `n` attributes.
  void Truncate(std::size_t n) {
    while (list_.size() > n) {
      spare_.push_back(std::move(list_.back()));
      list_.pop_back();
    }
  }
  // Appends an attribute named `name` whose values the caller sets (they
  // may hold old values: assign them all).
  Attribute& Append(std::string_view name) {
    if (spare_.empty()) {
      list_.emplace_back();
    } else {
      list_.push_back(std::move(spare_.back()));
      spare_.pop_back();
    }
    list_.back().name.assign(name);
    return list_.back();
  }

 private:
  AttrList list_;
  AttrList spare_;  // moved-out attributes, storage kept
};

class ImagePool {
 public:
  // An empty buffer, lent until the lease ends. Leases end in the reverse
  // order of their start (as scopes do).
  class Lease {
   public:
    explicit Lease(ImagePool* pool) : pool_(pool), buffer_(pool->Take()) {}
    ~Lease() { pool_->Give(); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;

    ImageBuffer* get() const { return buffer_; }
    ImageBuffer* operator->() const { return buffer_; }
    const AttrList& list() const { return buffer_->list(); }

   private:
    ImagePool* pool_;
    ImageBuffer* buffer_;
  };

 private:
  ImageBuffer* Take() {
    if (used_ == buffers_.size())
      buffers_.push_back(std::make_unique<ImageBuffer>());
    ImageBuffer* b = buffers_[used_++].get();
    b->Clear();
    return b;
  }
  void Give() { --used_; }

  std::vector<std::unique_ptr<ImageBuffer>> buffers_;  // stable addresses
  std::size_t used_ = 0;
};

}  // namespace dirledger

#endif  // DIRLEDGER_REPLAY_IMAGE_POOL_H_

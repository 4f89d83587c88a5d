// InMemoryProjection::ForEachStored: the projection's tables in the keys and
// encodings ProjectionStore gives them (codecs/projection_store.cc; the key
// layout is docs/event-format.md, "Projection"). The in-memory index tables
// hold ProjectionStore's keys without their first byte, kept by the same
// rules, so they are written as they are; the source index, which
// ProjectionStore keeps as keys but this projection derives when asked, is
// built from the objects (its keys are exactly the objects with a source).
// A test compares the result with a store given the same deltas.
#include <algorithm>
#include <utility>
#include <vector>

#include "codecs/kv_store.h"
#include "codecs/projection_store.h"
#include "replay/in_memory_projection.h"

namespace dirledger {
namespace {

// One key prefix's entries, sorted by key, handed on.
class Prefix {
 public:
  Prefix(char byte, const InMemoryProjection::StoredFn& fn)
      : byte_(byte), fn_(fn) {}
  void Add(std::string_view rest, std::string value) {
    std::string key(1, byte_);
    key.append(rest);
    rows_.emplace_back(std::move(key), std::move(value));
  }
  void Emit() {
    std::sort(rows_.begin(), rows_.end());
    for (const auto& [k, v] : rows_) fn_(k, v);
    rows_.clear();
  }

 private:
  char byte_;
  const InMemoryProjection::StoredFn& fn_;
  std::vector<std::pair<std::string, std::string>> rows_;
};

template <typename Map, typename Encode>
void AddRecords(Prefix* p, const Map& table, Encode encode) {
  for (const auto& [key, record] : table) p->Add(key, encode(record));
}

template <typename Map>
void AddPairs(Prefix* p, const Map& table) {
  for (const auto& [key, value] : table) p->Add(key, value);
}

void AddKeys(Prefix* p, const std::set<std::string, std::less<>>& keys) {
  for (const std::string& k : keys) p->Add(k, "");
}

}  // namespace

void InMemoryProjection::ForEachStored(bool links, const StoredFn& fn) const {
  using namespace projection_key;  // NOLINT: the key prefixes
  // Prefixes in byte order, each sorted: the whole family in key order.
  static_assert(kLinkByLdap < kLinkByMail);
  static_assert(kAddressIndex < kConflict && kConflict < kDnIndex &&
                kDnIndex < kFailure && kFailure < kHold &&
                kHold < kAliasIndex && kAliasIndex < kObject &&
                kObject < kPending && kPending < kDrift &&
                kDrift < kSourceIndex && kSourceIndex < kPendingByTarget &&
                kPendingByTarget < kWait);
  const auto emit = [&fn](char byte, const auto& fill) {
    Prefix p(byte, fn);
    fill(&p);
    p.Emit();
  };
  if (links) {
    emit(kLinkByLdap,
         [&](Prefix* p) { AddRecords(p, links_, EncodeLinkState); });
    emit(kLinkByMail, [&](Prefix* p) { AddPairs(p, links_by_mail_); });
    return;
  }
  emit(kAddressIndex, [&](Prefix* p) { AddPairs(p, address_index_); });
  emit(kConflict,
       [&](Prefix* p) { AddRecords(p, conflicts_, EncodeConflictState); });
  emit(kDnIndex, [&](Prefix* p) { AddPairs(p, dn_index_); });
  emit(kFailure,
       [&](Prefix* p) { AddRecords(p, failures_, EncodeFailureState); });
  emit(kHold, [&](Prefix* p) { AddRecords(p, holds_, EncodeHoldState); });
  emit(kAliasIndex, [&](Prefix* p) { AddKeys(p, alias_index_); });
  emit(kObject, [&](Prefix* p) { AddRecords(p, objects_, EncodeObjectState); });
  emit(kPending, [&](Prefix* p) {
    for (const auto& [id, pending] : pending_)
      p->Add(BigEndian64(id), EncodePendingIntent(pending));
  });
  emit(kDrift, [&](Prefix* p) { AddRecords(p, drifts_, EncodeDriftState); });
  emit(kSourceIndex, [&](Prefix* p) {
    for (const auto& [key, object] : objects_) {
      if (object.source.empty()) continue;
      std::string rest = object.source;
      rest += '\0';
      rest += key;  // side kind id
      p->Add(rest, "");
    }
  });
  emit(kPendingByTarget, [&](Prefix* p) {
    for (const auto& [target, id] : pending_index_) {
      std::string rest = target;
      rest += '\0';
      PutBigEndian64(&rest, id);
      p->Add(rest, "");
    }
  });
  emit(kWait, [&](Prefix* p) { AddKeys(p, waits_); });
}

}  // namespace dirledger

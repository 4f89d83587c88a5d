// InMemoryProjection::ForEachStored: the projection's tables in the keys and
// encodings ProjectionStore gives them (codecs/projection_store.cc; the key
// layout is docs/event-format.md, "Projection"). The in-memory index tables
// hold ProjectionStore's keys without their first byte, kept by the same
// rules, so they are written as they are; the source index, which
// ProjectionStore keeps as keys but this projection derives when asked, is
// built from the objects (its keys are exactly the objects with a source).
// A test compares the result with a store given the same deltas.
//
// Each table is handed on in key order through pointers to its rows sorted,
// each record encoded only as its turn comes: the whole projection encoded at
// once would double what `verify` holds.
#include <algorithm>
#include <utility>
#include <vector>

#include "codecs/kv_store.h"
#include "codecs/projection_store.h"
#include "replay/in_memory_projection.h"
#include "replay/in_memory_projection_keys.h"

namespace dirledger {
namespace {

using projection_keys::RowEncoder;
using projection_keys::SortedRows;

// Hands on the rows of `table` in key order, each key after `byte`, each
// value `value_of(row)`.
template <typename Map, typename ValueOf>
void EmitRows(char byte, const Map& table, ValueOf value_of,
              const InMemoryProjection::StoredFn& fn) {
  std::string key;
  for (const auto* row : SortedRows(table)) {
    key.assign(1, byte);
    key += row->first;
    fn(key, value_of(*row));
  }
}

// The values of an index table, as they are.
std::string_view IndexValue(const StringIndex::value_type& row) {
  return row.second;
}

// Keys already in order (a set, or a sorted vector), with empty values.
template <typename Keys>
void EmitKeys(char byte, const Keys& keys,
              const InMemoryProjection::StoredFn& fn) {
  std::string key;
  for (const std::string& k : keys) {
    key.assign(1, byte);
    key += k;
    fn(key, "");
  }
}

// Keys built from records, sorted, with empty values.
void EmitBuiltKeys(char byte, std::vector<std::string> rests,
                   const InMemoryProjection::StoredFn& fn) {
  std::sort(rests.begin(), rests.end());
  EmitKeys(byte, rests, fn);
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
  if (links) {
    LinkState link;
    EmitRows(
        kLinkByLdap, links_,
        [&](const LinkRow& row) { return EncodeLinkState(Read(row, &link)); },
        fn);
    EmitRows(kLinkByMail, links_by_mail_, IndexValue, fn);
    return;
  }
  EmitRows(kAddressIndex, address_index_, IndexValue, fn);
  EmitRows(kConflict, conflicts_, RowEncoder(EncodeConflictState), fn);
  EmitRows(kDnIndex, dn_index_, IndexValue, fn);
  // Failures: a std::map already in key order.
  for (const auto& [key, failure] : failures_)
    fn(std::string(1, kFailure) + key, EncodeFailureState(failure));
  EmitRows(kHold, holds_, RowEncoder(EncodeHoldState), fn);
  EmitKeys(kAliasIndex, alias_index_, fn);
  ObjectState object;
  EmitRows(
      kObject, objects_,
      [&](const ObjectRow& row) {
        return EncodeObjectState(Read(row, &object));
      },
      fn);
  for (const auto& [id, pending] : pending_)  // in id order
    fn(std::string(1, kPending) + BigEndian64(id),
       EncodePendingIntent(pending));
  EmitRows(kDrift, drifts_, RowEncoder(EncodeDriftState), fn);
  std::vector<std::string> sources;
  for (const ObjectRow& row : objects_) {
    const std::string& source = SourceOf(row);
    if (source.empty()) continue;
    std::string rest = source;
    rest += '\0';
    rest += row.first;  // side kind id
    sources.push_back(std::move(rest));
  }
  EmitBuiltKeys(kSourceIndex, std::move(sources), fn);
  std::vector<std::string> targets;
  for (const auto& [target, id] : pending_index_) {
    std::string rest = target;
    rest += '\0';
    PutBigEndian64(&rest, id);
    targets.push_back(std::move(rest));
  }
  EmitBuiltKeys(kPendingByTarget, std::move(targets), fn);
  EmitKeys(kWait, waits_, fn);
}

}  // namespace dirledger

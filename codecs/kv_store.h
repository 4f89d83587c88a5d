// KvStore: the small key-value interface the projection is kept in. RocksDB
// implements it in storage/ (reads see the current transaction's writes);
// MemKvStore is the in-memory one used by replay and tests.
//
// Thread safety: implementations are single-threaded unless they say so.
#ifndef DIRLEDGER_CODECS_KV_STORE_H_
#define DIRLEDGER_CODECS_KV_STORE_H_

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "codecs/status.h"

namespace dirledger {

class KvStore {
 public:
  // Called for each key under a prefix, in key order; return false to stop.
  using ScanFn =
      std::function<bool(std::string_view key, std::string_view value)>;

  virtual ~KvStore() = default;
  // NotFound when absent.
  virtual Status Get(std::string_view key, std::string* value) const = 0;
  virtual Status Put(std::string_view key, std::string_view value) = 0;
  virtual Status Delete(std::string_view key) = 0;
  virtual Status Scan(std::string_view prefix, const ScanFn& fn) const = 0;
  // The keys alone under a prefix, in key order; return false to stop. A
  // store that keeps a family's keys apart from its values lists them
  // without reading a value.
  using KeyFn = std::function<bool(std::string_view key)>;
  virtual Status ScanKeys(std::string_view prefix, const KeyFn& fn) const {
    return Scan(prefix,
                [&](std::string_view k, std::string_view) { return fn(k); });
  }
};

class MemKvStore : public KvStore {
 public:
  Status Get(std::string_view key, std::string* value) const override;
  Status Put(std::string_view key, std::string_view value) override;
  Status Delete(std::string_view key) override;
  Status Scan(std::string_view prefix, const ScanFn& fn) const override;

  const std::map<std::string, std::string, std::less<>>& data() const {
    return data_;
  }

 private:
  std::map<std::string, std::string, std::less<>> data_;
};

// Rows of a scan, (key, value) in key order.
using KvRows = std::vector<std::pair<std::string, std::string>>;
// Writes not yet in a store: a value, or nullopt for a deletion.
using KvWrites = std::map<std::string, std::optional<std::string>, std::less<>>;

// Appends the entries of `m` whose key starts with `prefix`, in order.
void CollectPrefix(const std::map<std::string, std::string, std::less<>>& m,
                   std::string_view prefix, KvRows* out);
// The `committed` rows under `prefix` with the `writes` under it laid over
// them (a write replaces the row of its key, a deletion removes it), in key
// order.
KvRows OverlayWrites(KvRows committed, const KvWrites& writes,
                     std::string_view prefix);

// Big-endian fixed-width integers: keys that sort in numeric order.
void PutBigEndian64(std::string* dst, std::uint64_t v);
std::uint64_t GetBigEndian64(std::string_view src);  // REQUIRES: size >= 8
std::string BigEndian64(std::uint64_t v);

}  // namespace dirledger

#endif  // DIRLEDGER_CODECS_KV_STORE_H_

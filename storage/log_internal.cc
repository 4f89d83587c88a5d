#include "storage/log_internal.h"

#include "codecs/kv_store.h"
#include "storage/rocks_database.h"

namespace dirledger {

std::string SeqKey(std::uint64_t seq) { return BigEndian64(seq); }

std::string PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xff)
    end.pop_back();
  if (!end.empty()) end.back() = static_cast<char>(end.back() + 1);
  return end;
}

rocksdb::ReadOptions PrefixReadOptions(std::string_view prefix,
                                       std::string* end,
                                       rocksdb::Slice* end_slice) {
  rocksdb::ReadOptions ro;
  *end = PrefixEnd(prefix);
  if (!end->empty()) {
    *end_slice = rocksdb::Slice(*end);
    ro.iterate_upper_bound = end_slice;
  }
  return ro;
}

std::string EncodeSourceStatus(const SourceStatus& s) {
  std::string out;
  PutBigEndian64(&out, s.events);
  PutBigEndian64(&out, s.last_seq);
  PutBigEndian64(&out, static_cast<std::uint64_t>(s.last_event_us));
  PutBigEndian64(&out, static_cast<std::uint64_t>(s.last_contact_us));
  PutBigEndian64(&out, static_cast<std::uint64_t>(s.last_error_us));
  out += s.last_error;
  return out;
}

bool IsKeyOnly(std::string_view key) {
  return !key.empty() && ProjectionStore::kKeyOnlyIndexBytes.find(key[0]) !=
                             std::string_view::npos;
}
bool IsScanned(std::string_view key) {
  return !key.empty() && (ProjectionStore::kScannedIndexBytes.find(key[0]) !=
                              std::string_view::npos ||
                          IsKeyOnly(key));
}

Status VisitAll(std::vector<std::pair<std::string, std::string>>* rows,
                std::string_view prefix, const KvStore& store,
                const KvStore::ScanFn& fn) {
  const bool key_only = IsKeyOnly(prefix);
  for (auto& [k, v] : *rows) {
    if (key_only) {
      Status s = store.Get(k, &v);
      if (s.IsNotFound()) continue;
      DIRLEDGER_RETURN_IF_ERROR(s);
    }
    if (!fn(k, v)) break;
  }
  return Status::Ok();
}

Status VisitIterator(rocksdb::Iterator* it, std::string_view prefix,
                     const KvStore::ScanFn& fn) {
  for (it->Seek(rocksdb::Slice(prefix.data(), prefix.size())); it->Valid();
       it->Next()) {
    std::string_view k(it->key().data(), it->key().size());
    if (k.substr(0, prefix.size()) != prefix) break;
    if (!fn(k, std::string_view(it->value().data(), it->value().size()))) break;
  }
  return RocksStatus(it->status(), "projection scan");
}

}  // namespace dirledger

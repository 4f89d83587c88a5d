#include "storage/test_util.h"

#include <rocksdb/db.h>

#include <memory>
#include <vector>

#include "codecs/event_codec.h"
#include "codecs/kv_store.h"
#include "codecs/sha256.h"

namespace dirledger::test {
namespace {

template <typename Fn>
Status WithCf(const std::string& dir, const std::string& cf_name, Fn fn) {
  std::vector<std::string> names;
  auto s = rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir, &names);
  if (!s.ok()) return Status::IOError(s.ToString());
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const auto& n : names)
    cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  s = rocksdb::DB::Open(rocksdb::Options(), dir, cfs, &handles, &raw);
  if (!s.ok()) return Status::IOError(s.ToString());
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::ColumnFamilyHandle* target = nullptr;
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == cf_name) target = handles[i];
  s = target ? fn(db.get(), target)
             : rocksdb::Status::InvalidArgument("no column family " + cf_name);
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  db->Close();
  return s.ok() ? Status::Ok() : Status::IOError(s.ToString());
}

}  // namespace

Status OverwriteLogRecord(const std::string& dir, std::uint64_t seq,
                          const std::string& value) {
  return PutRaw(dir, "log", BigEndian64(seq), value);
}

Status PutRaw(const std::string& dir, const std::string& cf,
              const std::string& key, const std::string& value) {
  return WithCf(dir, cf, [&](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* h) {
    return db->Put(rocksdb::WriteOptions(), h, key, value);
  });
}

Status DeleteRaw(const std::string& dir, const std::string& cf,
                 const std::string& key) {
  return WithCf(dir, cf, [&](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* h) {
    return db->Delete(rocksdb::WriteOptions(), h, key);
  });
}

Status ClearRaw(const std::string& dir, const std::string& cf) {
  return WithCf(dir, cf, [&](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* h) {
    std::unique_ptr<rocksdb::Iterator> it(
        db->NewIterator(rocksdb::ReadOptions(), h));
    rocksdb::WriteBatch batch;
    for (it->SeekToFirst(); it->Valid(); it->Next()) batch.Delete(h, it->key());
    if (!it->status().ok()) return it->status();
    return db->Write(rocksdb::WriteOptions(), &batch);
  });
}

Status GetRaw(const std::string& dir, const std::string& cf,
              const std::string& key, std::string* value) {
  bool found = true;
  Status s =
      WithCf(dir, cf, [&](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* h) {
        rocksdb::Status g = db->Get(rocksdb::ReadOptions(), h, key, value);
        if (g.IsNotFound()) {
          found = false;
          return rocksdb::Status::OK();
        }
        return g;
      });
  if (s.ok() && !found) return Status::NotFound(cf + " has no such key");
  return s;
}

Status DeleteLogRecord(const std::string& dir, std::uint64_t seq) {
  return WithCf(
      dir, "log", [&](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* h) {
        return db->Delete(rocksdb::WriteOptions(), h, BigEndian64(seq));
      });
}

std::string StoredRecord(const Event& event) {
  std::string bytes = EncodeEvent(event);
  return bytes + Sha256(bytes);
}

}  // namespace dirledger::test

#include "storage/rocksdb_write.h"

// ThreadSanitizer names a frame by its call site, and records none for
// uninstrumented code: for "WriteToRocksDb" to be a frame of every access
// RocksDB makes inside the write, the call into RocksDB goes through one
// more function of ours, called from WriteToRocksDb. Neither is inlined nor
// left by a tail call.
#if defined(__clang__)
#define DIRLEDGER_OWN_FRAME __attribute__((noinline, disable_tail_calls))
#else
#define DIRLEDGER_OWN_FRAME __attribute__((noinline))
#endif

namespace dirledger {
namespace {

DIRLEDGER_OWN_FRAME rocksdb::Status CallWrite(rocksdb::DB* db,
                                              const rocksdb::WriteOptions& wo,
                                              rocksdb::WriteBatch* batch) {
  rocksdb::Status s = db->Write(wo, batch);
  asm volatile("" ::: "memory");  // keeps GCC from a tail call too
  return s;
}

}  // namespace

DIRLEDGER_OWN_FRAME rocksdb::Status WriteToRocksDb(
    rocksdb::DB* db, const rocksdb::WriteOptions& wo,
    rocksdb::WriteBatch* batch) {
  rocksdb::Status s = CallWrite(db, wo, batch);
  asm volatile("" ::: "memory");
  return s;
}

}  // namespace dirledger

// WriteToRocksDb: the one call through which the log's committer and the
// object indexer write a batch to the RocksDB database they share.
//
// Two threads writing at once join one RocksDB write group: its leader
// copies the others' batches into one WAL record, ordered by atomics inside
// Debian's librocksdb, which is built without ThreadSanitizer. A report of
// such a copy has no librocksdb frame to match (the copy runs through
// libstdc++), so tests/tsan.supp names this function instead: only accesses
// made inside the write itself are left out, never dirledger's own.
//
// Thread safety: as rocksdb::DB::Write.
#ifndef DIRLEDGER_STORAGE_ROCKSDB_WRITE_H_
#define DIRLEDGER_STORAGE_ROCKSDB_WRITE_H_

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

namespace dirledger {

// DB::Write, kept out of line so that it is a frame of its own.
[[nodiscard]] rocksdb::Status WriteToRocksDb(rocksdb::DB* db,
                                             const rocksdb::WriteOptions& wo,
                                             rocksdb::WriteBatch* batch);

}  // namespace dirledger

#endif  // DIRLEDGER_STORAGE_ROCKSDB_WRITE_H_

// RocksDB's own messages (its "info log") go to dirledger's stderr, not to a
// LOG file in the data dir: errors only (its warnings are routine: a torn
// write-ahead log tail dropped at recovery, checkpoints), each line prefixed
// with the database it concerns. A LOG file sits on the same disk as the
// data; when that disk is full, RocksDB's file logger fails and, in builds
// with assertions (Debian's librocksdb), aborts the process on its next
// line, turning a clear "disk full" error into a crash.
//
// Thread safety: the logger may be called from RocksDB's threads; each
// line is one write(2).
#ifndef DIRLEDGER_STORAGE_ROCKSDB_LOGGER_H_
#define DIRLEDGER_STORAGE_ROCKSDB_LOGGER_H_

#include <rocksdb/env.h>

#include <memory>
#include <string>

namespace dirledger {

// A logger for the database `name` ("log", "mail directory").
std::shared_ptr<rocksdb::Logger> StderrRocksLogger(std::string name);

}  // namespace dirledger

#endif  // DIRLEDGER_STORAGE_ROCKSDB_LOGGER_H_

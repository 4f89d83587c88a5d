// CreateDatabase: makes a new RocksDB database with all its column families
// in one step, as far as anyone looking at its directory can tell. RocksDB
// creates missing column families one after the other, so a process killed
// while opening a new database leaves one that has some of them: read-only
// opens of it then fail ("Column family not found"). The database is
// therefore built in a staging directory beside the target, initialized by
// the caller, closed, and renamed into place: a kill at any moment leaves
// either no database or a complete one. Staging directories of processes
// that died are removed by the next creation.
//
// Thread safety: plain functions; concurrent creators of the same directory
// each build their own, and the first rename wins (the others discard
// theirs).
#ifndef DIRLEDGER_STORAGE_CREATE_DATABASE_H_
#define DIRLEDGER_STORAGE_CREATE_DATABASE_H_

#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include <functional>
#include <string>
#include <vector>

#include "codecs/status.h"

namespace dirledger {

// Runs inside the staging database before it is moved into place (e.g. to
// write a format version). `handles` are in the order of the descriptors.
using InitDatabaseFn = std::function<Status(
    rocksdb::DB* db, const std::vector<rocksdb::ColumnFamilyHandle*>& handles)>;

// Creates the database at `dir` (which must not hold one; an empty directory
// is replaced) with the column families `cfs`, mode 0700. `what` names it in
// errors ("the log", "the mail directory"). OK also when another process
// created it first.
Status CreateDatabase(const std::string& dir, rocksdb::Options options,
                      const std::vector<rocksdb::ColumnFamilyDescriptor>& cfs,
                      const std::string& what,
                      const InitDatabaseFn& init = nullptr);

}  // namespace dirledger

#endif  // DIRLEDGER_STORAGE_CREATE_DATABASE_H_

// RocksDatabase: one of dirledger's RocksDB databases (the log, the embedded
// mail directory), owned whole: opened with its column families by name
// (read-write, read-only, or as a secondary instance following a writer),
// created with all of them at once when missing (create_database.h), its
// LOCK held by another process reported as such, checkpointed into a backup,
// and restored from one by a staged copy renamed into place. What the
// database holds (keys, records, format versions) is its owner's; this
// class knows directories, column families and RocksDB's errors.
//
// Thread safety: db() and family() may be used from any thread once Open
// returned (RocksDB's own guarantees apply); Open, Checkpoint and
// RestoreStaged are plain calls with no shared state of their own.
#ifndef DIRLEDGER_STORAGE_ROCKS_DATABASE_H_
#define DIRLEDGER_STORAGE_ROCKS_DATABASE_H_

#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "codecs/status.h"
#include "storage/create_database.h"

namespace dirledger {

// A RocksDB status as dirledger's: `what` is the operation ("log commit");
// an I/O error carries the hint for a full disk or a file size limit.
Status RocksStatus(const rocksdb::Status& s, std::string_view what);

struct DatabaseSpec {
  enum class Mode { kReadWrite, kReadOnly, kSecondary };

  std::string dir;
  std::string what;  // "the log", "the mail directory": errors name it
  Mode mode = Mode::kReadWrite;
  std::string secondary_dir;  // kSecondary: where the instance keeps its files
  // Read-write only: a missing database is created (all families, `init`
  // run in it before it is in place); otherwise it is NotFound(absent).
  bool create_if_missing = false;
  InitDatabaseFn init;
  rocksdb::Options options;  // the database's; families carry their own
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  // Families added since the first databases were made: a read-only or
  // secondary open of a database without one opens without it (a writable
  // open creates it, with options.create_missing_column_families). Any
  // other family missing fails the open, naming it.
  std::vector<std::string> optional_families;
  // The messages for the cases an operator meets: no database there, and
  // its LOCK held by another process.
  std::string absent;
  std::string in_use;
  // Read-write: the close waits for the compactions that are due (see
  // ~RocksDatabase). A long-running process (the service) leaves them to
  // its next start instead: they ran beside it all along, and its stop must
  // stay within the service manager's timeout.
  bool settle_compactions_at_close = true;
};

class RocksDatabase {
 public:
  static Result<std::unique_ptr<RocksDatabase>> Open(DatabaseSpec spec);
  // Read-write: flushes the memtables when they hold more than a short run
  // writes, and lets the compactions that are due finish; then destroys the
  // family handles and closes the database.
  //
  // Why not flush at every close: a short run (an incremental `run --once`
  // every few minutes, a `mail set`) would leave a small table file per
  // column family each time, and every few runs a compaction of them that
  // the quick exit abandoned half done and the next run began again: at
  // 100,000 entries that was most of an incremental run's CPU, and level 0
  // grew toward RocksDB's write stalls. So what a short run wrote stays in
  // the write-ahead log, which the next open replays into memory; once that
  // adds up to kFlushAtCloseBytes (or kFlushAtCloseWalFiles files), a close
  // flushes it. And a close waits for the compactions that are due (at most
  // kSettleAtCloseSeconds): the run that made them due pays for them once.
  // Not the service's (DatabaseSpec::settle_compactions_at_close): its
  // compactions ran beside it, and its stop has a deadline.
  ~RocksDatabase();
  static constexpr std::uint64_t kFlushAtCloseBytes = 4u << 20;
  static constexpr std::size_t kFlushAtCloseWalFiles = 16;
  static constexpr int kSettleAtCloseSeconds = 60;
  RocksDatabase(const RocksDatabase&) = delete;
  RocksDatabase& operator=(const RocksDatabase&) = delete;

  rocksdb::DB* db() const { return db_.get(); }
  // The handle of the family named `name` in the spec; nullptr for a name
  // the spec did not list, or (opened read-only or as a secondary) an
  // optional family the database does not have yet.
  rocksdb::ColumnFamilyHandle* family(std::string_view name) const;
  // Every handle, in the spec's order.
  const std::vector<rocksdb::ColumnFamilyHandle*>& families() const {
    return handles_;
  }
  const std::string& dir() const { return dir_; }

  // A consistent copy of the database in `backup_dir` (which must not exist;
  // mode 0700), hard-linking its immutable files where it can. `context`
  // starts the error messages ("checkpoint into /backups/x").
  Status Checkpoint(const std::string& backup_dir,
                    const std::string& context) const;

  // Replaces the database directory `dir` with a copy of `backup_dir`:
  // copied beside it first (DIR.restoring), the old one moved aside
  // (DIR.replaced), the copy renamed into place, the old one removed. A
  // kill leaves `dir` whole, old or new (a .restoring or .replaced left
  // behind is removed by the next restore). `what` names the database in
  // errors. The database must not be open.
  static Status RestoreStaged(const std::string& backup_dir,
                              const std::string& dir, const std::string& what);

 private:
  RocksDatabase() = default;
  // A RocksDB integer property of `family` (nullptr: the database's); 0
  // when it cannot be read.
  std::uint64_t IntProperty(rocksdb::ColumnFamilyHandle* family,
                            const std::string& name) const;
  bool MemtablesToFlushAtClose() const;
  // Waits (at most kSettleAtCloseSeconds; not after a background error)
  // until no compaction runs or is due.
  void SettleCompactions() const;

  std::string dir_;
  std::vector<std::string> names_;  // of handles_, in order
  bool read_write_ = false;
  bool settle_at_close_ = true;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

}  // namespace dirledger

#endif  // DIRLEDGER_STORAGE_ROCKS_DATABASE_H_

#include "storage/rocks_database.h"

#include <rocksdb/utilities/checkpoint.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <system_error>
#include <thread>

#include "storage/io_hints.h"

namespace dirledger {

namespace fs = std::filesystem;

Status RocksStatus(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::Ok();
  std::string msg = std::string(what) + ": " + s.ToString();
  if (s.IsNotFound()) return Status::NotFound(msg);
  if (s.IsCorruption()) return Status::Corruption(msg);
  if (s.IsIOError()) return Status::IOError(msg + IoHint(msg));
  if (s.IsInvalidArgument()) return Status::InvalidArgument(msg);
  return Status::IOError(msg);
}

Result<std::unique_ptr<RocksDatabase>> RocksDatabase::Open(DatabaseSpec spec) {
  using Mode = DatabaseSpec::Mode;
  std::error_code ec;
  const bool exists = fs::exists(fs::path(spec.dir) / "CURRENT", ec);
  if (ec)  // not "absent": it may be there, unseen (no permission)
    return Status::IOError("cannot look into " + spec.dir + ": " +
                           ec.message());
  if (!exists) {
    if (!spec.create_if_missing || spec.mode != Mode::kReadWrite)
      return Status::NotFound(spec.absent);
    // All column families (and what `init` writes) at once: a process
    // killed while creating the database leaves none or a complete one.
    DIRLEDGER_RETURN_IF_ERROR(CreateDatabase(
        spec.dir, spec.options, spec.families, spec.what, spec.init));
  }
  std::unique_ptr<RocksDatabase> d(new RocksDatabase());
  d->dir_ = spec.dir;
  if (spec.mode != Mode::kReadWrite) {
    // A database made before an optional family was added has none: read,
    // it is opened without it (family() says nullptr); a writable open adds
    // it. Any other family missing is named.
    std::vector<std::string> present;
    const rocksdb::Status listed =
        rocksdb::DB::ListColumnFamilies(spec.options, spec.dir, &present);
    if (!listed.ok())
      return RocksStatus(listed, "opening " + spec.what + " in " + spec.dir);
    auto has = [](const std::vector<std::string>& v, const std::string& n) {
      return std::find(v.begin(), v.end(), n) != v.end();
    };
    for (const rocksdb::ColumnFamilyDescriptor& f : spec.families)
      if (!has(present, f.name) && !has(spec.optional_families, f.name))
        return Status::Corruption(spec.what + " in " + spec.dir +
                                  " has no column family \"" + f.name + "\"");
    std::erase_if(spec.families, [&](const rocksdb::ColumnFamilyDescriptor& f) {
      return !has(present, f.name);
    });
  }
  for (const rocksdb::ColumnFamilyDescriptor& f : spec.families)
    d->names_.push_back(f.name);
  // What a run left in the write-ahead log stays in memory when it is
  // replayed (see ~RocksDatabase), instead of becoming small table files.
  spec.options.avoid_flush_during_recovery = true;
  // An open loads every table file's handle with this many threads, started
  // and joined anew for each column family (RocksDB's default of 16 made
  // some 230 threads per `run --once` of a log and a mail directory, 2-4 ms
  // of a 60 ms incremental pass on 2 cores). More threads than cores only
  // help while the files are read from a cold disk.
  spec.options.max_file_opening_threads = static_cast<int>(
      std::clamp(std::thread::hardware_concurrency(), 1u, 16u));
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s;
  switch (spec.mode) {
    case Mode::kSecondary: {
      rocksdb::Options options = spec.options;
      options.max_open_files = -1;  // a secondary instance needs them all
      s = rocksdb::DB::OpenAsSecondary(options, spec.dir, spec.secondary_dir,
                                       spec.families, &d->handles_, &raw);
      break;
    }
    case Mode::kReadOnly:
      s = rocksdb::DB::OpenForReadOnly(spec.options, spec.dir, spec.families,
                                       &d->handles_, &raw);
      break;
    case Mode::kReadWrite:
      s = rocksdb::DB::Open(spec.options, spec.dir, spec.families, &d->handles_,
                            &raw);
      break;
  }
  if (!s.ok()) {
    if (LockHeld(s.ToString())) return Status::Unavailable(spec.in_use);
    return RocksStatus(s, "opening " + spec.what + " in " + spec.dir);
  }
  d->db_.reset(raw);
  d->read_write_ = spec.mode == Mode::kReadWrite;
  d->settle_at_close_ = spec.settle_compactions_at_close;
  return d;
}

RocksDatabase::~RocksDatabase() {
  if (!db_) return;
  // A failure in either step (a full disk) loses nothing: the write-ahead
  // log still holds it all.
  if (read_write_) {
    if (MemtablesToFlushAtClose()) {
      rocksdb::FlushOptions fo;
      fo.wait = true;
      (void)db_->Flush(fo, handles_);
    }
    if (settle_at_close_) SettleCompactions();
  }
  for (rocksdb::ColumnFamilyHandle* h : handles_)
    db_->DestroyColumnFamilyHandle(h);
  db_->Close();
}

std::uint64_t RocksDatabase::IntProperty(rocksdb::ColumnFamilyHandle* family,
                                         const std::string& name) const {
  std::uint64_t v = 0;
  if (family ? !db_->GetIntProperty(family, name, &v)
             : !db_->GetIntProperty(name, &v))
    return 0;
  return v;
}

bool RocksDatabase::MemtablesToFlushAtClose() const {
  // The live write-ahead log files hold what the memtables do: what the
  // next open would replay. (The memtables' own size counts the memory
  // they reserved, a megabyte or more each however little they hold.)
  // Listed from the directory: RocksDB's own listing reads and checksums
  // each file's first record, most of a short run's file (2-3 ms of an
  // incremental pass). A file RocksDB has yet to delete counts too, which
  // at worst flushes once more.
  std::uint64_t bytes = 0;
  std::size_t files = 0;
  std::error_code ec;
  for (fs::directory_iterator it(dir_, ec), end; !ec && it != end;
       it.increment(ec)) {
    if (it->path().extension() != ".log") continue;
    std::error_code size_ec;
    const std::uintmax_t size = it->file_size(size_ec);
    if (size_ec) continue;
    bytes += size;
    ++files;
  }
  if (ec) return true;
  return bytes > kFlushAtCloseBytes || files > kFlushAtCloseWalFiles;
}

void RocksDatabase::SettleCompactions() const {
  const auto give_up = std::chrono::steady_clock::now() +
                       std::chrono::seconds(kSettleAtCloseSeconds);
  while (std::chrono::steady_clock::now() < give_up) {
    if (IntProperty(nullptr, rocksdb::DB::Properties::kBackgroundErrors) > 0)
      return;  // a compaction that fails (a full disk) is not waited for
    bool busy =
        IntProperty(nullptr, rocksdb::DB::Properties::kNumRunningCompactions) >
        0;
    for (rocksdb::ColumnFamilyHandle* h : handles_)
      busy = busy ||
             IntProperty(h, rocksdb::DB::Properties::kCompactionPending) > 0;
    if (!busy) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

rocksdb::ColumnFamilyHandle* RocksDatabase::family(
    std::string_view name) const {
  for (std::size_t i = 0; i < names_.size() && i < handles_.size(); ++i)
    if (names_[i] == name) return handles_[i];
  return nullptr;
}

Status RocksDatabase::Checkpoint(const std::string& backup_dir,
                                 const std::string& context) const {
  std::error_code ec;
  if (fs::exists(backup_dir, ec))
    return Status::InvalidArgument("backup dir " + backup_dir +
                                   " already exists; give a new path");
  rocksdb::Checkpoint* cp = nullptr;
  DIRLEDGER_RETURN_IF_ERROR(
      RocksStatus(rocksdb::Checkpoint::Create(db_.get(), &cp), context));
  std::unique_ptr<rocksdb::Checkpoint> holder(cp);
  const rocksdb::Status made =
      cp->CreateCheckpoint(backup_dir, /*log_size_for_flush=*/0);
  if (!made.ok()) {
    const std::string msg = context + ": " + made.ToString();
    return Status::IOError(msg + IoHint(msg, backup_dir));
  }
  ::chmod(backup_dir.c_str(), 0700);
  return Status::Ok();
}

Status RocksDatabase::RestoreStaged(const std::string& backup_dir,
                                    const std::string& dir,
                                    const std::string& what) {
  std::error_code ec;
  const fs::path target(dir);
  const fs::path staging = target.string() + ".restoring";
  fs::remove_all(staging, ec);
  fs::copy(backup_dir, staging, fs::copy_options::recursive, ec);
  if (ec)
    return Status::IOError("copying " + backup_dir + " to " + staging.string() +
                           ": " + ec.message());
  const fs::path old = target.string() + ".replaced";
  fs::remove_all(old, ec);
  if (fs::exists(target, ec)) {
    fs::rename(target, old, ec);
    if (ec) return Status::IOError("moving " + dir + " aside: " + ec.message());
  }
  fs::rename(staging, target, ec);
  if (ec)
    return Status::IOError("moving the restored " + what + " into " + dir +
                           ": " + ec.message());
  fs::remove_all(old, ec);
  ::chmod(dir.c_str(), 0700);
  return Status::Ok();
}

}  // namespace dirledger

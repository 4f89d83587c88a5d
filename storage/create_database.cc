#include "storage/create_database.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "storage/durable_fs.h"
#include "storage/io_hints.h"

namespace dirledger {
namespace {

namespace fs = std::filesystem;

constexpr const char kStaging[] = ".creating.";

// Removes staging directories of `dir` left by processes that are gone.
void RemoveStaleStaging(const fs::path& dir) {
  std::error_code ec;
  const std::string prefix = dir.filename().string() + kStaging;
  for (const auto& e : fs::directory_iterator(dir.parent_path(), ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    const std::string pid_text = name.substr(prefix.size());
    if (pid_text.empty() ||
        pid_text.find_first_not_of("0123456789") != std::string::npos)
      continue;
    const pid_t pid = static_cast<pid_t>(std::stol(pid_text));
    if (kill(pid, 0) == 0 || errno != ESRCH) continue;  // alive, or not ours
    std::error_code rm;
    fs::remove_all(e.path(), rm);
  }
}

Status Rocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return Status::Ok();
  const std::string msg = what + ": " + s.ToString();
  return Status::IOError(msg + IoHint(msg));
}

}  // namespace

Status CreateDatabase(const std::string& dir, rocksdb::Options options,
                      const std::vector<rocksdb::ColumnFamilyDescriptor>& cfs,
                      const std::string& what, const InitDatabaseFn& init) {
  const fs::path target = fs::absolute(fs::path(dir)).lexically_normal();
  const fs::path parent = target.parent_path();
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec)
    return Status::IOError("cannot create " + parent.string() + " for " + what +
                           ": " + ec.message());
  RemoveStaleStaging(target);
  const fs::path staging =
      target.string() + kStaging + std::to_string(::getpid());
  fs::remove_all(staging, ec);
  fs::create_directory(staging, ec);
  if (ec)
    return Status::IOError("cannot create " + staging.string() + " for " +
                           what + ": " + ec.message());
  ::chmod(staging.c_str(), 0700);
  auto discard = [&] {
    std::error_code rm;
    fs::remove_all(staging, rm);
  };

  options.create_if_missing = true;
  options.create_missing_column_families = true;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  Status s =
      Rocks(rocksdb::DB::Open(options, staging.string(), cfs, &handles, &raw),
            "creating " + what + " in " + dir);
  if (s.ok() && init) s = init(raw, handles);
  if (raw) {
    for (auto* h : handles) raw->DestroyColumnFamilyHandle(h);
    const Status closed = Rocks(raw->Close(), "closing the new " + what);
    if (s.ok()) s = closed;
    delete raw;
  }
  if (!s.ok()) {
    discard();
    return s;
  }

  // An empty directory in the way (made by hand, or by an older version)
  // goes; one with a database in it means another process won.
  const bool done = fs::exists(target / "CURRENT", ec);
  if (!ec && done) {
    discard();
    return Status::Ok();
  }
  // Only a directory known to hold something else is called that: one that
  // cannot be looked into (no permission) may hold the database itself.
  if (!ec && fs::exists(target, ec)) fs::remove(target, ec);  // when empty
  if (ec) {
    discard();
    if (ec == std::errc::directory_not_empty || ec == std::errc::file_exists)
      return Status::IOError(dir + " exists, is not empty and does not hold " +
                             what + "; move it away");
    return Status::IOError("cannot use " + dir + " for " + what + ": " +
                           ec.message());
  }
  fs::rename(staging, target, ec);
  if (ec) {
    discard();
    if (fs::exists(target / "CURRENT")) return Status::Ok();
    return Status::IOError("cannot move the new " + what + " into " + dir +
                           ": " + ec.message());
  }
  // The new database's name must survive a power cut: the next open would
  // create it again, empty, over a log that had events.
  return SyncDir(parent.string());
}

}  // namespace dirledger

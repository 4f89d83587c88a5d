#include "engine/backup/backup_retention.h"

#include <algorithm>
#include <filesystem>

#include "storage/durable_fs.h"

namespace dirledger {
namespace fs = std::filesystem;

Result<std::vector<StoredBackup>> ListAutomaticBackups(
    const std::string& backups_dir) {
  std::vector<StoredBackup> out;
  std::error_code ec;
  if (!fs::exists(backups_dir, ec)) return out;
  for (const fs::directory_entry& e : fs::directory_iterator(backups_dir, ec)) {
    const std::string name = e.path().filename().string();
    if (!e.is_directory(ec) || name.ends_with(".partial")) continue;
    auto m = ReadManifest(e.path().string());
    if (!m.ok() || !m->automatic) continue;
    out.push_back(StoredBackup{e.path().string(), *m});
  }
  if (ec)
    return Status::IOError("cannot list " + backups_dir + ": " + ec.message());
  std::sort(out.begin(), out.end(),
            [](const StoredBackup& a, const StoredBackup& b) {
              if (a.manifest.created_us != b.manifest.created_us)
                return a.manifest.created_us < b.manifest.created_us;
              return a.dir < b.dir;
            });
  return out;
}

Status RemoveUnfinishedBackups(const std::string& backups_dir,
                               std::vector<std::string>* removed) {
  std::error_code ec;
  if (!fs::exists(backups_dir, ec)) return Status::Ok();
  std::vector<fs::path> unfinished;
  for (const fs::directory_entry& e : fs::directory_iterator(backups_dir, ec))
    if (e.path().filename().string().ends_with(".partial"))
      unfinished.push_back(e.path());
  if (ec)
    return Status::IOError("cannot list " + backups_dir + ": " + ec.message());
  std::sort(unfinished.begin(), unfinished.end());
  for (const fs::path& p : unfinished) {
    fs::remove_all(p, ec);
    if (ec)
      return Status::IOError("cannot remove the unfinished backup " +
                             p.string() + ": " + ec.message());
    removed->push_back(p.string());
  }
  return Status::Ok();
}

Status PruneAutomaticBackups(const std::string& backups_dir, std::uint32_t keep,
                             const std::string& just_made,
                             std::vector<std::string>* removed) {
  if (keep == 0) return Status::Ok();
  auto all = ListAutomaticBackups(backups_dir);
  if (!all.ok()) return all.status();
  // The order is the clock's: a clock set back would put the backup just
  // made first, to be removed at once. It is kept and counted apart.
  const fs::path made = fs::path(just_made).filename();
  std::vector<std::string> others;
  for (const StoredBackup& b : *all)
    if (just_made.empty() || fs::path(b.dir).filename() != made)
      others.push_back(b.dir);
  const std::size_t room = keep - (others.size() < all->size() ? 1 : 0);
  if (others.size() <= room) return Status::Ok();
  const std::size_t drop = others.size() - room;
  for (std::size_t i = 0; i < drop; ++i) {
    const std::string& dir = others[i];
    const std::string doomed = dir + ".partial";
    DIRLEDGER_RETURN_IF_ERROR(RenameDurably(dir, doomed));
    std::error_code ec;
    fs::remove_all(doomed, ec);
    if (ec)
      return Status::IOError("cannot remove the old backup " + doomed + ": " +
                             ec.message());
    removed->push_back(dir);
  }
  return Status::Ok();
}

}  // namespace dirledger

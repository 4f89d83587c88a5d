#include "engine/backup/restore_check.h"

#include <filesystem>

#include "codecs/sha256.h"
#include "storage/event_log.h"

namespace dirledger {
namespace fs = std::filesystem;

Result<BackupManifest> CheckBackupComplete(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return Status::InvalidArgument("backup " + dir + " does not exist");
  std::string name = fs::path(dir).lexically_normal().filename().string();
  if (name.empty())
    name = fs::path(dir).lexically_normal().parent_path().filename().string();
  if (name.ends_with(".partial"))
    return Status::InvalidArgument(
        "backup " + dir +
        " is incomplete: a backup is renamed from NAME.partial to NAME only "
        "once it is complete, and this one was stopped before");
  auto m = ReadManifest(dir);
  if (!m.ok()) {
    if (m.status().code() == StatusCode::kNotFound)
      return Status::InvalidArgument(
          "backup " + dir + " is incomplete: it has no " + kBackupManifestName +
          " (a backup stopped before it finished, or not a dirledger backup)");
    return Status::InvalidArgument("backup " + dir +
                                   " is incomplete: " + m.status().message());
  }
  if (m->format > kBackupFormat)
    return Status::InvalidArgument(
        "backup " + dir + " has format " + std::to_string(m->format) +
        "; this dirledger reads format " + std::to_string(kBackupFormat));
  if (!fs::exists(fs::path(dir) / "log" / "CURRENT", ec))
    return Status::InvalidArgument("backup " + dir +
                                   " is incomplete: its log (" + dir +
                                   "/log) is missing");
  if (m->has_mail && !fs::exists(fs::path(dir) / "mail" / "CURRENT", ec))
    return Status::InvalidArgument(
        "backup " + dir +
        " is incomplete: its manifest lists the embedded mail directory, but " +
        dir + "/mail is missing");
  LogOptions ro;
  ro.read_only = true;
  auto log = EventLog::Open(dir + "/log", ro);
  if (!log.ok())
    return Status::InvalidArgument(
        "backup " + dir +
        ": its log cannot be read: " + log.status().message());
  const std::string head = HexEncode((*log)->head_hash());
  if ((*log)->last_seq() != m->last_seq || head != m->head_sha256)
    return Status::InvalidArgument(
        "backup " + dir + " is incomplete or altered: its log ends at seq " +
        std::to_string((*log)->last_seq()) + " (head " + head +
        "), its manifest says seq " + std::to_string(m->last_seq) + " (head " +
        m->head_sha256 + ")");
  if ((*log)->installation_id() != m->installation_id)
    return Status::InvalidArgument("backup " + dir +
                                   " is altered: its log is of installation " +
                                   (*log)->installation_id() +
                                   ", its manifest says " + m->installation_id);
  return m;
}

}  // namespace dirledger

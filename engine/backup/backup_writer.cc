#include "engine/backup/backup_writer.h"

#include <sys/stat.h>

#include <chrono>
#include <filesystem>

#include "codecs/sha256.h"
#include "engine/crash_point.h"
#include "engine/embedded_mail/embedded_mail_directory.h"
#include "storage/durable_fs.h"
#include "storage/event_log.h"

namespace dirledger {
namespace fs = std::filesystem;

Status WriteBackup(const EventLog& log, const EmbeddedMailDirectory* mail,
                   const BackupRequest& request, BackupManifest* manifest) {
  const std::string& dir = request.dir;
  std::error_code ec;
  if (fs::exists(dir, ec))
    return Status::InvalidArgument("backup dir " + dir +
                                   " already exists; give a new path");
  const fs::path parent = fs::path(dir).parent_path();
  if (!parent.empty() && !fs::exists(parent, ec)) {
    fs::create_directories(parent, ec);
    if (ec)
      return Status::IOError("cannot create " + parent.string() + ": " +
                             ec.message());
    ::chmod(parent.c_str(), 0700);
  }
  const std::string partial = dir + ".partial";
  fs::remove_all(partial, ec);
  if (ec)
    return Status::IOError("cannot remove the unfinished backup " + partial +
                           ": " + ec.message());
  fs::create_directories(partial, ec);
  if (ec)
    return Status::IOError("cannot create " + partial + ": " + ec.message());
  ::chmod(partial.c_str(), 0700);

  BackupManifest m;
  m.installation_id = log.installation_id();
  m.created_us = std::chrono::duration_cast<std::chrono::microseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
  m.automatic = request.automatic;
  m.why = request.why;
  m.log_format = static_cast<int>(kLogFormatVersion);
  DIRLEDGER_RETURN_IF_ERROR(log.Checkpoint(partial + "/log"));
  {
    // The manifest says what the checkpoint holds, read back from it.
    LogOptions ro;
    ro.read_only = true;
    auto copy = EventLog::Open(partial + "/log", ro);
    if (!copy.ok())
      return copy.status().WithContext("reading back the backup of the log");
    m.last_seq = (*copy)->last_seq();
    m.head_sha256 = HexEncode((*copy)->head_hash());
  }
  CrashPoint("backup.after_log");
  if (mail) {
    m.has_mail = true;
    m.mail_last_change = mail->last_change();
    DIRLEDGER_RETURN_IF_ERROR(mail->Checkpoint(partial + "/mail"));
    CrashPoint("backup.after_mail");
  }
  DIRLEDGER_RETURN_IF_ERROR(WriteManifest(partial, m));
  DIRLEDGER_RETURN_IF_ERROR(SyncTree(partial));
  CrashPoint("backup.before_rename");
  DIRLEDGER_RETURN_IF_ERROR(RenameDurably(partial, dir));
  *manifest = m;
  return Status::Ok();
}

}  // namespace dirledger

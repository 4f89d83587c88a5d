#include "tools/dirledger/auto_backup.h"

#include <ctime>
#include <filesystem>
#include <iostream>

#include "codecs/sha256.h"
#include "engine/backup/backup_retention.h"
#include "engine/backup/backup_writer.h"
#include "engine/embedded_mail/embedded_mail_directory.h"

namespace dirledger::cli {
namespace {

std::string Timestamp() {
  std::time_t t = std::time(nullptr);
  std::tm tm;
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

}  // namespace

Status AutoBackup(CliContext& ctx, const EventLog& log,
                  const EmbeddedMailDirectory* embedded, const std::string& why,
                  bool once_per_head, AutoBackupResult* out) {
  namespace fs = std::filesystem;
  const std::string backups = ctx.data_dir() + "/backups";
  DIRLEDGER_RETURN_IF_ERROR(log.WaitCommitted());
  std::vector<std::string> unfinished;
  DIRLEDGER_RETURN_IF_ERROR(RemoveUnfinishedBackups(backups, &unfinished));
  for (const std::string& u : unfinished)
    ctx.err() << "removed the unfinished backup " << u
              << " (an earlier run stopped while making it)\n";
  if (once_per_head) {
    auto existing = ListAutomaticBackups(backups);
    if (!existing.ok()) return existing.status();
    const std::string head = HexEncode(log.head_hash());
    for (const StoredBackup& b : *existing) {
      const BackupManifest& m = b.manifest;
      if (m.why == why && m.last_seq == log.last_seq() &&
          m.head_sha256 == head && m.has_mail == (embedded != nullptr) &&
          (!embedded || m.mail_last_change == embedded->last_change())) {
        out->where = b.dir;
        out->reused = true;
      }
    }
    if (out->reused) return Status::Ok();
  }
  // Two backups in the same second (a run restarted at once) get -2, -3...
  const std::string base = backups + "/" + Timestamp() + "-" + why;
  std::string dir = base;
  std::error_code ec;
  for (int n = 2; fs::exists(dir, ec) || fs::exists(dir + ".partial", ec); ++n)
    dir = base + "-" + std::to_string(n);
  BackupManifest manifest;
  DIRLEDGER_RETURN_IF_ERROR(
      WriteBackup(log, embedded, BackupRequest{dir, true, why}, &manifest));
  out->where = dir;
  return PruneAutomaticBackups(backups, ctx.config()->backup_keep, dir,
                               &out->pruned);
}

}  // namespace dirledger::cli

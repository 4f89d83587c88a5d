// `dirledger backup DIR` / `restore DIR`: backups of the log (and of the
// embedded mail directory when it is in use) with a manifest, made whole or
// not at all (engine/backup/backup_writer.h), and restores that leave the
// data dir old or new after a kill at any point (restore_journal.h).
#include <filesystem>
#include <iostream>

#include "engine/backup/backup_writer.h"
#include "engine/backup/restore_check.h"
#include "engine/backup/restore_journal.h"
#include "engine/embedded_mail/embedded_mail_directory.h"
#include "engine/wiring/connectors.h"
#include "tools/dirledger/asker_view.h"
#include "tools/dirledger/commands.h"

namespace dirledger::cli {
namespace fs = std::filesystem;

int RunBackup(CliContext& ctx, const std::string& dir) {
  if (ctx.service() && SeenElsewhere(ctx.asker_pid(), dir)) {
    ctx.err() << "dirledger: backup refused: the service sees " << dir
              << " as another directory than you do (under systemd its /tmp "
                 "is its own, PrivateTmp, removed when it stops); choose a "
                 "directory you both see that the service may write, e.g. "
                 "below /var/lib/dirledger\n";
    return kExitUsage;
  }
  EventLog* log = ctx.OpenLog(/*read_only=*/false);
  if (!log) return ctx.OpenFailedExit();
  const Config* cfg = ctx.config();
  std::unique_ptr<EmbeddedMailDirectory> opened;
  const EmbeddedMailDirectory* mail = nullptr;
  if (cfg->mail.kind == MailKind::kEmbedded) {
    if (ctx.service()) {
      mail = ctx.service()->embedded;  // the service has it open
    } else {
      auto rules = RuleSet::Compile(*cfg);
      if (!rules.ok()) return ctx.Fail(rules.status());
      auto m = OpenEmbeddedMail(*rules);
      if (!m.ok()) return ctx.Fail(m.status());
      opened = std::move(m).value();
      mail = opened.get();
    }
  }
  // Everything appended so far is in the checkpoint.
  if (Status synced = log->WaitCommitted(); !synced.ok())
    return ctx.Fail(synced);
  BackupManifest manifest;
  Status s = WriteBackup(*log, mail, BackupRequest{dir, false, ""}, &manifest);
  if (!s.ok()) return ctx.Fail(s);
  ctx.out() << "backup: log (" << manifest.last_seq << " records) saved to "
            << dir << "/log\n";
  if (mail)
    ctx.out() << "backup: embedded mail directory saved to " << dir
              << "/mail\n";
  else
    ctx.out() << "backup: no mail directory ([mail] kind = \"axigen\": "
                 "dirledger syncs Axigen, it does not back it up)\n";
  return kExitOk;
}

namespace {

// A running dirledger (the service) holds the data dir: restoring would
// replace its files under it, its next writes would be lost and the data
// dir left damaged. Taking the locks, as every writer does, tells. (Any
// other failure to open is what a restore is for: it goes ahead.)
Status CheckNotInUse(CliContext& ctx, const Config& cfg) {
  std::error_code ec;
  if (fs::exists(ctx.log_dir(), ec)) {
    ::dirledger::LogOptions o;
    o.sync = false;
    auto probe = EventLog::Open(ctx.log_dir(), o);
    if (!probe.ok() && probe.status().code() == StatusCode::kUnavailable)
      return probe.status();
  }
  if (cfg.mail.kind == MailKind::kEmbedded &&
      fs::exists(EmbeddedMailDirectory::DirFor(cfg), ec)) {
    auto rules = RuleSet::Compile(cfg);
    if (!rules.ok()) return rules.status();
    auto mail = OpenEmbeddedMail(*rules);
    if (!mail.ok() && mail.status().code() == StatusCode::kUnavailable)
      return mail.status();
  }
  return Status::Ok();
}

// The installation id of the data dir's log, "" when there is no log or it
// cannot be read (then there is nothing to compare with).
std::string CurrentInstallation(CliContext& ctx) {
  std::error_code ec;
  if (!fs::exists(fs::path(ctx.log_dir()) / "CURRENT", ec)) return "";
  ::dirledger::LogOptions ro;
  ro.read_only = true;
  auto log = EventLog::Open(ctx.log_dir(), ro);
  return log.ok() ? (*log)->installation_id() : std::string();
}

}  // namespace

int RunRestore(CliContext& ctx, const std::string& dir,
               const RestoreOptions& o) {
  const std::string data = ctx.data_dir();
  if (data.empty()) return kExitUsage;
  if (!o.yes) {
    ctx.err() << "dirledger: restore replaces the log in " << ctx.log_dir()
              << " with the backup in " << dir
              << "; run again with --yes to do it\n";
    return kExitUsage;
  }
  const Config* cfg = ctx.config();
  // From the first check to the last rename no command that writes may
  // start: one that opened the log now would write into the log replaced.
  std::error_code ec;
  fs::create_directories(data, ec);
  if (ec)
    return ctx.Fail(
        Status::IOError("cannot create " + data + ": " + ec.message()));
  DataDirLock lock;
  Status s = lock.TryAcquire(data, /*exclusive=*/true);
  if (!s.ok()) return ctx.Fail(s.WithContext("restore refused"));
  s = CheckNotInUse(ctx, *cfg);
  if (!s.ok()) return ctx.Fail(s.WithContext("restore refused"));
  auto manifest = CheckBackupComplete(dir);
  if (!manifest.ok())
    return ctx.Fail(manifest.status().WithContext("restore refused"));
  const bool embedded = cfg->mail.kind == MailKind::kEmbedded;
  if (embedded && !manifest->has_mail)
    return ctx.Fail(Status::InvalidArgument(
        "restore refused: backup " + dir +
        " has no mail directory (it was made with [mail] kind = \"axigen\"), "
        "but this config uses the embedded one: restoring the log alone "
        "would leave the two apart"));
  const std::string here = CurrentInstallation(ctx);
  if (!here.empty() && here != manifest->installation_id) {
    ctx.err() << "dirledger: backup " << dir << " is of installation "
              << manifest->installation_id << " (made "
              << FormatTime(manifest->created_us) << ", log at seq "
              << manifest->last_seq << "); this data dir is installation "
              << here << "\n";
    if (!o.other_installation)
      return ctx.Fail(Status::InvalidArgument(
          "restore refused: the backup is of another installation; give "
          "--other-installation to restore it here all the same"));
  }
  std::vector<RestorePart> parts = {{"log", dir + "/log"}};
  if (embedded) parts.push_back({"mail", dir + "/mail"});
  s = RestoreParts(data, parts, lock);
  if (!s.ok()) return ctx.Fail(s.WithContext("restore"));
  if (embedded) {
    ctx.out() << "restore: embedded mail directory restored\n";
  } else if (manifest->has_mail) {
    ctx.out() << "restore: the backup's embedded mail directory is left out "
                 "([mail] kind = \"axigen\")\n";
  } else {
    ctx.out() << "restore: the backup has no mail directory; only the log "
                 "is restored\n";
  }
  ctx.out() << "restore: " << ctx.log_dir() << " restored from " << dir
            << " (log at seq " << manifest->last_seq << ")\n";
  return kExitOk;
}

}  // namespace dirledger::cli

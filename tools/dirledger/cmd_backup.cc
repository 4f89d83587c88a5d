// `dirledger backup DIR` / `restore DIR`: RocksDB checkpoints of the log
// (and of the embedded mail directory when it is in use), as the Axigen
// documentation's first notice asks: back up before syncing.
#include <filesystem>
#include <iostream>

#include "engine/embedded_mail/embedded_mail_directory.h"
#include "engine/wiring/connectors.h"
#include "tools/dirledger/commands.h"

namespace dirledger::cli {
namespace fs = std::filesystem;

int RunBackup(CliContext& ctx, const std::string& dir) {
  EventLog* log = ctx.OpenLog(/*read_only=*/false);
  if (!log) return ctx.OpenFailedExit();
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    std::cerr << "dirledger: backup dir " << dir
              << " already exists; give a new path\n";
    return kExitUsage;
  }
  fs::create_directories(dir, ec);
  if (ec)
    return ctx.Fail(
        Status::IOError("cannot create " + dir + ": " + ec.message()));
  Status s = log->Checkpoint(dir + "/log");
  if (!s.ok()) return ctx.Fail(s);
  std::cout << "backup: log (" << log->last_seq() << " records) saved to "
            << dir << "/log\n";
  const Config* cfg = ctx.config();
  if (cfg->mail.kind == MailKind::kEmbedded) {
    auto rules = RuleSet::Compile(*cfg);
    if (!rules.ok()) return ctx.Fail(rules.status());
    auto mail = OpenEmbeddedMail(*rules);
    if (!mail.ok()) return ctx.Fail(mail.status());
    s = (*mail)->Checkpoint(dir + "/mail");
    if (!s.ok()) return ctx.Fail(s);
    std::cout << "backup: embedded mail directory saved to " << dir
              << "/mail\n";
  }
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

}  // namespace

int RunRestore(CliContext& ctx, const std::string& dir, bool yes) {
  const std::string data = ctx.log_dir();
  if (data.empty()) return kExitUsage;
  if (!yes) {
    std::cerr << "dirledger: restore replaces the log in " << data
              << " with the backup in " << dir
              << "; run again with --yes to do it\n";
    return kExitUsage;
  }
  const Config* cfg = ctx.config();
  Status s = CheckNotInUse(ctx, *cfg);
  if (!s.ok()) return ctx.Fail(s.WithContext("restore refused"));
  s = EventLog::Restore(dir + "/log", data);
  if (!s.ok()) return ctx.Fail(s);
  if (cfg->mail.kind == MailKind::kEmbedded && fs::exists(dir + "/mail")) {
    s = EmbeddedMailDirectory::Restore(dir + "/mail",
                                       EmbeddedMailDirectory::DirFor(*cfg));
    if (!s.ok()) return ctx.Fail(s);
    std::cout << "restore: embedded mail directory restored\n";
  }
  std::cout << "restore: " << data << " restored from " << dir << "\n";
  return kExitOk;
}

}  // namespace dirledger::cli

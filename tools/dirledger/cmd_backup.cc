// `dirledger backup DIR` / `restore DIR`: RocksDB checkpoints of the log
// (and of the embedded mail directory when it is in use), as the Axigen
// documentation's first notice asks: back up before syncing.
#include <filesystem>
#include <iostream>

#include "tools/dirledger/commands.h"

namespace dirledger::cli {
namespace fs = std::filesystem;

int RunBackup(CliContext& ctx, const std::string& dir) {
  EventLog* log = ctx.OpenLog(/*read_only=*/false);
  if (!log) return kExitFailure;
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    std::cerr << "dirledger: backup dir " << dir
              << " already exists; give a new path\n";
    return kExitUsage;
  }
  fs::create_directories(dir, ec);
  if (ec) return ctx.Fail(Status::IOError("cannot create " + dir + ": " + ec.message()));
  Status s = log->Checkpoint(dir + "/log");
  if (!s.ok()) return ctx.Fail(s);
  std::cout << "backup: log (" << log->last_seq() << " records) saved to "
            << dir << "\n";
  return kExitOk;
}

int RunRestore(CliContext& ctx, const std::string& dir, bool yes) {
  const std::string data = ctx.log_dir();
  if (data.empty()) return kExitUsage;
  if (!yes) {
    std::cerr << "dirledger: restore replaces the log in " << data
              << " with the backup in " << dir
              << "; run again with --yes to do it\n";
    return kExitUsage;
  }
  Status s = EventLog::Restore(dir + "/log", data);
  if (!s.ok()) return ctx.Fail(s);
  std::cout << "restore: " << data << " restored from " << dir << "\n";
  return kExitOk;
}

}  // namespace dirledger::cli

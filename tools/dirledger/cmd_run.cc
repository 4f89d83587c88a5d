// `dirledger run [--once] [--dry-run]`: the sync. --once refreshes every
// enabled source, reconciles, applies and exits; without it the sources run
// until SIGTERM (refreshAndPersist, polling). --dry-run decides and prints the
// intents but writes nothing anywhere and moves no cursor.
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <iostream>

#include "engine/embedded_mail/embedded_mail_directory.h"
#include "engine/intake.h"
#include "engine/run_loop.h"
#include "engine/wiring/connectors.h"
#include "replay/reconciler.h"
#include "tools/dirledger/commands.h"
#include "tools/dirledger/progress.h"
#include "tools/dirledger/render.h"

namespace dirledger::cli {
namespace {

std::atomic<bool> g_stop{false};

extern "C" void OnSignal(int) { g_stop.store(true); }

void InstallSignals() {
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

std::string Timestamp() {
  std::time_t t = std::time(nullptr);
  std::tm tm;
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

}  // namespace

Status AutoCheckpoint(CliContext& ctx, EventLog* log,
                      EmbeddedMailDirectory* embedded, const std::string& why,
                      std::string* where) {
  namespace fs = std::filesystem;
  const std::string backups = ctx.data_dir() + "/backups";
  std::error_code ec;
  fs::create_directories(backups, ec);
  if (ec)
    return Status::IOError("cannot create " + backups + ": " + ec.message());
  // A backup is made under NAME.partial and renamed to NAME once whole, so a
  // process killed while making it leaves no directory that looks complete.
  // Such leftovers are ours, and unfinished: remove them.
  for (const fs::directory_entry& e : fs::directory_iterator(backups, ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() > 8 && name.ends_with(".partial")) {
      fs::remove_all(e.path(), ec);
      if (ec)
        return Status::IOError("cannot remove the unfinished backup " +
                               e.path().string() + ": " + ec.message());
      std::cerr << "removed the unfinished backup " << e.path().string()
                << " (an earlier run stopped while making it)\n";
    }
  }
  // Two backups in the same second (a run restarted at once) get -2, -3...
  const std::string base = backups + "/" + Timestamp() + "-" + why;
  std::string dir = base;
  for (int n = 2; fs::exists(dir); ++n)  // (no NAME.partial is left)
    dir = base + "-" + std::to_string(n);
  const std::string partial = dir + ".partial";
  fs::create_directories(partial, ec);
  if (ec)
    return Status::IOError("cannot create " + partial + ": " + ec.message());
  DIRLEDGER_RETURN_IF_ERROR(log->Checkpoint(partial + "/log"));
  if (embedded)
    DIRLEDGER_RETURN_IF_ERROR(embedded->Checkpoint(partial + "/mail"));
  fs::rename(partial, dir, ec);
  if (ec)
    return Status::IOError("cannot rename " + partial + " to " + dir + ": " +
                           ec.message());
  *where = dir;
  return Status::Ok();
}

int RunRun(CliContext& ctx, const RunOptions& o) {
  const Config* cfg = ctx.config();
  if (!cfg) return kExitUsage;
  auto rules = RuleSet::Compile(*cfg);
  if (!rules.ok()) return ctx.Fail(rules.status());
  EventLog* log = ctx.OpenLog(/*read_only=*/false);
  if (!log) return ctx.OpenFailedExit();
  InstallSignals();

  ConnectorSetOptions copts;
  copts.mail_sync = cfg->fsync;
  auto connectors = BuildConnectors(*rules, copts);
  if (!connectors.ok()) return ctx.Fail(connectors.status());

  IntakeOptions io;
  io.dry_run = o.dry_run;
  io.keep_decisions = o.dry_run;
  // Each batch is written while the next is decided; the run loop waits
  // for the writes before acting on them (applying, ending a pass).
  io.async_commit = !o.dry_run;
  Intake intake(log, *rules, ReconcileDecider(), io);

  // Back up before the first sync of a connector (Axigen's first notice).
  if (!o.dry_run) {
    std::vector<std::string> first;
    for (Source* s : connectors->sources()) {
      if (s->side() != Side::kLdap) continue;
      Result<std::string> cursor = intake.Cursor(s->id());
      if (!cursor.ok()) return ctx.Fail(cursor.status());
      if (cursor->empty()) first.push_back(s->id());
    }
    if (!first.empty() && (log->last_seq() > 0 || connectors->embedded)) {
      std::string name = first.front();
      for (char& c : name)
        if (c == '/') c = '-';
      std::string where;
      Status s = AutoCheckpoint(ctx, log, connectors->embedded,
                                "before-first-sync-" + name, &where);
      if (!s.ok()) return ctx.Fail(s.WithContext("automatic backup"));
      if (!o.quiet)
        std::cerr << "backup before the first sync of " << first.front() << ": "
                  << where << "\n";
    }
  }

  auto recorded =
      intake.RecordConfig(MakeConfigChange(*cfg, ctx.config_text()));
  if (!recorded.ok()) return ctx.Fail(recorded.status());

  Progress progress(o.dry_run ? nullptr : log, isatty(STDERR_FILENO) != 0,
                    o.quiet);
  RunLoop loop(&intake, connectors->sources(), connectors->appliers(), &g_stop,
               &progress);
  RunStats stats;
  Status s = o.once || o.dry_run ? loop.RunOnce(&stats) : loop.Run(&stats);
  if (Status synced = intake.Sync(); s.ok() || !synced.ok()) s = synced;

  if (o.dry_run) {
    if (o.json) {
      for (const Intent& i : stats.dry_run_intents)
        CliContext::JsonLine(IntentJson(i));
    } else {
      std::cout << "dry run: " << stats.events << " events would be appended, "
                << stats.dry_run_intents.size()
                << " writes would be made; nothing was written\n";
      for (const Intent& i : stats.dry_run_intents)
        std::cout << "  " << IntentText(i);
    }
  } else if (!o.quiet) {
    std::cerr << "run: " << stats.events << " events, " << stats.applied
              << " writes applied, " << stats.failed << " failed";
    if (stats.left_pending)
      std::cerr << ", " << stats.left_pending
                << " left for later (peer unavailable)";
    std::cerr << "; log at " << log->last_seq() << "\n";
  }
  if (!s.ok() && s.code() != StatusCode::kAborted) return ctx.Fail(s);
  // A service stopped by SIGTERM exits 0: its holds and failures are in
  // `dirledger status`. A single pass reports them in its exit code.
  if (!o.once && !o.dry_run) return kExitOk;
  if (stats.held > 0) {
    std::cerr << "dirledger: " << stats.held
              << " deletes are held by the mass-delete guard; see `dirledger "
                 "status`, then `dirledger approve HOLD` or `reject HOLD`\n";
    return kExitHeld;
  }
  if (stats.failed > 0) return kExitFailure;
  if (stats.left_pending > 0) {
    // Nothing is lost (the intents stay pending in the log), but the pass
    // did not finish its work: a script running it must be able to tell.
    std::cerr << "dirledger: " << stats.left_pending
              << " writes were left for the next run (a peer was "
                 "unavailable); `dirledger status` lists them\n";
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace dirledger::cli

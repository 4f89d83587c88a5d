// `dirledger run [--once] [--dry-run]`: the sync. --once refreshes every
// enabled source, reconciles, applies and exits; without it the sources run
// until SIGTERM (refreshAndPersist, polling). --dry-run decides and prints the
// intents but writes nothing anywhere and moves no cursor. The service
// (run without --once or --dry-run) listens on the data dir's control socket
// and carries out, between its cycles, the commands operators send it
// (control_commands.h), and serves [service] metrics_listen (Prometheus
// metrics, /healthz, /readyz; docs/operations.md, "Monitoring").
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <future>
#include <iostream>
#include <memory>
#include <optional>

#include "engine/embedded_mail/embedded_mail_directory.h"
#include "engine/hooks/hook_runner.h"
#include "engine/intake.h"
#include "engine/metrics/metrics_server.h"
#include "engine/metrics/run_metrics.h"
#include "engine/observer_fanout.h"
#include "engine/run_loop.h"
#include "engine/secrets.h"
#include "engine/wiring/connectors.h"
#include "replay/reconciler.h"
#include "tools/dirledger/auto_backup.h"
#include "tools/dirledger/commands.h"
#include "tools/dirledger/control_commands.h"
#include "tools/dirledger/control_socket.h"
#include "tools/dirledger/hook_observer.h"
#include "tools/dirledger/progress.h"
#include "tools/dirledger/render.h"
#include "tools/dirledger/service_notify.h"

namespace dirledger::cli {
namespace {

std::atomic<bool> g_stop{false};
// A second SIGTERM or SIGINT: stop draining, exit now.
std::atomic<bool> g_hurry{false};

// The drain after SIGTERM applies what was decided for at most this long.
constexpr std::chrono::seconds kDrainTimeout{30};

extern "C" void OnStop(int) {
  if (g_stop.exchange(true)) g_hurry.store(true);
}

// SIGHUP does not re-read the config (a changed config takes effect at the
// next start, where it is recorded as an event): it is ignored and says so.
extern "C" void OnHangup(int) {
  static constexpr char kLine[] =
      "dirledger: SIGHUP ignored; restart to re-read the config\n";
  const ssize_t n = write(STDERR_FILENO, kLine, sizeof kLine - 1);
  (void)n;  // nothing more a signal handler can do
}

void InstallSignals() {
  struct sigaction sa {};
  sa.sa_handler = OnStop;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  struct sigaction hup {};
  hup.sa_handler = OnHangup;
  sigemptyset(&hup.sa_mask);
  hup.sa_flags = SA_RESTART;
  sigaction(SIGHUP, &hup, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

// A request that has not started after this long says it waits.
constexpr auto kSayWaiting = std::chrono::seconds(1);

ControlReply ErrorAnswer(int exit, const std::string& message) {
  ControlReply r;
  r.exit = exit;
  r.err = "dirledger: " + message + "\n";
  return r;
}

// The control socket's handler: each request is handed to the run loop's
// applier thread, which carries it out between two of its cycles.
ControlServer::Handler ServeRequests(RunLoop* loop, const ServiceConfig* config,
                                     const ServiceHandles* handles) {
  return [=](const ControlRequest& request, const PeerCredentials& peer,
             const ControlServer::NoteFn& note) -> ControlReply {
    const std::string what = RequestText(request);
    const std::string actor = RequestActor(request, peer);
    spdlog::info("control socket: `{}` from uid {} (pid {}) as {}", what,
                 peer.uid, peer.pid, actor);
    auto answer = std::make_shared<std::promise<ControlReply>>();
    auto started = std::make_shared<std::atomic<bool>>(false);
    std::future<ControlReply> answered = answer->get_future();
    const bool posted = loop->Post([=](bool run) {
      if (!run) {
        answer->set_value(ErrorAnswer(
            kExitFailure,
            "the service stopped before carrying out the command; run it "
            "again (by itself once the service has stopped)"));
        return;
      }
      started->store(true);
      answer->set_value(CarryOutRequest(request, peer, *config, *handles));
    });
    if (!posted)
      return ErrorAnswer(kExitFailure,
                         "the service is not taking commands now (starting "
                         "or stopping); run the command again in a moment");
    if (answered.wait_for(kSayWaiting) != std::future_status::ready &&
        !started->load())
      note("waiting for the service's current cycle");
    ControlReply reply = answered.get();
    spdlog::info("control socket: `{}` for uid {}: exit {}", what, peer.uid,
                 reply.exit);
    return reply;
  };
}

}  // namespace

int RunRun(CliContext& ctx, const RunOptions& o) {
  InstallSignals();
  const Config* cfg = ctx.config();
  if (!cfg) return kExitUsage;
  auto rules = RuleSet::Compile(*cfg);
  if (!rules.ok()) return ctx.Fail(rules.status());
  // A password file that is empty or cannot be read stops the run before it
  // starts (exit 2), not at its first connection.
  if (Status s = CheckSecrets(*cfg); !s.ok()) return ctx.Fail(s);
  const bool service = !o.once && !o.dry_run;
  // So is a hook whose program is not there (the service runs hooks).
  if (service)
    if (Status s = CheckHookPrograms(cfg->hooks); !s.ok()) return ctx.Fail(s);
  ConnectorSetOptions copts;
  copts.mail_sync = cfg->fsync;
  copts.long_running = service;
  // The embedded mail directory opens while the log does.
  std::optional<Result<ConnectorSet>> built;
  EventLog* log = ctx.OpenLogWhile(
      /*long_running=*/service,
      [&] { built.emplace(BuildConnectors(*rules, copts)); });
  if (!log) return ctx.OpenFailedExit();
  Result<ConnectorSet>& connectors = *built;
  if (!connectors.ok()) return ctx.Fail(connectors.status());

  // The service serves [service] metrics_listen from here until it stops
  // (a single pass or a dry run does not): an address it cannot listen on
  // stops it before it records anything.
  MetricsRegistry metrics_registry;
  std::unique_ptr<RunMetrics> metrics;
  std::unique_ptr<MetricsServer> metrics_server;
  if (service && !cfg->service.metrics_listen.empty()) {
    auto at = ParseListenAddress(cfg->service.metrics_listen);
    if (!at.ok()) return ctx.Fail(at.status());
    RunMetricsOptions mo;
    for (Source* s : connectors->sources()) mo.sources.push_back(s->id());
    metrics = std::make_unique<RunMetrics>(&metrics_registry, log, mo);
    auto started = MetricsServer::Start(*at, &metrics_registry, metrics.get());
    if (!started.ok()) return ctx.Fail(started.status());
    metrics_server = std::move(started).value();
    spdlog::info("metrics: http://{}/metrics, /healthz, /readyz",
                 at->ToString());
    if (!at->loopback())
      spdlog::warn(
          "metrics_listen {} is not a loopback address: whoever reaches it "
          "reads the metrics (there is no authentication)",
          at->ToString());
  }

  IntakeOptions io;
  io.dry_run = o.dry_run;
  io.keep_decisions = o.dry_run;
  // Each batch is written while the next is decided; the run loop waits
  // for the writes before acting on them (applying, ending a pass).
  io.async_commit = !o.dry_run;
  Intake intake(log, *rules, ReconcileDecider(), io);

  const bool had_events = log->last_seq() > 0;
  // Failures opened by this run's events come after this seq.
  const std::uint64_t run_start_seq = log->last_seq();
  auto recorded =
      intake.RecordConfig(MakeConfigChange(*cfg, ctx.config_text()));
  if (!recorded.ok()) return ctx.Fail(recorded.status());

  // Back up before the first sync of a connector (Axigen's first notice),
  // once per log head: a first run that failed (a server down, a password
  // file missing) and is run again takes the backup it made.
  if (!o.dry_run) {
    std::vector<std::string> first;
    for (Source* s : connectors->sources()) {
      if (s->side() != Side::kLdap) continue;
      Result<std::string> cursor = intake.Cursor(s->id());
      if (!cursor.ok()) return ctx.Fail(cursor.status());
      if (cursor->empty()) first.push_back(s->id());
    }
    if (!first.empty() && (had_events || connectors->embedded)) {
      std::string name = first.front();
      for (char& c : name)
        if (c == '/') c = '-';
      AutoBackupResult backup;
      Status s = AutoBackup(ctx, *log, connectors->embedded,
                            "before-first-sync-" + name,
                            /*once_per_head=*/true, &backup);
      if (!s.ok()) return ctx.Fail(s.WithContext("automatic backup"));
      if (!o.quiet) {
        std::cerr << "backup before the first sync of " << first.front() << ": "
                  << backup.where
                  << (backup.reused ? " (made earlier at this log head)" : "")
                  << "\n";
        for (const std::string& p : backup.pruned)
          std::cerr << "removed the old automatic backup " << p
                    << " (backup_keep = " << cfg->backup_keep << ")\n";
      }
    }
  }

  Progress progress(o.dry_run ? nullptr : log, isatty(STDERR_FILENO) != 0,
                    o.quiet);
  // Under a Type=notify unit: READY=1, WATCHDOG=1 and STATUS= to systemd.
  ServiceNotifier notifier;
  NotifyingObserver notifying(&notifier, &progress,
                              connectors->sources().size());
  // The service runs the alert hooks ([[hook]]) on their own thread, and
  // serves the metrics; a single pass shows its progress.
  HookRunner hooks(*cfg);
  HookObserver hook_observer(&hooks);
  FanOutObserver observers(
      service
          ? std::vector<RunObserver*>{&notifying, metrics.get(), &hook_observer}
          : std::vector<RunObserver*>{&progress});
  RunLoop loop(&intake, connectors->sources(), connectors->appliers(), &g_stop,
               &observers);
  loop.set_drain(kDrainTimeout, &g_hurry);
  RunStats stats;
  // The service takes operators' commands on its control socket; without
  // one (it cannot be made) they need the service stopped, as before.
  const ServiceConfig service_config{cfg, ctx.config_path(), ctx.config_text()};
  ServiceHandles handles;
  handles.log = log;
  handles.intake = &intake;
  handles.appliers = connectors->appliers();
  handles.embedded = connectors->embedded;
  handles.observer = &observers;
  std::unique_ptr<ControlServer> control;
  if (service) {
    auto started =
        ControlServer::Start(ControlSocketPath(ctx.data_dir()),
                             ServeRequests(&loop, &service_config, &handles));
    if (started.ok()) {
      control = std::move(started).value();
      spdlog::info(
          "control socket {}: commands that write are carried out "
          "by this service",
          control->path());
    } else {
      spdlog::warn(
          "no control socket: {}; commands that write need the "
          "service stopped",
          started.status().message());
    }
  }
  Status s = service ? loop.Run(&stats) : loop.RunOnce(&stats);
  control.reset();  // answers what it holds, removes the socket
  metrics_server.reset();
  if (service)
    notifier.Stopping("stopping: " +
                      std::string(s.ok() ? "stopped" : s.message()));
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
  if (!o.once && !o.dry_run && stats.left_pending > 0)
    std::cerr << "dirledger: stopped with " << stats.left_pending
              << " writes still pending (their peer was unavailable, or the "
              << kDrainTimeout.count()
              << " s drain ended first); the next run applies them; "
                 "`dirledger status` lists them\n";
  if (!s.ok() && s.code() != StatusCode::kAborted) return ctx.Fail(s);
  // A service stopped by SIGTERM exits 0 once it has drained what was
  // decided: its holds, failures and any write left pending are in
  // `dirledger status`. A single pass reports them in its exit code.
  if (!o.once && !o.dry_run) return kExitOk;
  if (stats.held > 0) {
    std::cerr << "dirledger: " << stats.held
              << " deletes are held by the mass-delete guard; see `dirledger "
                 "status`, then `dirledger approve HOLD` or `reject HOLD`\n";
    return kExitHeld;
  }
  if (stats.failed > 0) return kExitFailure;
  std::uint64_t opened = 0;
  Status listed =
      intake.projection().ForEachFailure([&](const FailureState& f) {
        if (f.since_seq > run_start_seq) ++opened;
        return true;
      });
  if (!listed.ok()) return ctx.Fail(listed.WithContext("listing the failures"));
  if (opened > 0) {
    std::cerr << "dirledger: " << opened
              << " failures were opened in this run; `dirledger status` "
                 "lists them\n";
    return kExitFailure;
  }
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

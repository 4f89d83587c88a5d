#include "tools/dirledger/operator.h"

#include <pwd.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>

#include "engine/crash_point.h"
#include "engine/intake.h"
#include "engine/run_loop.h"
#include "engine/wiring/connectors.h"
#include "replay/reconciler.h"
#include "tools/dirledger/progress.h"

namespace dirledger::cli {
namespace {

std::string& StoredCommandLine() {
  static std::string line;
  return line;
}

}  // namespace

std::string Actor() {
  if (const char* sudo = std::getenv("SUDO_USER"); sudo && *sudo) return sudo;
  if (const passwd* pw = getpwuid(getuid())) return pw->pw_name;
  return "uid " + std::to_string(getuid());
}

void SetCommandLine(int argc, char** argv) {
  std::string line;
  for (int i = 0; i < argc; ++i) {
    if (i) line += ' ';
    line += argv[i];
  }
  StoredCommandLine() = line;
}

std::string CommandLine() { return StoredCommandLine(); }

namespace {

// Appends `action` alone (decided, with no cursor).
Status AppendAction(Intake& intake, OperatorAction action,
                    AppendResult* appended) {
  std::vector<EventBody> events;
  events.emplace_back(std::move(action));
  return intake.Append(std::move(events), std::nullopt, appended);
}

// Applies the intents pending (the action's) through `appliers`; sources are
// not started.
Status ApplyPending(
    Intake& intake,
    const std::map<std::pair<Side, std::string>, Applier*>& appliers,
    RunObserver* observer, OperatorResult* result) {
  std::atomic<bool> stop{false};
  RunLoop loop(&intake, {}, appliers, &stop, observer);
  RunStats stats;
  DIRLEDGER_RETURN_IF_ERROR(loop.ApplyPending(&stats));
  result->applied = stats.applied;
  result->failed = stats.failed;
  result->retry_later = stats.retry_later;
  return Status::Ok();
}

// The service carries out the action: on its intake (serialised with its
// sources' appends), its writers, on its applier thread.
Status AppendInService(const ServiceHandles& service, OperatorAction action,
                       OperatorResult* result) {
  Intake& intake = *service.intake;
  AppendResult appended;
  DIRLEDGER_RETURN_IF_ERROR(AppendAction(intake, std::move(action), &appended));
  DIRLEDGER_RETURN_IF_ERROR(intake.Sync());
  result->seq = appended.last_seq;
  // The service's intake keeps no decisions: the one recorded is read back.
  DIRLEDGER_RETURN_IF_ERROR(
      service.log->ReadDecision(appended.last_seq, &result->decision));
  if (appended.intents.empty()) return Status::Ok();
  return ApplyPending(intake, service.appliers, service.observer, result);
}

}  // namespace

Status AppendOperatorAction(CliContext& ctx, OperatorAction action,
                            OperatorResult* result) {
  if (const ServiceHandles* service = ctx.service())
    return AppendInService(*service, std::move(action), result);
  const Config* cfg = ctx.config();
  if (!cfg) return Status::InvalidArgument("no config");
  auto rules = RuleSet::Compile(*cfg);
  if (!rules.ok()) return rules.status();
  EventLog* log = ctx.OpenLog(/*read_only=*/false);
  if (!log) return Status::IOError("the log could not be opened");
  IntakeOptions io;
  io.keep_decisions = true;
  Intake intake(log, *rules, ReconcileDecider(), io);
  // The writers first: if they cannot be built, nothing is appended.
  ConnectorSetOptions copts;
  copts.mail_sync = cfg->fsync;
  auto connectors = BuildConnectors(*rules, copts);
  if (!connectors.ok()) return connectors.status();
  auto recorded =
      intake.RecordConfig(MakeConfigChange(*cfg, ctx.config_text()));
  if (!recorded.ok()) return recorded.status();
  AppendResult appended;
  DIRLEDGER_RETURN_IF_ERROR(AppendAction(intake, std::move(action), &appended));
  result->seq = appended.last_seq;
  if (!appended.decisions.empty()) result->decision = appended.decisions.back();
  if (appended.intents.empty()) return Status::Ok();
  DIRLEDGER_RETURN_IF_ERROR(intake.Sync());
  CrashPoint("operator.after_append");  // logged, none of its writes made
  Progress progress(log, false, /*quiet=*/true);
  return ApplyPending(intake, connectors->appliers(), &progress, result);
}

}  // namespace dirledger::cli

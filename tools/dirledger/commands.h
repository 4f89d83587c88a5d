// The dirledger subcommands, one function each (tools/dirledger/cmd_*.cc).
// main.cc parses the command line into these option structs and calls them;
// each returns an exit code (cli_context.h).
#ifndef DIRLEDGER_TOOLS_DIRLEDGER_COMMANDS_H_
#define DIRLEDGER_TOOLS_DIRLEDGER_COMMANDS_H_

#include <string>
#include <vector>

#include "tools/dirledger/cli_context.h"

namespace dirledger::cli {

struct StatusOptions {
  bool json = false;
};
int RunStatus(CliContext& ctx, const StatusOptions& o);

struct LogOptions {
  std::string object;
  std::string since;
  std::string until;
  std::string side;
  bool json = false;
  // Keep printing records as they are appended; --since SEQ then means
  // after SEQ (seq > SEQ).
  bool follow = false;
};
int RunLog(CliContext& ctx, const LogOptions& o);

struct ExplainOptions {
  std::string id;
  bool json = false;
};
int RunExplain(CliContext& ctx, const ExplainOptions& o);

struct VerifyOptions {
  std::string expect_head;  // hex head hash recorded elsewhere
  bool json = false;
};
int RunVerify(CliContext& ctx, const VerifyOptions& o);

struct RunOptions {
  bool once = false;
  bool dry_run = false;
  bool json = false;  // --dry-run: intents as JSON Lines
  bool quiet = false;
};
int RunRun(CliContext& ctx, const RunOptions& o);

struct MailOptions {
  std::string action;  // list, show, add, set, remove
  std::string address;
  std::vector<std::string> edits;  // FIELD=VALUE, FIELD+=VALUE, FIELD-=VALUE
  std::string domain;
  std::string password_file;
  std::string password_env;
  bool json = false;
};
int RunMail(CliContext& ctx, const MailOptions& o);

struct ReplayCliOptions {
  std::string until;
  std::vector<std::string> sets;  // KEY=VALUE
  bool json = false;
};
int RunReplay(CliContext& ctx, const ReplayCliOptions& o);

int RunHold(CliContext& ctx, const std::string& hold_id, bool approve);
// Exit 2 when `failure_id` names no open failure.
int RunDismiss(CliContext& ctx, const std::string& failure_id);

struct RollbackOptions {
  std::string to;
  std::string domain;
  std::string side = "both";
  bool dry_run = false;
  bool yes = false;
  bool json = false;
  bool full_replay = false;  // ignore projection checkpoints
};
int RunRollback(CliContext& ctx, const RollbackOptions& o);

struct ExportOptions {
  std::string side;
  std::string at;
  std::string format = "ldif";
  bool full_replay = false;  // ignore projection checkpoints
};
int RunExport(CliContext& ctx, const ExportOptions& o);

int RunBackup(CliContext& ctx, const std::string& dir);
struct RestoreOptions {
  bool yes = false;
  bool other_installation = false;  // a backup of another installation
};
int RunRestore(CliContext& ctx, const std::string& dir,
               const RestoreOptions& o);

}  // namespace dirledger::cli

#endif  // DIRLEDGER_TOOLS_DIRLEDGER_COMMANDS_H_

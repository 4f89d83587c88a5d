// CommandParser: dirledger's command line (CLI11): every subcommand, its
// options and --help text, parsed into the option structs of commands.h,
// and the call of the command chosen. main() parses what was typed; the
// service parses what an operator's command sent it over the control
// socket (control_commands.h) the same way.
//
// Thread safety: one per command line; not copyable (CLI11 keeps pointers
// into it).
#ifndef DIRLEDGER_TOOLS_DIRLEDGER_COMMAND_PARSER_H_
#define DIRLEDGER_TOOLS_DIRLEDGER_COMMAND_PARSER_H_

#include <CLI/CLI.hpp>
#include <ostream>
#include <string>

#include "tools/dirledger/commands.h"

namespace dirledger::cli {

struct CommandParser {
  CommandParser();
  CommandParser(const CommandParser&) = delete;
  CommandParser& operator=(const CommandParser&) = delete;

  // Parses argv (argv[0] the program). -1 when a command was chosen;
  // otherwise the exit code after printing the help or the error to `out`
  // / `err`.
  int Parse(int argc, const char* const* argv, std::ostream& out,
            std::ostream& err);
  // The command chosen: "approve", "mail add", ...
  std::string Name() const;
  // Runs the command chosen; its exit code.
  int Dispatch(CliContext& ctx);

  CLI::App app;
  std::string config = "./dirledger.toml";
  RunOptions run_o;
  StatusOptions status_o;
  LogOptions log_o;
  ExplainOptions explain_o;
  VerifyOptions verify_o;
  ReplayCliOptions replay_o;
  RollbackOptions rollback_o;
  std::string hold_id;
  std::string failure_id;
  ExportOptions export_o;
  std::string backup_dir;
  std::string restore_dir;
  RestoreOptions restore_o;
  MailOptions mail_o;

  CLI::App* run = nullptr;
  CLI::App* status = nullptr;
  CLI::App* log = nullptr;
  CLI::App* explain = nullptr;
  CLI::App* verify = nullptr;
  CLI::App* replay = nullptr;
  CLI::App* rollback = nullptr;
  CLI::App* approve = nullptr;
  CLI::App* reject = nullptr;
  CLI::App* dismiss = nullptr;
  CLI::App* exp = nullptr;
  CLI::App* backup = nullptr;
  CLI::App* restore = nullptr;
  CLI::App* mail = nullptr;
  CLI::App* mail_list = nullptr;
  CLI::App* mail_show = nullptr;
  CLI::App* mail_add = nullptr;
  CLI::App* mail_set = nullptr;
  CLI::App* mail_remove = nullptr;
  CLI::App* version = nullptr;
};

}  // namespace dirledger::cli

#endif  // DIRLEDGER_TOOLS_DIRLEDGER_COMMAND_PARSER_H_

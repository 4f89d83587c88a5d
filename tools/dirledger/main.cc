// dirledger: the command operators and auditors use. Contract (DESIGN and
// docs/operations.md): exit 0 ok, 1 failure or mismatch, 2 usage or config
// error, 3 held by the mass-delete guard; --json prints JSON Lines.
#include <sys/stat.h>

#include <iostream>

#include "tools/dirledger/command_parser.h"
#include "tools/dirledger/control_commands.h"
#include "tools/dirledger/journal_log.h"
#include "tools/dirledger/operator.h"
#include "tools/dirledger/version.h"

int main(int argc, char** argv) {
  using namespace dirledger::cli;  // NOLINT
  ::umask(077);  // everything dirledger writes is private to its user
  CliContext::UseCheckedStdout();  // a failed write is an error, exit 1
  // Operational messages go to stderr: stdout carries results (and --json).
  // Under systemd, in the journal's form (journal_log.h).
  SetUpLogging();

  CommandParser parsed;
  if (const int rc = parsed.Parse(argc, argv, std::cout, std::cerr); rc >= 0)
    return CliContext::FinishOutput(rc);
  if (*parsed.version) {  // needs no config
    std::cout << VersionText();
    return CliContext::FinishOutput(kExitOk);
  }
  SetCommandLine(argc, argv);
  CliContext ctx(parsed.config);
  ctx.set_quiet(parsed.run_o.quiet);
  // Every command needs the config; one that cannot be read or is wrong is
  // a usage or config error (exit 2), whatever the command.
  if (!ctx.config()) return CliContext::FinishOutput(kExitUsage);
  if (const int rc = ctx.FinishInterruptedRestore())
    return CliContext::FinishOutput(rc);
  // A command that writes goes to the service when one runs.
  if (int rc = 0; ForwardToService(ctx, parsed, argc, argv, &rc))
    return CliContext::FinishOutput(rc);
  // Whatever the command printed must have arrived whole.
  return CliContext::FinishOutput(parsed.Dispatch(ctx));
}

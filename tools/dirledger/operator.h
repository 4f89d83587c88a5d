// Operator actions (`approve`, `reject`, `rollback`): appended to the log as
// OperatorAction events under the config in force, decided by the
// reconciler like any event, and the writes they ask for applied at once
// through the normal appliers, their outcomes logged.
#ifndef DIRLEDGER_TOOLS_DIRLEDGER_OPERATOR_H_
#define DIRLEDGER_TOOLS_DIRLEDGER_OPERATOR_H_

#include <string>

#include "codecs/event.h"
#include "tools/dirledger/cli_context.h"

namespace dirledger::cli {

// The OS user running the command (SUDO_USER when run through sudo).
std::string Actor();
// The command line as typed (dirledger never takes secrets as arguments).
std::string CommandLine();
void SetCommandLine(int argc, char** argv);

struct OperatorResult {
  Decision decision;
  std::uint64_t seq = 0;
  std::uint64_t applied = 0;
  std::uint64_t failed = 0;
  std::uint64_t retry_later = 0;
};

// Appends `action`, then applies the intents it produced (and any others
// still pending). REQUIRES: the log is open for writing.
Status AppendOperatorAction(CliContext& ctx, OperatorAction action,
                            OperatorResult* result);

}  // namespace dirledger::cli

#endif  // DIRLEDGER_TOOLS_DIRLEDGER_OPERATOR_H_

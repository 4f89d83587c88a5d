// Which commands go to a running service, and how (docs/operations.md,
// "Commands beside the running service").
//
// The asking side (ForwardToService, from main): a command that writes
// (`approve`, `reject`, `dismiss`, `rollback` without --dry-run,
// `mail add|set|remove`, `backup`) first tries the data dir's control
// socket; when a service answers, the command is sent there and its
// answer printed as the command's own. `restore` and `run` are refused
// while a service answers. With no service, or for the other commands,
// nothing changes: the command runs by itself.
//
// The service's side (CarryOutRequest, on the service's applier thread):
// parses the request's argv as main() would, checks that the command is
// one the service carries out, and runs it with a CliContext serving from
// the service (cli_context.h), its output captured for the reply.
//
// Thread safety: CarryOutRequest only on the thread the service lends its
// log and writers to.
#ifndef DIRLEDGER_TOOLS_DIRLEDGER_CONTROL_COMMANDS_H_
#define DIRLEDGER_TOOLS_DIRLEDGER_CONTROL_COMMANDS_H_

#include <string>

#include "tools/dirledger/cli_context.h"
#include "tools/dirledger/command_parser.h"
#include "tools/dirledger/control_socket.h"
#include "tools/dirledger/control_wire.h"

namespace dirledger::cli {

enum class ServiceRoute {
  kAlone,    // runs by itself, service or not (reads only)
  kService,  // carried out by the service when one runs
  kRefused,  // refused while a service runs
};
ServiceRoute RouteOf(const CommandParser& parsed);

// True when a service carried out (or refused) the command parsed from
// argv; `*rc` is then its exit code, its output printed. False: run it
// here.
bool ForwardToService(CliContext& ctx, const CommandParser& parsed, int argc,
                      const char* const* argv, int* rc);

// The service's config, as CarryOutRequest needs it.
struct ServiceConfig {
  const Config* config = nullptr;
  std::string config_path;
  std::string config_text;
};

// Carries out `request` for `peer` with what the service lends; never
// throws.
ControlReply CarryOutRequest(const ControlRequest& request,
                             const PeerCredentials& peer,
                             const ServiceConfig& config,
                             const ServiceHandles& service);

// The request's command words after argv[0], for the service's log:
// escaped, secrets never among them.
std::string RequestText(const ControlRequest& request);
// Who the request acts as: the actor it claims (SUDO_USER of the asking
// command), else the peer's user name (SO_PEERCRED).
std::string RequestActor(const ControlRequest& request,
                         const PeerCredentials& peer);

}  // namespace dirledger::cli

#endif  // DIRLEDGER_TOOLS_DIRLEDGER_CONTROL_COMMANDS_H_

// Whether a path is the same directory for the service as for the
// operator who asked it to write there (the control socket, `backup DIR`).
// Under systemd the shipped unit gives the service a view of its own:
// PrivateTmp=yes a /tmp and /var/tmp of its own, removed when it stops;
// ProtectSystem / ProtectHome read-only or empty trees. A backup written
// into such a place is not where the operator looks.
#ifndef DIRLEDGER_TOOLS_DIRLEDGER_ASKER_VIEW_H_
#define DIRLEDGER_TOOLS_DIRLEDGER_ASKER_VIEW_H_

#include <sys/types.h>

#include <string>

namespace dirledger::cli {

// True when `dir` (its nearest existing ancestor, as this process sees it)
// is another directory, or none, for process `asker`, seen through
// /proc/ASKER/root. False when they are the same, or when it cannot tell
// (asker <= 0, no /proc, the asker's root not readable to this process).
bool SeenElsewhere(pid_t asker, const std::string& dir);

}  // namespace dirledger::cli

#endif  // DIRLEDGER_TOOLS_DIRLEDGER_ASKER_VIEW_H_

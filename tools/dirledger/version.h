// What `dirledger --version` (and `dirledger version`) prints: the program's
// version (the CMake project version) and git revision (taken at build
// time; "unknown" when built from a tree that is not a git checkout), the
// log format and reconciler rules versions it writes, and the versions of
// the libraries it was built with (from their headers).
//
// Thread safety: a pure function.
#ifndef DIRLEDGER_TOOLS_DIRLEDGER_VERSION_H_
#define DIRLEDGER_TOOLS_DIRLEDGER_VERSION_H_

#include <string>

namespace dirledger::cli {

// Several lines, each ending in a newline; the first is
// "dirledger VERSION (git REVISION)".
std::string VersionText();

}  // namespace dirledger::cli

#endif  // DIRLEDGER_TOOLS_DIRLEDGER_VERSION_H_

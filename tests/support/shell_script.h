// WriteShellScript: a small executable /bin/sh script for a test (a hook
// program, a fake tool), written at `path` with mode 0700.
#ifndef DIRLEDGER_TESTS_SUPPORT_SHELL_SCRIPT_H_
#define DIRLEDGER_TESTS_SUPPORT_SHELL_SCRIPT_H_

#include <sys/stat.h>

#include <fstream>
#include <stdexcept>
#include <string>

namespace dirledger::test {

// Returns `path`. Throws when the script cannot be written.
inline std::string WriteShellScript(const std::string& path,
                                    const std::string& body) {
  {
    std::ofstream out(path);
    out << "#!/bin/sh\n" << body << "\n";
    if (!out.flush()) throw std::runtime_error("cannot write " + path);
  }
  if (::chmod(path.c_str(), 0700) != 0)
    throw std::runtime_error("cannot make " + path + " executable");
  return path;
}

}  // namespace dirledger::test

#endif  // DIRLEDGER_TESTS_SUPPORT_SHELL_SCRIPT_H_

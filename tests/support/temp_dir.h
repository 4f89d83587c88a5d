// TempDir: a private temporary directory for one test, removed afterwards
// (kept when DIRLEDGER_KEEP_TEMP is set, for debugging).
#ifndef DIRLEDGER_TESTS_SUPPORT_TEMP_DIR_H_
#define DIRLEDGER_TESTS_SUPPORT_TEMP_DIR_H_

#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace dirledger::test {

class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string templ =
        std::string(base && *base ? base : "/tmp") + "/dirledger-test-XXXXXX";
    if (!mkdtemp(templ.data())) throw std::runtime_error("mkdtemp failed");
    path_ = templ;
  }
  ~TempDir() {
    if (!std::getenv("DIRLEDGER_KEEP_TEMP")) {
      std::error_code ec;
      std::filesystem::remove_all(path_, ec);
    }
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const {
    return path_ + "/" + name;
  }

 private:
  std::string path_;
};

}  // namespace dirledger::test

#endif  // DIRLEDGER_TESTS_SUPPORT_TEMP_DIR_H_

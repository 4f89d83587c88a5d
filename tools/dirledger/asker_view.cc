#include "tools/dirledger/asker_view.h"

#include <sys/stat.h>

#include <cerrno>
#include <filesystem>

namespace dirledger::cli {

bool SeenElsewhere(pid_t asker, const std::string& dir) {
  namespace fs = std::filesystem;
  if (asker <= 0) return false;
  std::error_code ec;
  fs::path p = fs::absolute(dir, ec).lexically_normal();
  if (ec) return false;
  while (p.has_relative_path() && !fs::exists(p, ec)) p = p.parent_path();
  const fs::path theirs =
      fs::path("/proc/" + std::to_string(asker) + "/root") / p.relative_path();
  struct stat mine_st, theirs_st;
  if (::stat(p.c_str(), &mine_st) != 0) return false;
  if (::stat(theirs.c_str(), &theirs_st) != 0) return errno == ENOENT;
  return mine_st.st_dev != theirs_st.st_dev ||
         mine_st.st_ino != theirs_st.st_ino;
}

}  // namespace dirledger::cli

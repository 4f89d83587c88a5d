#include "storage/durable_fs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace dirledger {
namespace fs = std::filesystem;
namespace {

Status SyncPath(const std::string& path, bool dir) {
  const int fd = ::open(path.c_str(),
                        (dir ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0)
    return Status::IOError("cannot open " + path +
                           " to sync it: " + std::strerror(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0)
    return Status::IOError("cannot sync " + path + ": " + std::strerror(err));
  return Status::Ok();
}

}  // namespace

Status SyncDir(const std::string& dir) { return SyncPath(dir, true); }

Status WriteFileDurably(const std::string& path, const std::string& text,
                        const std::function<void()>& halfway) {
  const std::string tmp = path + ".tmp";
  const int fd =
      ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    return Status::IOError("cannot create " + tmp + ": " +
                           std::strerror(errno));
  Status s;
  const std::size_t half = text.size() / 2;
  std::size_t done = 0;
  while (s.ok() && done < text.size()) {
    if (done == half && halfway) halfway();
    const std::size_t end = done < half ? half : text.size();
    const ssize_t n = ::write(fd, text.data() + done, end - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      s = Status::IOError("cannot write " + tmp + ": " + std::strerror(errno));
    else
      done += static_cast<std::size_t>(n);
  }
  if (s.ok() && ::fsync(fd) != 0)
    s = Status::IOError("cannot sync " + tmp + ": " + std::strerror(errno));
  ::close(fd);
  if (s.ok()) s = RenameDurably(tmp, path);
  if (!s.ok()) ::unlink(tmp.c_str());
  return s;
}

Status SyncTree(const std::string& dir) {
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const bool is_dir = it->is_directory(ec);
    DIRLEDGER_RETURN_IF_ERROR(SyncPath(it->path().string(), is_dir));
  }
  if (ec) return Status::IOError("cannot list " + dir + ": " + ec.message());
  return SyncDir(dir);
}

Status RenameDurably(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0)
    return Status::IOError("cannot rename " + from + " to " + to + ": " +
                           std::strerror(errno));
  std::string parent = fs::path(to).parent_path().string();
  return SyncDir(parent.empty() ? "." : parent);
}

Status CopyTreeDurably(const std::string& from, const std::string& to) {
  std::error_code ec;
  fs::copy(from, to, fs::copy_options::recursive, ec);
  if (ec)
    return Status::IOError("cannot copy " + from + " to " + to + ": " +
                           ec.message());
  ::chmod(to.c_str(), 0700);
  return SyncTree(to);
}

}  // namespace dirledger

#include "engine/secrets.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>

namespace dirledger {
namespace {

constexpr const char* kEmptyRefused =
    " (an empty password is refused: with a bind DN it is an "
    "unauthenticated bind)";

// Warns once per path (per process) that `path` is readable by others.
void WarnIfShared(const std::string& path, mode_t mode, std::string_view what) {
  if ((mode & (S_IRWXG | S_IRWXO)) == 0) return;
  static std::mutex mu;
  static std::set<std::string> warned;
  {
    std::lock_guard<std::mutex> l(mu);
    if (!warned.insert(path).second) return;
  }
  char octal[8];
  std::snprintf(octal, sizeof octal, "%03o",
                static_cast<unsigned>(mode & 0777));
  spdlog::warn(
      "{}: the password file {} can be read by {} (mode {}); make it "
      "readable by its owner only: chmod 600 {}",
      what, path,
      (mode & S_IRWXO) ? (mode & S_IRWXG) ? "its group and others" : "others"
                       : "its group",
      octal, path);
}

// The bytes of the password file `path`; errors name the file and cause.
Result<std::string> ReadPasswordFile(const std::string& path,
                                     std::string_view what) {
  const std::string where =
      std::string(what) + ": password file " + path + ": ";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::InvalidArgument(where + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return Status::InvalidArgument(where + std::strerror(err));
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    return Status::InvalidArgument(
        std::string(what) + ": password file " + path +
        " is a directory; give the file that holds the password");
  }
  WarnIfShared(path, st.st_mode, what);
  std::string value;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return Status::InvalidArgument(where + std::strerror(err));
    }
    value.append(buf, static_cast<std::size_t>(n));
  }
  volatile char* p = buf;  // no copy of the secret left on the stack
  for (std::size_t i = 0; i < sizeof buf; ++i) p[i] = 0;
  ::close(fd);
  return value;
}

}  // namespace

Secret::~Secret() {
  volatile char* p = value_.data();
  for (size_t i = 0; i < value_.size(); ++i) p[i] = 0;
}

Result<Secret> ReadSecret(const Config& config, std::string_view file,
                          std::string_view env, std::string_view what) {
  if (!env.empty()) {
    const char* v = std::getenv(std::string(env).c_str());
    if (!v)
      return Status::InvalidArgument(std::string(what) +
                                     ": environment variable " +
                                     std::string(env) + " is not set");
    if (!*v)
      return Status::InvalidArgument(
          std::string(what) + ": environment variable " + std::string(env) +
          " is empty" + std::string(kEmptyRefused));
    return Secret(v);
  }
  if (file.empty()) return Secret();
  const std::string path = config.Resolve(file);
  Result<std::string> text = ReadPasswordFile(path, what);
  if (!text.ok()) return text.status();
  Secret raw(std::move(text).value());
  std::string value = raw.reveal();
  if (!value.empty() && value.back() == '\n') value.pop_back();
  if (!value.empty() && value.back() == '\r') value.pop_back();
  if (value.empty())
    return Status::InvalidArgument(std::string(what) + ": password file " +
                                   path + " is empty" +
                                   std::string(kEmptyRefused));
  return Secret(std::move(value));
}

Status CheckSecrets(const Config& config) {
  for (const ConnectorConfig& c : config.connectors) {
    auto s = ReadSecret(config, c.bind_password_file, c.bind_password_env,
                        "connector \"" + c.name + "\" bind password");
    if (!s.ok()) return s.status();
  }
  if (config.mail.kind == MailKind::kAxigen) {
    auto s = ReadSecret(config, config.mail.password_file,
                        config.mail.password_env, "[mail] Axigen password");
    if (!s.ok()) return s.status();
  }
  return Status::Ok();
}

}  // namespace dirledger

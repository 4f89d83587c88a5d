#include "engine/secrets.h"

#include <sys/stat.h>

#include <cstdlib>
#include <cstring>

namespace dirledger {

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
    return Secret(v);
  }
  if (file.empty()) return Secret();
  const std::string path = config.Resolve(file);
  Result<std::string> text = LoadFileFromDisk(path);
  if (!text.ok())
    return Status::InvalidArgument(std::string(what) + ": cannot read " + path);
  std::string value = std::move(text).value();
  if (!value.empty() && value.back() == '\n') value.pop_back();
  if (!value.empty() && value.back() == '\r') value.pop_back();
  return Secret(std::move(value));
}

}  // namespace dirledger

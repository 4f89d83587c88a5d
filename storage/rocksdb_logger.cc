#include "storage/rocksdb_logger.h"

#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <string_view>

namespace dirledger {
namespace {

class StderrLogger : public rocksdb::Logger {
 public:
  explicit StderrLogger(std::string name)
      : rocksdb::Logger(rocksdb::InfoLogLevel::ERROR_LEVEL),
        name_(std::move(name)) {}

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    char text[1024];
    const int n = std::vsnprintf(text, sizeof text, format, ap);
    if (n < 0) return;
    // The first line only: some errors append a dump of internal records.
    std::string_view msg(
        text,
        std::min<std::size_t>(static_cast<std::size_t>(n), sizeof text - 1));
    msg = msg.substr(0, msg.find('\n'));
    std::string line = "dirledger: rocksdb (" + name_ + "): ";
    line.append(msg);
    line += '\n';
    (void)!::write(STDERR_FILENO, line.data(), line.size());
  }

 private:
  std::string name_;
};

}  // namespace

std::shared_ptr<rocksdb::Logger> StderrRocksLogger(std::string name) {
  return std::make_shared<StderrLogger>(std::move(name));
}

}  // namespace dirledger

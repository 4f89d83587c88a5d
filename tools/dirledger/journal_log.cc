#include "tools/dirledger/journal_log.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace dirledger::cli {
namespace {

// %* in a pattern: the syslog priority of the line's level, as "<N>".
class PriorityFlag : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    const char* p = "<6>";
    switch (msg.level) {
      case spdlog::level::critical:
        p = "<2>";
        break;
      case spdlog::level::err:
        p = "<3>";
        break;
      case spdlog::level::warn:
        p = "<4>";
        break;
      case spdlog::level::info:
        p = "<6>";
        break;
      case spdlog::level::debug:
      case spdlog::level::trace:
        p = "<7>";
        break;
      default:
        break;
    }
    dest.append(p, p + 3);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<PriorityFlag>();
  }
};

}  // namespace

bool IsJournalStream(int fd) {
  const char* stream = std::getenv("JOURNAL_STREAM");
  if (!stream || !*stream) return false;
  unsigned long long dev = 0, ino = 0;
  char extra = 0;
  if (std::sscanf(stream, "%llu:%llu%c", &dev, &ino, &extra) != 2) return false;
  struct stat st {};
  if (fstat(fd, &st) != 0) return false;
  return static_cast<unsigned long long>(st.st_dev) == dev &&
         static_cast<unsigned long long>(st.st_ino) == ino;
}

std::unique_ptr<spdlog::formatter> MakeLogFormatter(bool journal) {
  if (journal) {
    auto f = std::make_unique<spdlog::pattern_formatter>(
        spdlog::pattern_time_type::utc);
    f->add_flag<PriorityFlag>('*').set_pattern("%*%v");
    return f;
  }
  return std::make_unique<spdlog::pattern_formatter>(
      "%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
}

void SetUpLogging() {
  spdlog::set_default_logger(spdlog::stderr_color_mt("dirledger"));
  spdlog::set_formatter(MakeLogFormatter(IsJournalStream(STDERR_FILENO)));
}

}  // namespace dirledger::cli

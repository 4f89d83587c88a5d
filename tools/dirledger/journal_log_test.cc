#include "tools/dirledger/journal_log.h"

#include <fcntl.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <regex>
#include <sstream>
#include <string>

#include "tests/support/temp_dir.h"

namespace dirledger::cli {
namespace {

// Logs one line at each level through MakeLogFormatter(journal).
std::string Lines(bool journal) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_st>(out);
  spdlog::logger logger("journal-test", sink);
  logger.set_level(spdlog::level::trace);
  logger.set_formatter(MakeLogFormatter(journal));
  logger.error("write failed");
  logger.warn("reconnecting");
  logger.info("in sync");
  logger.debug("detail");
  return out.str();
}

std::string StreamOf(int fd) {
  struct stat st {};
  REQUIRE(fstat(fd, &st) == 0);
  return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
}

TEST_CASE("a stream JOURNAL_STREAM names is the journal", "[journal]") {
  dirledger::test::TempDir dir;
  const int fd = open((dir / "stderr").c_str(), O_CREAT | O_WRONLY, 0600);
  REQUIRE(fd >= 0);
  int pipe_fds[2];
  REQUIRE(pipe(pipe_fds) == 0);
  unsetenv("JOURNAL_STREAM");
  CHECK_FALSE(IsJournalStream(fd));
  setenv("JOURNAL_STREAM", StreamOf(fd).c_str(), 1);
  CHECK(IsJournalStream(fd));
  CHECK_FALSE(IsJournalStream(pipe_fds[1]));  // another stream
  setenv("JOURNAL_STREAM", StreamOf(pipe_fds[1]).c_str(), 1);
  CHECK(IsJournalStream(pipe_fds[1]));
  CHECK_FALSE(IsJournalStream(fd));
  setenv("JOURNAL_STREAM", (StreamOf(fd) + "x").c_str(), 1);
  CHECK_FALSE(IsJournalStream(fd));
  unsetenv("JOURNAL_STREAM");
  close(fd);
  close(pipe_fds[0]);
  close(pipe_fds[1]);
}

TEST_CASE("journal lines carry syslog priorities and no time", "[journal]") {
  CHECK(Lines(true) ==
        "<3>write failed\n<4>reconnecting\n<6>in sync\n<7>detail\n");
}

TEST_CASE("other lines carry their time and level", "[journal]") {
  const std::string text = Lines(false);
  const std::regex line(
      R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z error write failed\n)"
      R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z warning reconnecting\n)"
      R"(.*Z info in sync\n.*Z debug detail\n)");
  CHECK(std::regex_match(text, line));
  CHECK(text.find('<') == std::string::npos);
}

}  // namespace
}  // namespace dirledger::cli

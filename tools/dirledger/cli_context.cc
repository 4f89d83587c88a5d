#include "tools/dirledger/cli_context.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <streambuf>
#include <thread>

#include "engine/backup/restore_journal.h"
#include "tools/dirledger/operator.h"

namespace dirledger::cli {

CliContext::CliContext(std::string config_path)
    : config_path_(std::move(config_path)),
      out_(&std::cout),
      err_(&std::cerr) {}

void CliContext::ServeFrom(const Config& config, const std::string& config_text,
                           const ServiceHandles* service) {
  config_ = std::make_unique<Config>(config);
  config_text_ = config_text;
  config_failed_ = false;
  service_ = service;
}

std::string CliContext::actor() const { return actor_ ? *actor_ : Actor(); }

std::string CliContext::command_line() const {
  return command_line_ ? *command_line_ : CommandLine();
}

const Config* CliContext::config() {
  if (config_) return config_.get();
  if (config_failed_) return nullptr;
  Result<std::string> text = LoadFileFromDisk(config_path_);
  if (!text.ok()) {
    config_failed_ = true;
    err() << "dirledger: config file " << config_path_ << ": "
          << text.status().message()
          << " (give the config file with --config FILE)\n";
    return nullptr;
  }
  config_text_ = *text;
  Result<Config> cfg = ParseConfig(config_text_, config_path_);
  if (!cfg.ok()) {
    config_failed_ = true;
    err() << "dirledger: " << cfg.status().message() << "\n";
    return nullptr;
  }
  config_ = std::make_unique<Config>(std::move(cfg).value());
  spdlog::level::level_enum level = spdlog::level::from_str(config_->log_level);
  if (quiet_ && level < spdlog::level::warn) level = spdlog::level::warn;
  spdlog::set_level(level);
  return config_.get();
}

std::string CliContext::data_dir() {
  const Config* c = config();
  return c ? c->Resolve(c->data_dir) : std::string();
}

std::string CliContext::log_dir() {
  const std::string d = data_dir();
  return d.empty() ? d : d + "/log";
}

int CliContext::FinishInterruptedRestore() {
  const std::string data = data_dir();
  if (data.empty()) return kExitUsage;
  std::string note;
  Status s = RecoverInterruptedRestore(data, &note);
  if (!s.ok()) return Fail(s.WithContext("data dir " + data));
  if (!note.empty()) err() << "dirledger: " << data << ": " << note << "\n";
  return kExitOk;
}

bool CliContext::LockDataDir() {
  if (data_locked_ || service_) return true;  // the service holds it
  const std::string data = data_dir();
  if (data.empty()) return false;
  std::error_code ec;
  if (!std::filesystem::exists(data, ec)) {
    std::filesystem::create_directories(data, ec);
    ::chmod(data.c_str(), 0700);
  }
  if (Status s = data_lock_.TryAcquire(data, /*exclusive=*/false); !s.ok()) {
    Fail(s);
    return false;
  }
  data_locked_ = true;
  return true;
}

EventLog* CliContext::OpenLog(bool read_only, bool long_running) {
  return OpenLogBeside(read_only, long_running, {});
}

EventLog* CliContext::OpenLogWhile(bool long_running,
                                   const std::function<void()>& beside) {
  return OpenLogBeside(/*read_only=*/false, long_running, beside);
}

EventLog* CliContext::OpenLogBeside(bool read_only, bool long_running,
                                    const std::function<void()>& beside) {
  if (service_ || log_) {
    if (beside) beside();
    return service_ ? service_->log : log_.get();
  }
  const Config* c = config();
  if (!c) return nullptr;
  if (!read_only && !LockDataDir()) return nullptr;
  LogOptions o;
  o.read_only = read_only;
  o.sync = c->fsync;
  o.settle_compactions_at_close = !long_running;
  std::optional<Result<std::unique_ptr<EventLog>>> log;
  if (beside) {
    std::thread opener([&] { log.emplace(EventLog::Open(log_dir(), o)); });
    beside();
    opener.join();
  } else {
    log.emplace(EventLog::Open(log_dir(), o));
  }
  if (!log->ok()) {
    Fail(log->status());
    return nullptr;
  }
  log_ = std::move(*log).value();
  return log_.get();
}

int CliContext::Fail(const Status& s) {
  err() << "dirledger: " << s.message() << "\n";
  switch (s.code()) {
    case StatusCode::kInvalidArgument:
      return kExitUsage;
    case StatusCode::kHeld:
      return kExitHeld;
    default:
      return kExitFailure;
  }
}

void CliContext::JsonLine(const nlohmann::json& j) { JsonLine(std::cout, j); }

void CliContext::JsonLine(std::ostream& out, const nlohmann::json& j) {
  out << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
      << "\n";
}

namespace {

// Standard output for std::cout: a buffer written with write(2), which
// keeps the cause of the first failed write (stdio's error flag does not:
// errno is long gone when the failure is noticed). After a failure nothing
// more is written.
class CheckedStdout : public std::streambuf {
 public:
  CheckedStdout() { setp(buf_, buf_ + sizeof buf_); }
  int error() const { return error_; }

 protected:
  int overflow(int c) override {
    if (Drain() != 0) return traits_type::eof();
    if (c != traits_type::eof()) {
      *pptr() = static_cast<char>(c);
      pbump(1);
    }
    return traits_type::not_eof(c);
  }
  int sync() override { return Drain(); }

 private:
  int Drain() {
    const char* p = pbase();
    std::size_t n = static_cast<std::size_t>(pptr() - pbase());
    while (n > 0 && error_ == 0) {
      const ssize_t w = ::write(STDOUT_FILENO, p, n);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        error_ = w < 0 ? errno : EIO;
        break;
      }
      p += w;
      n -= static_cast<std::size_t>(w);
    }
    setp(buf_, buf_ + sizeof buf_);
    return error_ == 0 ? 0 : -1;
  }

  char buf_[64 << 10];
  int error_ = 0;
};

CheckedStdout* g_stdout = nullptr;
bool g_stream_ended = false;  // EndStreamOnClosedOutput

}  // namespace

void CliContext::UseCheckedStdout() {
  // Never destroyed: std::cout is flushed once more at exit.
  g_stdout = new CheckedStdout();
  std::cout.rdbuf(g_stdout);
}

bool CliContext::OutputFailed() {
  return !std::cout.good() || (g_stdout && g_stdout->error() != 0);
}

bool CliContext::EndStreamOnClosedOutput() {
  g_stream_ended = g_stdout && g_stdout->error() == EPIPE;
  return g_stream_ended;
}

int CliContext::FinishOutput(int rc) {
  std::cout.flush();
  int cause = g_stdout ? g_stdout->error() : 0;
  bool failed = cause != 0 || !std::cout.good();
  // Anything written through stdio, then the descriptor itself (a file on
  // NFS reports some write errors only on close).
  errno = 0;
  if (std::fflush(stdout) != 0 && !failed) {
    failed = true;
    cause = errno;
  }
  if (::close(STDOUT_FILENO) != 0 && errno != EBADF && !failed) {
    failed = true;
    cause = errno;
  }
  if (!failed || (g_stream_ended && cause == EPIPE)) return rc;
  std::cerr << "dirledger: writing to standard output: "
            << (cause ? std::strerror(cause) : "the output stream failed")
            << "; the output is incomplete\n";
  return rc == kExitOk ? kExitFailure : rc;
}

std::string FormatTime(std::int64_t time_us) {
  const time_t secs = static_cast<time_t>(time_us / 1000000);
  const long micros = static_cast<long>(time_us % 1000000);
  std::tm tm;
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, micros);
  return buf;
}

Status ParseSeqOrTime(const std::string& arg, std::uint64_t* seq,
                      std::int64_t* time_us) {
  *seq = 0;
  *time_us = 0;
  if (!arg.empty() &&
      arg.find_first_not_of("0123456789") == std::string::npos) {
    *seq = std::stoull(arg);
    return Status::Ok();
  }
  int Y, M, D, h = 0, m = 0;
  double sec = 0;
  char tail[16] = {0};
  int n = std::sscanf(arg.c_str(), "%d-%d-%d%*[T ]%d:%d:%lf%15s", &Y, &M, &D,
                      &h, &m, &sec, tail);
  if (n < 3 || (n > 3 && n < 5))
    return Status::InvalidArgument(
        "\"" + arg +
        "\" is neither a sequence number nor a time such as "
        "2026-11-21 or 2026-11-21T10:00:00Z");
  std::tm tm{};
  tm.tm_year = Y - 1900;
  tm.tm_mon = M - 1;
  tm.tm_mday = D;
  tm.tm_hour = h;
  tm.tm_min = m;
  tm.tm_sec = 0;
  std::int64_t t = static_cast<std::int64_t>(timegm(&tm));
  std::int64_t us = t * 1000000 + static_cast<std::int64_t>(sec * 1e6);
  const std::string z(tail);
  if (!z.empty() && z != "Z") {
    int oh = 0, om = 0;
    char sign = z[0];
    if ((sign != '+' && sign != '-') ||
        std::sscanf(z.c_str() + 1, "%d:%d", &oh, &om) < 1)
      return Status::InvalidArgument("\"" + arg + "\": bad time zone \"" + z +
                                     "\" (use Z or +HH:MM)");
    const std::int64_t off = (oh * 3600 + om * 60) * 1000000LL;
    us += sign == '+' ? -off : off;
  }
  if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec >= 61)
    return Status::InvalidArgument("\"" + arg + "\" is not a valid time");
  *time_us = us;
  return Status::Ok();
}

Result<std::uint64_t> SeqAtTime(const EventLog& log, std::int64_t time_us,
                                bool first_after) {
  // Times ascend with sequences (one writer, wall clock at append); a
  // binary search over ReadEvent keeps this fast on long logs.
  std::uint64_t lo = 1, hi = log.last_seq();
  if (hi == 0) return std::uint64_t{0};
  Event e;
  auto time_of = [&](std::uint64_t seq) -> Result<std::int64_t> {
    Status s = log.ReadEvent(seq, &e);
    if (!s.ok()) return s;
    return e.time_us;
  };
  // First seq with time >= time_us.
  std::uint64_t answer = hi + 1;
  while (lo <= hi) {
    const std::uint64_t mid = lo + (hi - lo) / 2;
    auto t = time_of(mid);
    if (!t.ok()) return t.status();
    if (*t >= time_us) {
      answer = mid;
      if (mid == 1) break;
      hi = mid - 1;
    } else {
      lo = mid + 1;
    }
  }
  if (first_after) return answer;
  // Last seq with time <= time_us.
  if (answer <= log.last_seq()) {
    auto t = time_of(answer);
    if (!t.ok()) return t.status();
    if (*t == time_us) return answer;
  }
  return answer - 1;
}

}  // namespace dirledger::cli

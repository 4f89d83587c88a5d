#include "tools/dirledger/progress.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <ctime>
#include <iostream>

#include "tools/dirledger/cli_context.h"

namespace dirledger::cli {
namespace {

std::string Rate(std::uint64_t n, double secs) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.0f/s", secs > 0 ? n / secs : 0.0);
  return buf;
}

}  // namespace

Progress::Progress(EventLog* log, bool terminal, bool quiet)
    : log_(log), terminal_(terminal), quiet_(quiet) {}

void Progress::Line(const std::string& text) {
  if (terminal_) std::cerr << "\r\033[K" << std::flush;
  spdlog::info("{}", text);
}

void Progress::OnPassStart(const std::string& source) {
  std::lock_guard<std::mutex> l(mu_);
  PerSource& p = sources_[source];
  p.start = p.last_print = Clock::now();
  p.drawn = false;
}

void Progress::OnAppend(const std::string& source, const AppendResult&,
                        const SourceStats& totals) {
  if (quiet_) return;
  std::lock_guard<std::mutex> l(mu_);
  PerSource& p = sources_[source];
  const auto now = Clock::now();
  const auto every = terminal_ ? std::chrono::milliseconds(100)
                               : std::chrono::milliseconds(5000);
  if (now - p.last_print < every) return;
  p.last_print = now;
  const double secs = std::chrono::duration<double>(now - p.start).count();
  const std::string text = source + ": " + std::to_string(totals.events) +
                           " events, " + std::to_string(totals.changes) +
                           " changes (" + Rate(totals.events, secs) + ")";
  if (terminal_) {
    std::cerr << "\r\033[K" << text << std::flush;
    p.drawn = true;
  } else {
    spdlog::info("{}", text);
  }
}

void Progress::NoteContact(const std::string& source, std::string_view error) {
  if (!log_) return;
  if (Status s = log_->NoteSourceContact(source, error); !s.ok())
    spdlog::warn("the status of {} was not stored: {}", source, s.message());
}

void Progress::OnPassEnd(const std::string& source, const Status& s,
                         const SourceStats& totals) {
  NoteContact(source, s.ok() ? "" : s.message());
  std::lock_guard<std::mutex> l(mu_);
  PerSource& p = sources_[source];
  const double secs =
      std::chrono::duration<double>(Clock::now() - p.start).count();
  if (!s.ok()) return;  // OnError reports it
  if (quiet_) return;
  char secs_text[32];
  std::snprintf(secs_text, sizeof secs_text, "%.2f", secs);
  std::string text = source + ": " + std::to_string(totals.events) +
                     " events, " + std::to_string(totals.changes) +
                     " changes, " + std::to_string(totals.deletes) +
                     " deletes in " + secs_text + " s";
  if (totals.held)
    text += "; " + std::to_string(totals.held) +
            " deletes HELD (see `dirledger status`)";
  Line(text);
}

void Progress::OnApplied(const Intent& intent, const ApplyResult& r) {
  std::lock_guard<std::mutex> l(mu_);
  if (r.status.ok()) {
    ++applied_;
    return;
  }
  ++failed_;
  if (failed_ <= 20) {
    if (terminal_) std::cerr << "\r\033[K" << std::flush;
    spdlog::error("write failed: {} {} on {}: {}", IntentOpName(intent.op),
                  intent.dn.empty() ? intent.target_id : intent.dn,
                  SideName(intent.target), r.status.message());
  }
}

void Progress::OnError(const std::string& what, const Status& s) {
  NoteContact(what, s.message());
  std::lock_guard<std::mutex> l(mu_);
  if (terminal_) std::cerr << "\r\033[K" << std::flush;
  spdlog::error("{}", s.message());
}

}  // namespace dirledger::cli

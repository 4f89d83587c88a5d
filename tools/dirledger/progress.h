// Progress of `dirledger run`: on a terminal, one line per source that
// redraws with counts and rate (at most ten times a second); otherwise plain
// log lines (every 5 seconds during a long refresh, and at the end of each
// pass), so a journal stays readable.
#ifndef DIRLEDGER_TOOLS_DIRLEDGER_PROGRESS_H_
#define DIRLEDGER_TOOLS_DIRLEDGER_PROGRESS_H_

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "engine/run_loop.h"
#include "storage/event_log.h"

namespace dirledger::cli {

class Progress : public RunObserver {
 public:
  // `log` receives each source's contact or error (for `status`); may be
  // null. `quiet` prints nothing but errors.
  Progress(EventLog* log, bool terminal, bool quiet);

  void OnPassStart(const std::string& source) override;
  void OnAppend(const std::string& source, const AppendResult& r,
                const SourceStats& totals) override;
  void OnPassEnd(const std::string& source, const Status& s,
                 const SourceStats& totals) override;
  void OnApplied(const Intent& intent, const ApplyResult& r) override;
  void OnError(const std::string& what, const Status& s) override;

  std::uint64_t applied() const { return applied_; }
  std::uint64_t failed() const { return failed_; }

 private:
  using Clock = std::chrono::steady_clock;
  struct PerSource {
    Clock::time_point start;
    Clock::time_point last_print;
    bool drawn = false;
  };
  void Line(const std::string& text);
  // Stores a source's contact or error for `dirledger status`; a failure to
  // store it is logged (the sync itself goes on).
  void NoteContact(const std::string& source, std::string_view error);

  EventLog* log_;
  bool terminal_;
  bool quiet_;
  std::mutex mu_;
  std::map<std::string, PerSource> sources_;
  std::uint64_t applied_ = 0;
  std::uint64_t failed_ = 0;
};

}  // namespace dirledger::cli

#endif  // DIRLEDGER_TOOLS_DIRLEDGER_PROGRESS_H_

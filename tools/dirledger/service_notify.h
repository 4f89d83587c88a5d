// ServiceNotifier: tells the service manager how `dirledger run` is doing,
// over systemd's notify protocol (sd_notify, for Type=notify units):
// READY=1 once every source has finished its first refresh, WATCHDOG=1 from
// the run loop's heartbeat (at half the unit's WatchdogSec), STATUS= with
// what the sync is doing, STOPPING=1 on the way out. Without NOTIFY_SOCKET
// in the environment (not started by systemd) it sends nothing.
//
// NotifyingObserver forwards every RunObserver call to another observer
// (the progress display) and notifies on the way.
//
// Thread safety: RunObserver methods are called from the source threads and
// the applier thread at once; both classes are safe for that.
#ifndef DIRLEDGER_TOOLS_DIRLEDGER_SERVICE_NOTIFY_H_
#define DIRLEDGER_TOOLS_DIRLEDGER_SERVICE_NOTIFY_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include "engine/run_loop.h"

namespace dirledger::cli {

class ServiceNotifier {
 public:
  ServiceNotifier();

  // Whether a service manager listens (NOTIFY_SOCKET is set).
  bool enabled() const { return enabled_; }
  // The watchdog interval the unit asks for, zero when none.
  std::chrono::microseconds watchdog() const { return watchdog_; }

  void Ready(std::string_view status);
  void Status(std::string_view status);
  // Sends WATCHDOG=1 unless one was sent less than half the interval ago.
  void Watchdog();
  void Stopping(std::string_view status);

 private:
  void Send(const std::string& state);

  bool enabled_ = false;
  std::chrono::microseconds watchdog_{0};
  std::mutex mu_;
  std::chrono::steady_clock::time_point last_watchdog_;
};

class NotifyingObserver : public RunObserver {
 public:
  // `sources`: how many sources run; `inner` gets every call.
  NotifyingObserver(ServiceNotifier* notifier, RunObserver* inner,
                    std::size_t sources);

  void OnPassStart(const std::string& source) override;
  void OnAppend(const std::string& source, const AppendResult& r,
                const SourceStats& totals) override;
  void OnPassEnd(const std::string& source, const Status& s,
                 const SourceStats& totals) override;
  void OnApplied(const Intent& intent, const ApplyResult& r) override;
  void OnError(const std::string& what, const Status& s) override;
  void OnCaughtUp(const std::string& source) override;
  void OnReady() override;
  void OnHeartbeat() override;

 private:
  std::string StatusLine();

  ServiceNotifier* notifier_;
  RunObserver* inner_;
  std::size_t sources_;
  std::mutex mu_;
  std::set<std::string> caught_up_;
  bool ready_ = false;
  std::atomic<std::uint64_t> events_{0};
  std::atomic<std::uint64_t> applied_{0};
  std::atomic<std::uint64_t> failed_{0};
  std::atomic<std::uint64_t> held_{0};
  std::string last_status_;
  std::chrono::steady_clock::time_point last_status_time_;
};

}  // namespace dirledger::cli

#endif  // DIRLEDGER_TOOLS_DIRLEDGER_SERVICE_NOTIFY_H_

#include "tools/dirledger/service_notify.h"

#include <systemd/sd-daemon.h>

#include <cstdlib>

namespace dirledger::cli {

ServiceNotifier::ServiceNotifier() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  enabled_ = socket != nullptr && *socket != '\0';
  std::uint64_t usec = 0;
  // > 0 when WATCHDOG_USEC is set (and WATCHDOG_PID, if set, is ours).
  if (enabled_ && sd_watchdog_enabled(/*unset_environment=*/0, &usec) > 0)
    watchdog_ = std::chrono::microseconds(usec);
}

void ServiceNotifier::Send(const std::string& state) {
  if (!enabled_) return;
  // A lost notification is not an error of the sync: systemd acts on its
  // absence (start timeout, watchdog) and says so in the journal.
  (void)sd_notify(/*unset_environment=*/0, state.c_str());
}

void ServiceNotifier::Ready(std::string_view status) {
  Send("READY=1\nSTATUS=" + std::string(status));
}

void ServiceNotifier::Status(std::string_view status) {
  Send("STATUS=" + std::string(status));
}

void ServiceNotifier::Watchdog() {
  if (!enabled_ || watchdog_.count() == 0) return;
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> l(mu_);
    if (last_watchdog_.time_since_epoch().count() != 0 &&
        now - last_watchdog_ < watchdog_ / 2)
      return;
    last_watchdog_ = now;
  }
  Send("WATCHDOG=1");
}

void ServiceNotifier::Stopping(std::string_view status) {
  Send("STOPPING=1\nSTATUS=" + std::string(status));
}

NotifyingObserver::NotifyingObserver(ServiceNotifier* notifier,
                                     RunObserver* inner, std::size_t sources)
    : notifier_(notifier), inner_(inner), sources_(sources) {
  notifier_->Status("first refresh of " + std::to_string(sources_) +
                    " sources");
}

std::string NotifyingObserver::StatusLine() {
  std::string out = ready_ ? "in sync" : "first refresh";
  if (!ready_)
    out += " (" + std::to_string(caught_up_.size()) + " of " +
           std::to_string(sources_) + " sources done)";
  out += "; " + std::to_string(events_.load()) + " events, " +
         std::to_string(applied_.load()) + " writes applied, " +
         std::to_string(failed_.load()) + " failed, " +
         std::to_string(held_.load()) + " deletes held";
  return out;
}

void NotifyingObserver::OnPassStart(const std::string& source) {
  inner_->OnPassStart(source);
}

void NotifyingObserver::OnAppend(const std::string& source,
                                 const AppendResult& r,
                                 const SourceStats& totals) {
  if (r.last_seq >= r.first_seq && r.first_seq != 0)
    events_ += r.last_seq - r.first_seq + 1;
  inner_->OnAppend(source, r, totals);
}

void NotifyingObserver::OnPassEnd(const std::string& source, const Status& s,
                                  const SourceStats& totals) {
  held_ += totals.held;
  inner_->OnPassEnd(source, s, totals);
}

void NotifyingObserver::OnApplied(const Intent& intent, const ApplyResult& r) {
  ++(r.status.ok() ? applied_ : failed_);
  inner_->OnApplied(intent, r);
}

void NotifyingObserver::OnError(const std::string& what, const Status& s) {
  inner_->OnError(what, s);
}

void NotifyingObserver::OnCaughtUp(const std::string& source) {
  {
    std::lock_guard<std::mutex> l(mu_);
    caught_up_.insert(source);
  }
  inner_->OnCaughtUp(source);
}

void NotifyingObserver::OnReady() {
  std::string line;
  {
    std::lock_guard<std::mutex> l(mu_);
    ready_ = true;
    line = last_status_ = StatusLine();
  }
  notifier_->Ready(line);
  inner_->OnReady();
}

void NotifyingObserver::OnHeartbeat() {
  notifier_->Watchdog();
  std::string line;
  {
    // STATUS= at most once a second: heartbeats come after every write.
    std::lock_guard<std::mutex> l(mu_);
    const auto now = std::chrono::steady_clock::now();
    if (now - last_status_time_ >= std::chrono::seconds(1)) {
      line = StatusLine();
      if (line == last_status_) {
        line.clear();
      } else {
        last_status_ = line;
        last_status_time_ = now;
      }
    }
  }
  if (!line.empty()) notifier_->Status(line);
  inner_->OnHeartbeat();
}

}  // namespace dirledger::cli

// FanOutObserver: one RunObserver that forwards every call to several, in
// the order given, so the run loop (which takes one observer) serves the
// progress display, the service manager's notifications, the metrics and
// the alert hooks at once.
//
// Thread safety: as safe as the observers it forwards to (the run loop calls
// from its source threads and its applier thread at once).
#ifndef DIRLEDGER_ENGINE_OBSERVER_FANOUT_H_
#define DIRLEDGER_ENGINE_OBSERVER_FANOUT_H_

#include <string>
#include <vector>

#include "engine/run_loop.h"

namespace dirledger {

class FanOutObserver : public RunObserver {
 public:
  // REQUIRES: every observer (null ones are skipped) outlives this one.
  explicit FanOutObserver(std::vector<RunObserver*> observers);

  void OnPassStart(const std::string& source) override;
  void OnAppend(const std::string& source, const AppendResult& r,
                const SourceStats& totals) override;
  void OnPassEnd(const std::string& source, const Status& s,
                 const SourceStats& totals) override;
  void OnApplied(const Intent& intent, const ApplyResult& r) override;
  void OnError(const std::string& what, const Status& s) override;
  void OnCaughtUp(const std::string& source) override;
  void OnOpened(const OpenedRecord& record) override;
  void OnReady() override;
  void OnSourceContact(const std::string& source) override;
  void OnSourceUnavailable(const std::string& source,
                           const Status& why) override;
  void OnHeartbeat() override;

 private:
  std::vector<RunObserver*> observers_;
};

}  // namespace dirledger

#endif  // DIRLEDGER_ENGINE_OBSERVER_FANOUT_H_

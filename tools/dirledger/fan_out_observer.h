// FanOutObserver: one RunObserver that hands every call to several others,
// in the order given, so the run loop (which takes one observer) can feed
// the systemd notifier, the alert hooks and any other observer at once.
//
// Thread safety: as safe as the observers it calls (RunObserver methods
// come from the source threads and the applier thread at once).
#ifndef DIRLEDGER_TOOLS_DIRLEDGER_FAN_OUT_OBSERVER_H_
#define DIRLEDGER_TOOLS_DIRLEDGER_FAN_OUT_OBSERVER_H_

#include <string>
#include <vector>

#include "engine/run_loop.h"

namespace dirledger::cli {

class FanOutObserver : public RunObserver {
 public:
  // The observers must outlive this one; null entries are skipped.
  explicit FanOutObserver(std::vector<RunObserver*> observers);

  void OnPassStart(const std::string& source) override;
  void OnAppend(const std::string& source, const AppendResult& r,
                const SourceStats& totals) override;
  void OnPassEnd(const std::string& source, const Status& s,
                 const SourceStats& totals) override;
  void OnApplied(const Intent& intent, const ApplyResult& r) override;
  void OnError(const std::string& what, const Status& s) override;
  void OnSourceDown(const std::string& source, const Status& s) override;
  void OnOpened(const OpenedRecord& record) override;
  void OnCaughtUp(const std::string& source) override;
  void OnReady() override;
  void OnHeartbeat() override;

 private:
  std::vector<RunObserver*> observers_;
};

}  // namespace dirledger::cli

#endif  // DIRLEDGER_TOOLS_DIRLEDGER_FAN_OUT_OBSERVER_H_

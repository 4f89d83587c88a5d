// HookObserver: the RunObserver that turns what happens in the service into
// alert-hook events (docs/operations.md, "Alert hooks and journald") and
// posts them to a HookRunner, which runs the hooks off the sync's threads:
//   hold          a delete hold opens (its deletes are held for approval)
//   failed_write  a failure record opens (a write that failed for good, an
//                 object's input that could not be taken), as the service
//                 logs it
//   conflict      a conflict opens (both_ways, no_change)
//   source_down   a source cannot reach its peer, or its run ends with an
//                 error: once when it goes down, again only after it has
//                 delivered something (or caught up) since
//
// Thread safety: RunObserver methods may be called from any thread at once.
#ifndef DIRLEDGER_TOOLS_DIRLEDGER_HOOK_OBSERVER_H_
#define DIRLEDGER_TOOLS_DIRLEDGER_HOOK_OBSERVER_H_

#include <mutex>
#include <set>
#include <string>

#include "engine/hooks/hook_runner.h"
#include "engine/run_loop.h"

namespace dirledger::cli {

// The hook event for an opened hold, failure or conflict.
HookEvent OpenedHookEvent(const OpenedRecord& record);

class HookObserver : public RunObserver {
 public:
  // `runner` must outlive this observer.
  explicit HookObserver(HookRunner* runner);

  void OnAppend(const std::string& source, const AppendResult& r,
                const SourceStats& totals) override;
  void OnPassEnd(const std::string& source, const Status& s,
                 const SourceStats& totals) override;
  void OnError(const std::string& what, const Status& s) override;
  void OnSourceUnavailable(const std::string& source, const Status& s) override;
  void OnOpened(const OpenedRecord& record) override;
  void OnCaughtUp(const std::string& source) override;

 private:
  void Down(const std::string& source, const Status& s);
  void Up(const std::string& source);

  HookRunner* runner_;
  std::mutex mu_;
  std::set<std::string> down_;  // guarded by mu_
};

}  // namespace dirledger::cli

#endif  // DIRLEDGER_TOOLS_DIRLEDGER_HOOK_OBSERVER_H_

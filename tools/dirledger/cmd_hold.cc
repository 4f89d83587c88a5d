// `dirledger approve HOLD` / `reject HOLD`: decide deletes held by the
// mass-delete guard. Approving deletes the held objects (through the normal
// appliers, at once); rejecting keeps them. Either is logged.
#include <iostream>

#include "tools/dirledger/commands.h"
#include "tools/dirledger/operator.h"

namespace dirledger::cli {

int RunHold(CliContext& ctx, const std::string& hold_id, bool approve) {
  EventLog* log = ctx.OpenLog(/*read_only=*/false);
  if (!log) return ctx.OpenFailedExit();
  auto hold = log->projection().GetHold(hold_id);
  if (!hold) {
    std::vector<std::string> open;
    Status listed = log->projection().ForEachHold([&](const HoldState& h) {
      if (h.status == HoldStatus::kOpen) open.push_back(h.hold.hold_id);
      return true;
    });
    if (!listed.ok()) return ctx.Fail(listed.WithContext("listing the holds"));
    std::string list;
    for (const auto& h : open) list += (list.empty() ? "" : ", ") + h;
    std::cerr << "dirledger: no held deletes named \"" << hold_id
              << "\"; open holds: " << (list.empty() ? "none" : list) << "\n";
    return kExitUsage;
  }
  if (hold->status != HoldStatus::kOpen) {
    std::cerr << "dirledger: " << hold_id << " was already "
              << HoldStatusName(hold->status) << " (seq " << hold->decided_seq
              << ")\n";
    return kExitFailure;
  }
  OperatorAction a;
  a.kind = approve ? ActionKind::kApprove : ActionKind::kReject;
  a.actor = Actor();
  a.hold_id = hold_id;
  a.command = CommandLine();
  OperatorResult r;
  Status s = AppendOperatorAction(ctx, std::move(a), &r);
  if (!s.ok()) return ctx.Fail(s);
  std::cout << (approve ? "approved " : "rejected ") << hold_id << " (seq "
            << r.seq << "): " << r.decision.reason << "\n";
  if (approve)
    std::cout << "  " << r.applied << " writes applied, " << r.failed
              << " failed"
              << (r.retry_later ? ", some left for the next run" : "") << "\n";
  return r.failed ? kExitFailure : kExitOk;
}

}  // namespace dirledger::cli

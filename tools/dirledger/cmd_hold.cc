// `dirledger approve HOLD` / `reject HOLD`: decide deletes held by the
// mass-delete guard. Approving deletes the held objects (through the normal
// appliers, at once); rejecting keeps them. Either is logged.
// `dirledger dismiss ID`: drops an open failure (`status`, "failures") that
// an operator has dealt with otherwise; logged the same way.
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
    ctx.err() << "dirledger: no held deletes named \"" << hold_id
              << "\"; open holds: " << (list.empty() ? "none" : list) << "\n";
    return kExitUsage;
  }
  if (hold->status != HoldStatus::kOpen) {
    ctx.err() << "dirledger: " << hold_id << " was already "
              << HoldStatusName(hold->status) << " (seq " << hold->decided_seq
              << ")\n";
    return kExitFailure;
  }
  OperatorAction a;
  a.kind = approve ? ActionKind::kApprove : ActionKind::kReject;
  a.actor = ctx.actor();
  a.hold_id = hold_id;
  a.command = ctx.command_line();
  OperatorResult r;
  Status s = AppendOperatorAction(ctx, std::move(a), &r);
  if (!s.ok()) return ctx.Fail(s);
  ctx.out() << (approve ? "approved " : "rejected ") << hold_id << " (seq "
            << r.seq << "): " << r.decision.reason << "\n";
  if (approve)
    ctx.out() << "  " << r.applied << " writes applied, " << r.failed
              << " failed"
              << (r.retry_later ? ", some left for the next run" : "") << "\n";
  return r.failed ? kExitFailure : kExitOk;
}

int RunDismiss(CliContext& ctx, const std::string& failure_id) {
  EventLog* log = ctx.OpenLog(/*read_only=*/false);
  if (!log) return ctx.OpenFailedExit();
  auto open = log->projection().FindFailure(failure_id);
  if (!log->projection().status().ok())
    return ctx.Fail(log->projection().status().WithContext(
        "looking up failure " + failure_id));
  if (!open) {
    std::vector<std::string> ids;
    Status listed =
        log->projection().ForEachFailure([&](const FailureState& f) {
          ids.push_back(FailureId(f));
          return true;
        });
    if (!listed.ok())
      return ctx.Fail(listed.WithContext("listing the failures"));
    std::string list;
    for (const auto& id : ids) list += (list.empty() ? "" : ", ") + id;
    ctx.err() << "dirledger: there is no open failure \"" << failure_id
              << "\" (unknown, or resolved or dismissed already); open "
                 "failures: "
              << (list.empty() ? "none" : list) << "\n";
    return kExitUsage;
  }
  OperatorAction a;
  a.kind = ActionKind::kDismiss;
  a.actor = ctx.actor();
  a.failure_id = FailureId(*open);
  a.command = ctx.command_line();
  OperatorResult r;
  Status s = AppendOperatorAction(ctx, std::move(a), &r);
  if (!s.ok()) return ctx.Fail(s);
  if (r.decision.outcome == Outcome::kError) {
    ctx.err() << "dirledger: " << r.decision.reason << "\n";
    return kExitUsage;
  }
  ctx.out() << "dismissed " << FailureId(*open) << " (seq " << r.seq
            << "): " << r.decision.reason << "\n";
  return kExitOk;
}

}  // namespace dirledger::cli

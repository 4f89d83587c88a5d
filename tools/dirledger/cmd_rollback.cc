// `dirledger rollback --to SEQ|TIME [--domain D] [--side ldap|mail|both]
// [--dry-run] [--yes]`: rebuilds the state as of SEQ by replay, diffs it
// against now, shows the plan object by object, then (after an automatic
// backup) appends one operator event whose compensating writes go through
// the normal appliers. Any delete, or more than a handful of writes, needs
// --yes. Objects first observed after SEQ are kept, never deleted
// (replay/appearances.h). A rollback is itself logged, and can be rolled
// back.
#include <iostream>
#include <map>

#include "engine/embedded_mail/embedded_mail_directory.h"
#include "engine/wiring/connectors.h"
#include "replay/appearances.h"
#include "replay/rollback_planner.h"
#include "tools/dirledger/auto_backup.h"
#include "tools/dirledger/commands.h"
#include "tools/dirledger/operator.h"
#include "tools/dirledger/replay_log.h"

namespace dirledger::cli {
namespace {

// More writes than this need --yes even without a delete.
constexpr std::size_t kHandful = 10;

}  // namespace

int RunRollback(CliContext& ctx, const RollbackOptions& o) {
  Status s = CheckRollbackSide(o.side);
  if (!s.ok()) return ctx.Fail(s);
  const Config* cfg = ctx.config();
  if (!cfg) return kExitUsage;
  EventLog* log = ctx.OpenLog(/*read_only=*/o.dry_run);
  if (!log) return ctx.OpenFailedExit();
  std::uint64_t seq;
  std::int64_t t;
  s = ParseSeqOrTime(o.to, &seq, &t);
  if (!s.ok()) return ctx.Fail(s);
  if (!seq) {
    auto at = SeqAtTime(*log, t, /*first_after=*/false);
    if (!at.ok()) return ctx.Fail(at.status());
    seq = *at;
  }
  if (seq == 0 || seq > log->last_seq())
    return ctx.Fail(Status::InvalidArgument("--to " + o.to +
                                            ": give a sequence between 1 and " +
                                            std::to_string(log->last_seq())));

  ReplayOptions ro;
  ro.until = seq;
  ro.compare = false;
  Replayer then(ro);
  // How each object that appeared since `seq` came to be: only those
  // created since are deleted; those first observed since are kept. From
  // the checkpoint the replay started from, if any: nothing before it
  // matters but the sources' positions, which it keeps. The events up to
  // `seq` are visited as they are replayed (their decisions do not matter
  // to it), the rest read after.
  Appearances appearances(seq);
  ReplayStart start;
  bool resumed = false;
  const auto resume = [&] {
    if (!resumed) appearances.Resume(start.positions);
    resumed = true;
  };
  s = ReplayToRecord(*log, o.full_replay ? "" : ctx.data_dir(), &then, seq,
                     &start, [&](const Event& e, const std::string_view*) {
                       resume();
                       appearances.Visit(e, nullptr);
                       return true;
                     });
  if (!s.ok()) return ctx.Fail(s);
  resume();
  s = log->Scan(seq + 1, log->last_seq(),
                [&](const Event& e, const Decision* d) {
                  appearances.Visit(e, d);
                  return true;
                });
  if (!s.ok()) return ctx.Fail(s.WithContext("reading the log"));
  RollbackFilter filter;
  filter.side = o.side;
  filter.domain = o.domain;
  filter.created_after = [&appearances](Side side, std::string_view id) {
    return appearances.Created(side, id);
  };
  filter.renamed_from = [&appearances](Side side, std::string_view id) {
    return appearances.RenamedFrom(side, id);
  };
  for (const ConnectorConfig& c : cfg->connectors)
    filter.server_types[c.name] = c.server_type;
  auto plan = PlanRollback(ListerOf(then.projection()),
                           ListerOf(log->projection()), seq, filter);
  if (!plan.ok()) return ctx.Fail(plan.status());
  ctx.out() << "rollback to sequence " << seq << " (" << o.side << " side"
            << (o.side == "both" ? "s" : "")
            << (o.domain.empty() ? "" : ", domain " + o.domain) << "):\n"
            << plan->ToText();
  if (plan->objects.empty()) {
    ctx.out() << "nothing to do: the state matches sequence " << seq << "\n";
    return kExitOk;
  }
  if (o.dry_run) {
    ctx.out() << "dry run: nothing was written\n";
    return kExitOk;
  }
  // The mass-delete guard, per connector.
  auto rules = RuleSet::Compile(*cfg);
  if (!rules.ok()) return ctx.Fail(rules.status());
  std::map<std::string, std::uint64_t> deletes_by_domain;
  for (const PlannedObject& p : plan->objects)
    if (p.step == RollbackStep::kDelete) ++deletes_by_domain[p.target.domain];
  for (const ConnectorRules& c : (*rules)->connectors()) {
    std::uint64_t deletes = 0;
    for (const DomainScope& d : c.domains)
      deletes += deletes_by_domain[d.domain];
    std::uint64_t known = 0;
    // The threshold follows this count: one that cannot be read fails the
    // command, never passes for a smaller one.
    Status counted = log->projection().ForEachObject(
        Side::kLdap, [&](const ObjectState& obj) {
          if (obj.connector == c.config.name) ++known;
          return true;
        });
    if (!counted.ok())
      return ctx.Fail(counted.WithContext("counting the objects of connector " +
                                          c.config.name));
    const std::uint64_t threshold = c.DeleteThreshold(known);
    if (deletes > threshold && !o.yes) {
      ctx.err() << "dirledger: the rollback deletes " << deletes
                << " objects of connector \"" << c.config.name
                << "\", more than its delete_threshold " << threshold
                << "; check the plan and run again with --yes\n";
      return kExitHeld;
    }
  }
  // Any delete, or more than a handful of writes, is confirmed by the
  // operator who has read the plan above.
  if (!o.yes && (plan->deletes > 0 || plan->objects.size() > kHandful)) {
    ctx.err() << "dirledger: the rollback "
              << (plan->deletes > 0
                      ? "deletes " + std::to_string(plan->deletes) + " objects"
                      : "writes " + std::to_string(plan->objects.size()) +
                            " objects")
              << " (the plan above); check it and run again with --yes\n";
    return kExitHeld;
  }
  std::unique_ptr<EmbeddedMailDirectory> embedded;
  const EmbeddedMailDirectory* mail = nullptr;
  if (cfg->mail.kind == MailKind::kEmbedded) {
    if (ctx.service()) {
      mail = ctx.service()->embedded;  // the service has it open
    } else {
      auto m = OpenEmbeddedMail(*rules);
      if (!m.ok()) return ctx.Fail(m.status());
      embedded = std::move(m).value();
      mail = embedded.get();
    }
  }
  AutoBackupResult backup;
  s = AutoBackup(ctx, *log, mail, "before-rollback-to-" + std::to_string(seq),
                 /*once_per_head=*/false, &backup);
  if (!s.ok()) return ctx.Fail(s.WithContext("automatic backup"));
  embedded.reset();  // the appliers open it again
  ctx.out() << "backup before the rollback: " << backup.where << "\n";
  for (const std::string& p : backup.pruned)
    ctx.out() << "removed the old automatic backup " << p
              << " (backup_keep = " << cfg->backup_keep << ")\n";
  OperatorResult r;
  s = AppendOperatorAction(ctx, plan->Action(ctx.actor(), ctx.command_line()),
                           &r);
  if (!s.ok()) return ctx.Fail(s);
  ctx.out() << "rolled back (seq " << r.seq << "): " << r.applied
            << " writes applied, " << r.failed << " failed";
  if (r.retry_later)
    ctx.out() << ", " << r.retry_later << " left for the next run";
  ctx.out() << "\nto undo it: dirledger rollback --to " << r.seq - 1 << "\n";
  return r.failed ? kExitFailure : kExitOk;
}

}  // namespace dirledger::cli

// `dirledger replay`: re-derive every decision from the log (exit 0 when
// all match the record); `--until SEQ` shows the state as of SEQ; `--set
// KEY=VALUE` replays the same history under other rules (what-if) and shows
// which decisions and which final values would differ, writing nothing.
// `dirledger verify` runs the hash chain check, then the same replay, then
// compares the stored projection with the replayed one.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <iostream>

#include "codecs/event_codec.h"
#include "codecs/sha256.h"
#include "engine/hooks/hook_runner.h"
#include "replay/appearances.h"
#include "replay/decision_text.h"
#include "replay/what_if.h"
#include "tools/dirledger/commands.h"
#include "tools/dirledger/projection_checkpoints.h"
#include "tools/dirledger/render.h"
#include "tools/dirledger/replay_log.h"
#include "tools/dirledger/verify_derived.h"
#include "tools/dirledger/verify_mail_directory.h"

namespace dirledger::cli {
namespace {

int Verify(CliContext& ctx, const VerifyOptions& o);

Status ParseSets(const std::vector<std::string>& sets,
                 std::vector<std::pair<std::string, std::string>>* out) {
  for (const std::string& s : sets) {
    const size_t eq = s.find('=');
    if (eq == std::string::npos || eq == 0)
      return Status::InvalidArgument("--set " + s + ": use KEY=VALUE");
    out->emplace_back(s.substr(0, eq), s.substr(eq + 1));
  }
  return Status::Ok();
}

void PrintObjects(const InMemoryProjection& p, bool json) {
  for (Side side : {Side::kLdap, Side::kMail}) {
    // In memory (InMemoryProjection): its listings cannot fail.
    (void)p.ForEachObject(side, [&](const ObjectState& o) {
      if (json) {
        CliContext::JsonLine(nlohmann::json{{"side", SideName(o.side)},
                                            {"object_kind", KindName(o.kind)},
                                            {"id", o.id},
                                            {"dn", o.dn},
                                            {"domain", o.domain},
                                            {"version", o.version},
                                            {"attrs", AttrsJson(o.attrs)}});
      } else {
        std::cout << SideName(o.side) << " " << KindName(o.kind) << " "
                  << ValueText(o.dn.empty() ? o.id : o.dn) << " (version "
                  << o.version << ")\n";
      }
      return true;
    });
  }
}

// Every derived key against the replayed projection; prints the
// differences. True when there are none.
bool VerifyDerivedRecords(const EventLog& log,
                          const DerivedRecordsCheck& derived,
                          const InMemoryProjection& replayed) {
  constexpr std::size_t kShown = 20;
  std::vector<std::string> diffs;
  std::uint64_t count = 0;
  Status s = derived.Compare(log, replayed, kShown, &diffs, &count);
  if (!s.ok()) {
    std::cout << "verify: FAILED: the stored projection cannot be read: "
              << s.message() << "\n";
    return false;
  }
  if (count == 0) return true;
  std::cout << "verify: FAILED: " << count
            << " derived records differ from what the log derives"
            << (count > diffs.size()
                    ? " (the first " + std::to_string(diffs.size()) + ")"
                    : std::string())
            << ":\n";
  for (const std::string& d : diffs) std::cout << "verify:   " << d << "\n";
  return false;
}

// The projection checkpoints a verify passes, each compared with the
// projection the replay derives at its record.
class CheckpointChecks {
 public:
  CheckpointChecks(const EventLog& log, const std::string& data_dir)
      : log_(log) {
    for (CheckpointFile& f : ListCheckpoints(data_dir))
      if (f.seq <= log.last_seq()) files_.push_back(std::move(f));
  }

  // `projection` and `positions` are the ones derived as of record `seq`.
  void At(std::uint64_t seq, const InMemoryProjection& projection,
          const Appearances& positions) {
    for (const CheckpointFile& f : files_) {
      if (f.seq != seq) continue;
      Status s = CheckCheckpoint(log_, f, projection, positions.Positions());
      if (s.ok()) {
        good_.push_back(seq);
      } else if (s.code() == StatusCode::kUnavailable) {
        notes_.push_back("projection checkpoint " + f.path +
                         " not checked: " + s.message());
      } else {
        bad_.push_back("projection checkpoint " + f.path + ": " + s.message() +
                       " (a checkpoint is a cache kept beside the log: remove "
                       "it, and find out who altered it)");
      }
    }
  }

  // Prints what was found; false when a checkpoint holds another projection.
  bool Report() const {
    for (const std::string& n : notes_) std::cout << "verify: " << n << "\n";
    for (const std::string& b : bad_)
      std::cout << "verify: FAILED: " << b << "\n";
    if (!good_.empty())
      std::cout << "verify: projection checkpoints OK, " << good_.size()
                << " as the log derives them\n";
    return bad_.empty();
  }

  bool HasGood(std::uint64_t seq) const {
    return std::find(good_.begin(), good_.end(), seq) != good_.end();
  }

 private:
  const EventLog& log_;
  std::vector<CheckpointFile> files_;
  std::vector<std::uint64_t> good_;
  std::vector<std::string> notes_, bad_;
};

// Writes a checkpoint of the replayed log and says so (never a failure of
// the command: a checkpoint only saves later commands a replay).
void NoteCheckpointWritten(const char* command, const EventLog& log,
                           const std::string& data_dir,
                           const Replayer& replayer,
                           const SourcePositions& positions,
                           std::ostream& out) {
  auto path = WriteCheckpoint(log, data_dir, replayer, positions);
  if (path.ok())
    out << command << ": projection checkpoint written: " << *path << "\n";
  else
    out << command
        << ": no projection checkpoint written: " << path.status().message()
        << "\n";
}

}  // namespace

int RunReplay(CliContext& ctx, const ReplayCliOptions& o) {
  EventLog* log = ctx.OpenLog(/*read_only=*/true);
  if (!log) return ctx.OpenFailedExit();
  std::uint64_t until = 0;
  if (!o.until.empty()) {
    std::int64_t t;
    Status s = ParseSeqOrTime(o.until, &until, &t);
    if (!s.ok()) return ctx.Fail(s);
    if (!until) {
      auto seq = SeqAtTime(*log, t, /*first_after=*/false);
      if (!seq.ok()) return ctx.Fail(seq.status());
      until = *seq;
    }
  }
  std::vector<std::pair<std::string, std::string>> overrides;
  Status s = ParseSets(o.sets, &overrides);
  if (!s.ok()) return ctx.Fail(s);

  if (!overrides.empty()) {
    WhatIfOptions wo;
    wo.overrides = overrides;
    wo.until = until;
    WhatIf what_if(wo);
    Status fed;
    s = log->Scan(1, until ? until : log->last_seq(),
                  [&](const Event& e, const Decision*) {
                    fed = what_if.Feed(e);
                    return fed.ok();
                  });
    if (s.ok()) s = fed;
    if (!s.ok()) return ctx.Fail(s);
    WhatIfReport report = what_if.Finish();
    if (o.json) {
      for (const DecisionDiff& d : report.decisions)
        CliContext::JsonLine(nlohmann::json{
            {"type", "decision"},
            {"seq", d.seq},
            {"as_recorded", std::string(OutcomeName(d.as_recorded.outcome))},
            {"as_recorded_rule", d.as_recorded.rule},
            {"what_if", std::string(OutcomeName(d.what_if.outcome))},
            {"what_if_rule", d.what_if.rule},
            {"what_if_reason", d.what_if.reason},
            {"own_write", d.own_write}});
      for (const ValueDiff& v : report.values)
        CliContext::JsonLine(
            nlohmann::json{{"type", "object"},
                           {"side", SideName(v.side)},
                           {"object_kind", KindName(v.kind)},
                           {"id", v.id},
                           {"dn", v.dn},
                           {"exists_as_recorded", v.exists_as_recorded},
                           {"exists_what_if", v.exists_what_if},
                           {"attributes", v.attributes},
                           {"as_recorded", AttrsJson(v.as_recorded)},
                           {"what_if", AttrsJson(v.what_if)}});
    } else {
      std::cout << report.ToText();
    }
    return kExitOk;
  }

  ReplayOptions ro;
  ro.until = until;
  Replayer replayer(ro);
  Appearances positions(UINT64_MAX);  // for a checkpoint of the whole log
  s = ReplayLog(*log, &replayer, until, !o.json,
                // The decisions matter to Appearances only after its point.
                [&](const Event& e, const std::string_view*) {
                  positions.Visit(e, nullptr);
                  return true;
                });
  if (!s.ok()) return ctx.Fail(s);
  if (until) PrintObjects(replayer.projection(), o.json);
  if (const auto& diff = replayer.first_difference()) {
    if (o.json)
      CliContext::JsonLine(
          nlohmann::json{{"type", "mismatch"},
                         {"seq", diff->seq},
                         {"differences", replayer.differences()},
                         {"recorded", diff->recorded},
                         {"replayed", diff->replayed}});
    else
      std::cout << "replay: " << replayer.differences()
                << " decisions differ from the record; the first:\n"
                << diff->ToString();
    return kExitFailure;
  }
  // A whole log replayed as recorded: its projection is worth keeping.
  if (!until && replayer.last_seq() != 0) {
    const std::vector<CheckpointFile> kept = ListCheckpoints(ctx.data_dir());
    if (kept.empty() || kept.front().seq != replayer.last_seq())
      NoteCheckpointWritten("replay", *log, ctx.data_dir(), replayer,
                            positions.Positions(), std::cerr);
  }
  if (o.json)
    CliContext::JsonLine(nlohmann::json{{"type", "replay"},
                                        {"events", replayer.events()},
                                        {"until", replayer.last_seq()},
                                        {"differences", 0}});
  else
    std::cout << "replay: " << replayer.events()
              << " events re-decided, every decision matches the record\n";
  return kExitOk;
}

int RunVerify(CliContext& ctx, const VerifyOptions& o) {
  const int rc = Verify(ctx, o);
  const Config* cfg = ctx.config();
  if (rc != kExitFailure || !cfg) return rc;
  HookRunner hooks(*cfg);
  if (!hooks.Wants("verify_failed")) return rc;
  // No service runs here: the hooks run now, each within its timeout.
  HookEvent e;
  e.type = "verify_failed";
  e.time_us = std::chrono::duration_cast<std::chrono::microseconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
  e.message =
      "`dirledger verify` failed for the log in " + ctx.data_dir() +
      (o.expect_head.empty() ? std::string()
                             : " (expected head " + o.expect_head + ")") +
      "; run it again to see where";
  if (const Status s = CheckHookPrograms(cfg->hooks); !s.ok())
    std::cerr << "dirledger: " << s.message() << "\n";
  hooks.RunNow(e);
  return rc;
}

namespace {

int Verify(CliContext& ctx, const VerifyOptions& o) {
  const std::string expected = AsciiLower(o.expect_head);
  if (!expected.empty() &&
      (expected.size() != 64 ||
       expected.find_first_not_of("0123456789abcdef") != std::string::npos))
    return ctx.Fail(Status::InvalidArgument(
        "--expect-head " + o.expect_head +
        ": give the 64 hex digits of a head sha256 shown by `dirledger "
        "status`"));
  EventLog* log = ctx.OpenLog(/*read_only=*/true);
  if (!log) return ctx.OpenFailedExit();
  // The hash chain is walked on a thread of its own while the log is
  // replayed here (both only read it); what it found is reported first.
  // A broken chain stops the replay: what follows is not to be trusted.
  ChainReport report;
  std::atomic<bool> chain_broken{false};
  std::future<Status> chain =
      std::async(std::launch::async, [log, &report, &chain_broken] {
        Status walked = log->VerifyChain(&report, [](std::uint64_t seq) {
          std::cerr << "verify: " + std::to_string(seq) + " records checked\n";
        });
        if (!walked.ok()) chain_broken = true;
        return walked;
      });

  DerivedRecordsCheck derived;
  Replayer replayer;
  CheckpointChecks checkpoints(*log, ctx.data_dir());
  Appearances positions(UINT64_MAX);  // the sources' positions, for it
  // Every event must have its decision.
  std::uint64_t missing = 0;
  // The record whose SHA-256 --expect-head names, as a later record's
  // predecessor hash.
  std::uint64_t expected_at = 0;
  Decision recorded;
  Status decoded;
  Status s =
      ReplayLog(*log, &replayer, 0, true,
                [&](const Event& e, const std::string_view* stored) {
                  if (!stored && missing == 0) missing = e.seq;
                  if (!expected.empty() && expected_at == 0 && e.seq > 1 &&
                      HexEncode(e.prev_hash) == expected)
                    expected_at = e.seq - 1;
                  if (stored && decoded.ok())
                    decoded = DecodeDecision(*stored, e.seq, &recorded);
                  const Decision* d = stored ? &recorded : nullptr;
                  checkpoints.At(e.seq - 1, replayer.projection(), positions);
                  derived.Note(replayer.projection(), e, d);
                  positions.Visit(e, d);
                  return !chain_broken.load();
                });
  if (s.ok()) s = decoded;

  const Status chained = chain.get();
  if (!chained.ok()) {
    std::cout << "verify: FAILED at sequence " << report.first_bad_seq << ": "
              << chained.message() << "\n";
    return kExitFailure;
  }
  std::cout << "verify: hash chain OK, " << report.records
            << " records, head sha256 " << report.head_hash << "\n";
  std::cout << "verify: cursors OK, " << report.cursors_checked
            << " as last recorded in the chain";
  if (!report.cursors_unrecorded.empty()) {
    std::cout << "; stored before cursors were recorded, not checked:";
    for (const std::string& source : report.cursors_unrecorded)
      std::cout << " " << source;
  }
  std::cout << "\n";
  if (!expected.empty()) {
    // The head recorded earlier must still be in the chain: the head now,
    // or the predecessor hash some later record carries. (A replay that
    // stopped early may not have reached it: that failure is told below.)
    const std::uint64_t at =
        expected == report.head_hash ? log->last_seq() : expected_at;
    if (!at && s.ok()) {
      std::cout << "verify: FAILED: no record of this log has the head "
                << expected << " recorded earlier: the log was rewritten, "
                << "or it is not the one recorded\n";
      return kExitFailure;
    }
    if (at)
      std::cout << "verify: the head recorded earlier is record " << at
                << " of this chain; " << log->last_seq() - at
                << " records were appended since\n";
  }
  if (!s.ok()) {
    std::cout << "verify: FAILED: replay stopped: " << s.message() << "\n";
    return kExitFailure;
  }
  checkpoints.At(log->last_seq(), replayer.projection(), positions);
  if (missing) {
    std::cout << "verify: FAILED at sequence " << missing
              << ": no decision is recorded for it\n";
    return kExitFailure;
  }
  if (const auto& diff = replayer.first_difference()) {
    std::cout << "verify: FAILED at sequence " << diff->seq
              << ": replay decides it differently from the record ("
              << replayer.differences() << " decisions differ)\n"
              << diff->ToString();
    return kExitFailure;
  }
  std::cout << "verify: replay OK, " << replayer.events()
            << " decisions reproduced byte for byte\n";
  // Every stored record and index entry, key for key (an edited record is
  // named by its key as an edited index entry is).
  if (!VerifyDerivedRecords(*log, derived, replayer.projection()))
    return kExitFailure;
  std::cout << "verify: projection OK, it is what the log says\n";
  if (!checkpoints.Report()) return kExitFailure;
  if (!checkpoints.HasGood(log->last_seq()))
    NoteCheckpointWritten("verify", *log, ctx.data_dir(), replayer,
                          positions.Positions(), std::cout);
  return VerifyMailDirectory(ctx, *log);
}

}  // namespace

}  // namespace dirledger::cli

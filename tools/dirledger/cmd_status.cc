// `dirledger status`: per source its cursor, last contact, lag, events so
// far and last error; open conflicts; held deletes; drift on one-way
// connectors; intents not yet applied; the log head (record it elsewhere to
// detect a rewritten log, see docs/audit.md).
#include <algorithm>
#include <chrono>
#include <iostream>

#include "codecs/cookie_time.h"
#include "codecs/printable.h"
#include "codecs/sha256.h"
#include "tools/dirledger/commands.h"
#include "tools/dirledger/projection_checkpoints.h"
#include "tools/dirledger/render.h"

namespace dirledger::cli {
namespace {

std::int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Ago(std::int64_t t_us) {
  if (t_us <= 0) return "never";
  const std::int64_t s = (NowUs() - t_us) / 1000000;
  if (s < 120) return std::to_string(s) + " s ago";
  if (s < 7200) return std::to_string(s / 60) + " min ago";
  if (s < 172800) return std::to_string(s / 3600) + " h ago";
  return std::to_string(s / 86400) + " days ago";
}

// A readable preview of an opaque cookie.
std::string CookiePreview(const std::string& c) {
  if (IsValidUtf8(c) && c.find_first_of("\r\n") == std::string::npos)
    return PrintableText(c.size() > 72 ? c.substr(0, 69) + "..." : c);
  const std::string hex = HexEncode(c);
  return "hex:" + (hex.size() > 64 ? hex.substr(0, 61) + "..." : hex) + " (" +
         std::to_string(c.size()) + " bytes)";
}

}  // namespace

int RunStatus(CliContext& ctx, const StatusOptions& o) {
  EventLog* log = ctx.OpenLog(/*read_only=*/true);
  if (!log) return ctx.OpenFailedExit();
  const Config* cfg = ctx.config();
  using nlohmann::json;
  const std::string head = HexEncode(log->head_hash());
  // The newest projection checkpoint of this log's length (checked only
  // when a command uses it: tools/dirledger/projection_checkpoints.h).
  std::uint64_t checkpoint = 0;
  for (const CheckpointFile& f : ListCheckpoints(ctx.data_dir()))
    if (f.seq <= log->last_seq()) checkpoint = std::max(checkpoint, f.seq);
  if (o.json) {
    CliContext::JsonLine(json{{"type", "log"},
                              {"data_dir", ctx.data_dir()},
                              {"last_seq", log->last_seq()},
                              {"head_sha256", head},
                              {"checkpoint_seq", checkpoint}});
  } else {
    std::cout << "log: " << PrintableText(ctx.data_dir()) << ", "
              << log->last_seq() << " records, head sha256 " << head << "\n";
    if (checkpoint)
      std::cout << "projection checkpoint: record " << checkpoint << ", "
                << log->last_seq() - checkpoint
                << " records before the head (rollback and export --at "
                   "replay only those after it)\n";
    else if (log->last_seq() != 0)
      std::cout << "projection checkpoint: none yet (`dirledger verify` "
                   "writes one)\n";
  }

  // Sources: the configured ones first, then any the log knows of.
  std::map<std::string, SourceStatus> sources;
  Status s = log->ForEachSourceStatus(
      [&](const SourceStatus& st) { sources[st.source] = st; });
  if (!s.ok()) return ctx.Fail(s);
  std::map<std::string, std::string> cursors;
  s = log->ForEachCursor([&](std::string_view k, std::string_view v) {
    cursors[std::string(k)] = std::string(v);
    if (!sources.count(std::string(k))) sources[std::string(k)].source = k;
  });
  if (!s.ok()) return ctx.Fail(s);
  if (!o.json) std::cout << "\nsources:\n";
  if (sources.empty() && !o.json)
    std::cout << "  none yet (run `dirledger run --once`)\n";
  for (const auto& [name, st] : sources) {
    const std::string& cookie = cursors[name];
    const std::int64_t csn = CookieChangeTimeUs(cookie);
    const std::int64_t lag_us = csn ? NowUs() - csn : 0;
    if (o.json) {
      json j{
          {"type", "source"},
          {"source", name},
          {"cursor", CookiePreview(cookie)},
          {"events", st.events},
          {"last_seq", st.last_seq},
          {"last_event", st.last_event_us ? FormatTime(st.last_event_us) : ""},
          {"last_contact",
           st.last_contact_us ? FormatTime(st.last_contact_us) : ""}};
      if (csn) j["lag_s"] = lag_us / 1e6;
      if (!st.last_error.empty()) {
        j["last_error"] = st.last_error;
        j["last_error_time"] = FormatTime(st.last_error_us);
      }
      CliContext::JsonLine(j);
    } else {
      std::cout << "  " << PrintableText(name) << ": " << st.events
                << " events, last contact " << Ago(st.last_contact_us);
      if (csn) std::cout << ", newest change seen " << Ago(csn);
      std::cout << "\n    cursor "
                << (cookie.empty() ? "(none)" : CookiePreview(cookie)) << "\n";
      if (!st.last_error.empty())
        std::cout << "    last error " << Ago(st.last_error_us) << ": "
                  << PrintableText(st.last_error) << "\n";
    }
  }

  const ProjectionStore& p = log->projection();
  int holds = 0, conflicts = 0, drifts = 0, pending = 0;
  if (!o.json) std::cout << "\nheld deletes:\n";
  s = p.ForEachHold([&](const HoldState& h) {
    if (h.status != HoldStatus::kOpen) return true;
    ++holds;
    if (o.json) {
      json ids = json::array();
      for (const auto& r : h.hold.deletes)
        ids.push_back(r.dn.empty() ? r.id : r.dn);
      CliContext::JsonLine(json{{"type", "hold"},
                                {"hold_id", h.hold.hold_id},
                                {"source", h.hold.source},
                                {"deletes", h.hold.deletes.size()},
                                {"objects", ids},
                                {"seq", h.seq},
                                {"reason", h.hold.reason}});
    } else {
      std::cout << "  " << PrintableText(h.hold.hold_id) << " (seq " << h.seq
                << ", " << PrintableText(h.hold.source)
                << "): " << PrintableText(h.hold.reason) << "\n";
      // What approving would delete: the operator decides on this list.
      constexpr size_t kShown = 10;
      for (size_t i = 0; i < h.hold.deletes.size() && i < kShown; ++i) {
        const auto& r = h.hold.deletes[i];
        std::cout << "    delete " << ValueText(r.dn.empty() ? r.id : r.dn)
                  << "\n";
      }
      if (h.hold.deletes.size() > kShown)
        std::cout << "    ... and " << h.hold.deletes.size() - kShown
                  << " more (`dirledger status --json` lists them all)\n";
      std::cout << "    `dirledger approve " << PrintableText(h.hold.hold_id)
                << "` deletes them, `dirledger reject "
                << PrintableText(h.hold.hold_id) << "` keeps them\n";
    }
    return true;
  });
  if (!s.ok()) return ctx.Fail(s);
  if (!o.json && holds == 0) std::cout << "  none\n";

  // Failures stay listed until resolved or dismissed (docs/operations.md,
  // "Failures").
  int failures = 0;
  if (!o.json) std::cout << "\nfailures:\n";
  s = p.ForEachFailure([&](const FailureState& f) {
    ++failures;
    const std::string id = FailureId(f);
    Event opened;
    std::string since;
    if (log->ReadEvent(f.since_seq, &opened).ok())
      since = FormatTime(opened.time_us);
    const std::string intent =
        f.kind == FailureKind::kFailedWrite
            ? IntentIdText(f.intent_id) + " " + std::string(IntentOpName(f.op))
            : "";
    if (o.json) {
      CliContext::JsonLine(json{{"type", std::string(FailureKindName(f.kind))},
                                {"id", id},
                                {"side", std::string(SideName(f.side))},
                                {"object", ValueJson(f.object)},
                                {"dn", ValueJson(f.dn)},
                                {"intent", intent},
                                {"message", ValueJson(f.message)},
                                {"source", f.source},
                                {"since_seq", f.since_seq},
                                {"since", since}});
    } else {
      std::cout << "  " << id << "  " << FailureKindName(f.kind) << "  "
                << SideName(f.side) << " " << KindName(f.object_kind) << " "
                << ValueText(f.object);
      if (!f.dn.empty() && f.dn != f.object)
        std::cout << " (" << ValueText(f.dn) << ")";
      if (!intent.empty()) std::cout << ", intent " << intent;
      if (!f.source.empty()) std::cout << ", from " << PrintableText(f.source);
      std::cout << "\n    " << PrintableText(f.message) << "\n    since "
                << (since.empty() ? "?" : since) << " (seq " << f.since_seq
                << "); `dirledger dismiss " << id << "` drops it\n";
    }
    return true;
  });
  if (!s.ok()) return ctx.Fail(s);
  if (!o.json && failures == 0) std::cout << "  none\n";

  // Deletes waiting for delete_delay_s (service mode): applied when due
  // unless the deletes around them exceed delete_threshold.
  int waiting = 0;
  if (!o.json) std::cout << "\ndeletes waiting:\n";
  s = p.ForEachHold([&](const HoldState& h) {
    if (h.status != HoldStatus::kWaiting) return true;
    for (size_t i = 0; i < h.hold.deletes.size(); ++i) {
      const auto& r = h.hold.deletes[i];
      const std::int64_t due = i < h.due_us.size() ? h.due_us[i] : 0;
      ++waiting;
      if (o.json) {
        CliContext::JsonLine(json{{"type", "delayed_delete"},
                                  {"window", h.hold.hold_id},
                                  {"source", h.hold.source},
                                  {"side", SideName(r.side)},
                                  {"id", r.id},
                                  {"dn", r.dn},
                                  {"object", r.dn.empty() ? r.id : r.dn},
                                  {"due", FormatTime(due)},
                                  {"due_us", due}});
      } else {
        std::cout << "  delete " << ValueText(r.dn.empty() ? r.id : r.dn)
                  << " (" << PrintableText(h.hold.source) << ", "
                  << PrintableText(h.hold.hold_id) << ") due "
                  << FormatTime(due) << "\n";
      }
    }
    return true;
  });
  if (!s.ok()) return ctx.Fail(s);
  if (!o.json && waiting == 0) std::cout << "  none\n";

  if (!o.json) std::cout << "\nopen conflicts:\n";
  s = p.ForEachConflict([&](const ConflictState& c) {
    ++conflicts;
    if (o.json) {
      CliContext::JsonLine(json{{"type", "conflict"},
                                {"ldap_id", c.ldap_id},
                                {"mail_id", c.mail_id},
                                {"fields", c.fields},
                                {"ldap_values", AttrsJson(c.ldap_values)},
                                {"mail_values", AttrsJson(c.mail_values)},
                                {"since_seq", c.opened_seq}});
    } else {
      std::cout << "  " << ValueText(c.mail_id) << " <-> "
                << ValueText(c.ldap_id) << " since seq " << c.opened_seq << ":";
      for (const auto& f : c.fields) std::cout << " " << PrintableText(f);
      std::cout << "\n";
    }
    return true;
  });
  if (!s.ok()) return ctx.Fail(s);
  if (!o.json && conflicts == 0) std::cout << "  none\n";

  if (!o.json)
    std::cout
        << "\ndrift (one-way connectors, changes discarded by direction):\n";
  s = p.ForEachDrift([&](const DriftState& d) {
    ++drifts;
    if (o.json) {
      CliContext::JsonLine(json{{"type", "drift"},
                                {"ldap_id", d.ldap_id},
                                {"mail_id", d.mail_id},
                                {"connector", d.connector},
                                {"fields", d.fields},
                                {"since_seq", d.since_seq}});
    } else {
      std::cout << "  " << ValueText(d.mail_id) << " ("
                << PrintableText(d.connector) << ") since seq " << d.since_seq
                << ":";
      for (const auto& f : d.fields) std::cout << " " << PrintableText(f);
      std::cout << "\n";
    }
    return true;
  });
  if (!s.ok()) return ctx.Fail(s);
  if (!o.json && drifts == 0) std::cout << "  none\n";

  if (!o.json) std::cout << "\nintents not yet applied:\n";
  s = p.ForEachPending([&](const PendingIntent& pi) {
    if (pi.applied) return true;
    ++pending;
    if (o.json) {
      json j = IntentJson(pi.intent);
      j["type"] = "pending";
      j["decided_seq"] = pi.decided_seq;
      CliContext::JsonLine(j);
    } else if (pending <= 20) {
      std::cout << "  " << IntentText(pi.intent);
    }
    return true;
  });
  if (!s.ok()) return ctx.Fail(s);
  if (!o.json && pending == 0) std::cout << "  none\n";
  if (!o.json && pending > 20)
    std::cout << "  ... and " << pending - 20 << " more\n";
  (void)cfg;
  return kExitOk;
}

}  // namespace dirledger::cli

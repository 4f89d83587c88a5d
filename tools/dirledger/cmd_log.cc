// `dirledger log` and `dirledger explain`: the log as a list of events with
// their decisions, and one object's whole history as a timeline.
// `dirledger log --follow` is a live audit stream: it follows the log while
// the service writes it (a RocksDB secondary instance: it never opens the
// log for writing, nor takes its lock), polling every 200 ms, and prints
// each new record once, in order, as `log` would, until SIGINT or SIGTERM,
// or until its reader goes (EPIPE: exit 0).
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <iostream>
#include <set>

#include "codecs/printable.h"
#include "replay/rules.h"
#include "storage/event_log.h"
#include "tools/dirledger/commands.h"
#include "tools/dirledger/render.h"

namespace dirledger::cli {
namespace {

// Resolves SEQ|TIME to a sequence bound.
Status Bound(const EventLog& log, const std::string& arg, bool lower,
             std::uint64_t* out) {
  std::uint64_t seq;
  std::int64_t t;
  DIRLEDGER_RETURN_IF_ERROR(ParseSeqOrTime(arg, &seq, &t));
  if (seq) {
    *out = seq;
    return Status::Ok();
  }
  auto s = SeqAtTime(log, t, lower);
  if (!s.ok()) return s.status();
  *out = *s;
  return Status::Ok();
}

// Every sequence the object appears in, following it across its ids: an
// address leads to the linked LDAP id and back, a DN to the entry's id.
Status ObjectSeqs(const EventLog& log, const std::string& id,
                  std::set<std::uint64_t>* seqs, std::set<std::string>* ids) {
  std::vector<std::string> todo{id};
  while (!todo.empty()) {
    const std::string next = AsciiLower(todo.back());
    todo.pop_back();
    if (next.empty() || !ids->insert(next).second) continue;
    std::vector<std::uint64_t> found;
    DIRLEDGER_RETURN_IF_ERROR(log.SeqsForObject(next, &found));
    // A DN may only be known to the projection (when it never changed).
    if (auto by_dn =
            log.projection().FindIdByDn(Side::kLdap, NormalizeDn(next)))
      todo.push_back(*by_dn);
    else if (auto by_dn2 = log.projection().FindIdByDn(Side::kLdap, next))
      todo.push_back(*by_dn2);
    for (ObjectKind k : {ObjectKind::kAccount, ObjectKind::kGroup}) {
      if (auto l = log.projection().GetLinkByMail(k, next))
        todo.push_back(l->ldap_id);
      if (auto l = log.projection().GetLinkByLdap(k, next))
        todo.push_back(l->mail_id);
    }
    for (std::uint64_t s : found) {
      if (!seqs->insert(s).second) continue;
      Decision d;
      if (log.ReadDecision(s, &d).ok()) {
        if (!d.link_ldap_id.empty()) todo.push_back(d.link_ldap_id);
        if (!d.link_mail_id.empty()) todo.push_back(d.link_mail_id);
      }
      Event e;
      if (log.ReadEvent(s, &e).ok())
        if (const auto* c = std::get_if<ObservedChange>(&e.body))
          todo.push_back(c->id);
    }
  }
  return Status::Ok();
}

std::atomic<bool> g_follow_stop{false};

extern "C" void OnFollowStop(int) { g_follow_stop.store(true); }

// How often --follow looks for new records.
constexpr auto kFollowPoll = std::chrono::milliseconds(200);

// A private directory for the secondary instance's own files, removed when
// the stream ends.
class FollowDir {
 public:
  FollowDir() {
    const char* base = std::getenv("TMPDIR");
    std::string templ =
        std::string(base && *base ? base : "/tmp") + "/dirledger-follow-XXXXXX";
    if (mkdtemp(templ.data())) path_ = templ;
  }
  ~FollowDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

int FollowLog(CliContext& ctx, const LogOptions& o,
              const std::function<void(const Event&, const Decision*)>& emit) {
  if (!o.object.empty() || !o.until.empty()) {
    std::cerr << "dirledger: log --follow takes no --object or --until\n";
    return kExitUsage;
  }
  if (!ctx.config()) return kExitUsage;
  struct sigaction sa {};
  sa.sa_handler = OnFollowStop;
  sigemptyset(&sa.sa_mask);  // no SA_RESTART: the poll's sleep ends at once
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a reader that leaves: EPIPE, the end
  FollowDir dir;
  if (dir.path().empty())
    return ctx.Fail(
        Status::IOError("log --follow: cannot make a directory "
                        "for its files in TMPDIR"));
  dirledger::LogOptions lo;
  lo.read_only = true;
  lo.follow_dir = dir.path();
  lo.block_cache_mb = 8;
  auto opened = EventLog::Open(ctx.log_dir(), lo);
  if (!opened.ok()) return ctx.Fail(opened.status());
  EventLog& log = **opened;
  // The first record to print.
  std::uint64_t next = 1;
  if (!o.since.empty()) {
    std::uint64_t seq;
    std::int64_t t;
    if (Status s = ParseSeqOrTime(o.since, &seq, &t); !s.ok())
      return ctx.Fail(s);
    if (o.since.find_first_not_of("0123456789") == std::string::npos) {
      next = seq + 1;
    } else {
      auto at = SeqAtTime(log, t, /*first_after=*/true);
      if (!at.ok()) return ctx.Fail(at.status());
      next = std::max<std::uint64_t>(*at, 1);
    }
  }
  while (!g_follow_stop.load()) {
    if (Status s = log.CatchUp(); !s.ok()) return ctx.Fail(s);
    const std::uint64_t head = log.last_seq();
    if (head >= next) {
      Status s = log.Scan(next, head, [&](const Event& e, const Decision* d) {
        emit(e, d);
        next = e.seq + 1;
        return !CliContext::OutputFailed();
      });
      if (!s.ok()) return ctx.Fail(s);
      std::cout.flush();
      if (CliContext::OutputFailed())
        return CliContext::EndStreamOnClosedOutput() ? kExitOk : kExitFailure;
    }
    // A pipe whose reader left (`| head`) ends the stream now, not at the
    // next record's write.
    pollfd out{STDOUT_FILENO, 0, 0};
    if (poll(&out, 1, 0) == 1 && (out.revents & POLLERR) != 0) return kExitOk;
    timespec pause{
        0, static_cast<long>(std::chrono::nanoseconds(kFollowPoll).count())};
    nanosleep(&pause, nullptr);  // a signal ends it early
  }
  return kExitOk;
}

}  // namespace

int RunLog(CliContext& ctx, const LogOptions& o) {
  if (!o.side.empty() && o.side != "ldap" && o.side != "mail") {
    std::cerr << "dirledger: --side must be ldap or mail\n";
    return kExitUsage;
  }
  auto emit_line = [&](const Event& e, const Decision* d) {
    if (!o.side.empty() && EventSide(e) != o.side) return;
    if (o.json)
      CliContext::JsonLine(EventJson(e, d));
    else
      std::cout << EventLine(e, d) << "\n";
  };
  if (o.follow) return FollowLog(ctx, o, emit_line);
  EventLog* log = ctx.OpenLog(/*read_only=*/true);
  if (!log) return ctx.OpenFailedExit();
  std::uint64_t from = 1, to = log->last_seq();
  if (!o.since.empty()) {
    Status s = Bound(*log, o.since, true, &from);
    if (!s.ok()) return ctx.Fail(s);
  }
  if (!o.until.empty()) {
    Status s = Bound(*log, o.until, false, &to);
    if (!s.ok()) return ctx.Fail(s);
  }
  auto emit = emit_line;
  if (!o.object.empty()) {
    std::set<std::uint64_t> seqs;
    std::set<std::string> ids;
    Status s = ObjectSeqs(*log, o.object, &seqs, &ids);
    if (!s.ok()) return ctx.Fail(s);
    for (std::uint64_t seq : seqs) {
      if (seq < from || seq > to) continue;
      Event e;
      Decision d;
      s = log->ReadEvent(seq, &e);
      if (!s.ok()) return ctx.Fail(s);
      const bool has = log->ReadDecision(seq, &d).ok();
      emit(e, has ? &d : nullptr);
    }
    return kExitOk;
  }
  if (from > to) return kExitOk;
  Status s = log->Scan(from, to, [&](const Event& e, const Decision* d) {
    emit(e, d);
    return !CliContext::OutputFailed();  // main reports the failed write
  });
  if (!s.ok()) return ctx.Fail(s);
  return kExitOk;
}

int RunExplain(CliContext& ctx, const ExplainOptions& o) {
  EventLog* log = ctx.OpenLog(/*read_only=*/true);
  if (!log) return ctx.OpenFailedExit();
  std::set<std::uint64_t> seqs;
  std::set<std::string> ids;
  Status s = ObjectSeqs(*log, o.id, &seqs, &ids);
  if (!s.ok()) return ctx.Fail(s);
  if (seqs.empty()) {
    std::cerr << "dirledger: no event in the log concerns \"" << ValueText(o.id)
              << "\" (give a mail address, a DN, an entryUUID or an "
                 "objectGUID)\n";
    return kExitFailure;
  }
  if (!o.json) {
    std::cout << "History of " << ValueText(o.id) << " (" << seqs.size()
              << " events; ids:";
    for (const auto& id : ids) std::cout << " " << ValueText(id);
    std::cout << ")\n\n";
  }
  int skipped = 0;
  for (std::uint64_t seq : seqs) {
    Event e;
    Decision d;
    s = log->ReadEvent(seq, &e);
    if (!s.ok()) {
      // Readers report damage; explain skips it and says so.
      ++skipped;
      std::cerr << "dirledger: skipping " << s.message() << "\n";
      continue;
    }
    const bool has = log->ReadDecision(seq, &d).ok();
    if (o.json)
      CliContext::JsonLine(EventJson(e, has ? &d : nullptr));
    else
      std::cout << EventBlock(e, has ? &d : nullptr) << "\n";
  }
  if (!o.json) {
    // The object as it stands now, on each side.
    for (const std::string& id : ids) {
      for (Side side : {Side::kLdap, Side::kMail})
        for (ObjectKind k : {ObjectKind::kAccount, ObjectKind::kGroup})
          if (auto obj = log->projection().GetObject(side, k, id)) {
            std::cout << "Now on " << SideName(side) << ": " << KindName(k)
                      << " " << ValueText(obj->dn.empty() ? obj->id : obj->dn)
                      << " (version " << obj->version << ")\n";
            for (const Attribute& a : obj->attrs) {
              std::cout << "  " << PrintableText(a.name) << ":";
              for (const auto& v : a.values)
                std::cout << " "
                          << (IsValidUtf8(v) ? PrintableText(v) : "<binary>");
              std::cout << "\n";
            }
          }
    }
  }
  return skipped ? kExitFailure : kExitOk;
}

}  // namespace dirledger::cli

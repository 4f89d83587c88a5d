// Replay rate: how fast `verify` / `replay` re-derive decisions from a log.
// The history is realistic for syncrepl into the mail directory
// (ldap_to_axigen): 10,000 inetOrgPerson entries of about a dozen attributes
// (codecs/test_events.h) are added, then changed three times over, one
// attribute per change; every change is decided, its mail write's outcome
// and the mail poller's report of it (the echo) follow, with a cursor
// advance per 1,000 events. Each replayed event is decoded (verified),
// decided against the in-memory projection, encoded and compared byte for
// byte with its recorded decision, and its projection delta applied.
//
//   BM_ReplayFromMemory: the stored records held in memory.
//   BM_ReplayFromRocksDb: the same log written with storage/EventLog, then
//     read back with EventLog::Scan (verified records, hash chain intact).
//   BM_DecideOnly: the reconciler alone on pre-decoded events.
//   BM_CodecOnly: the record work alone, no reconciler: each event decoded
//     (verified) and its recorded decision encoded again and compared; the
//     floor of a replay with these record formats.
//
// One core. Run:
//   build/tools/bench/replay_bench --benchmark_min_time=3
//
// `replay_bench --fingerprint` prints the SHA-256 of the history's events,
// of its decisions and of the projection it leaves, and exits: an
// optimization of the reconciler must leave all three unchanged.
//
// The replay loops are functions of their own (ReplayAll, DecideAll) so a
// profiler can measure them alone, e.g.
//   valgrind --tool=callgrind --toggle-collect='*DecideAll*'
//     build/tools/bench/replay_bench --benchmark_filter=DecideOnly
//   (one command line)
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "codecs/config.h"
#include "codecs/event_codec.h"
#include "codecs/sha256.h"
#include "codecs/test_events.h"
#include "replay/intent_writes.h"
#include "replay/reconciler.h"
#include "replay/replayer.h"
#include "storage/event_log.h"

namespace dirledger {
namespace {

constexpr int kPeople = 10000;
constexpr int kRounds = 3;
constexpr int kBatch = 1000;

const char* kConfig = R"(
data_dir = "./data"
[[connector]]
name = "corp"
server_type = "openldap"
uris = ["ldap://127.0.0.1:3890"]
direction = "ldap_to_axigen"
account_base_dn = "ou=people,%D"
[[domain]]
name = "example.com"
ldap_sync = true
connector = "corp"
)";

struct History {
  std::vector<Event> events;
  std::vector<Decision> decisions;
  std::vector<std::string> event_bytes;
  std::vector<std::string> decision_bytes;
};

// Builds the history by deciding it, as intake would, and simulating the
// mail side's applier and poller.
History Build() {
  History h;
  Replayer decider(ReplayOptions{0, {}, false});
  std::map<std::string, AttrList> mail;  // address -> fields
  std::vector<Intent> pending;
  auto feed = [&](EventBody body) {
    Event e;
    e.seq = h.events.size() + 1;
    e.body = std::move(body);
    if (!decider.Feed(e, nullptr).ok()) std::abort();
    for (const Intent& i : decider.last_decision().intents)
      pending.push_back(i);
    h.decisions.push_back(decider.last_decision());
    h.events.push_back(std::move(e));
  };
  auto cursor = [&](int n) {
    feed(CursorAdvance{"corp/syncrepl", "rid=000,csn=" + std::to_string(n)});
  };
  // The mail writer applies every pending intent; the poller reports each
  // account it changed.
  auto apply_and_echo = [&] {
    std::vector<std::string> touched;
    for (const Intent& i : pending) {
      AttrList& a = mail[i.target_id];
      ApplyWrites(i, &a);
      WriteOutcome o;
      o.intent_id = i.id;
      o.ok = true;
      o.side = i.target;
      o.target_id = i.target_id;
      o.attempts = 1;
      feed(o);
      touched.push_back(i.target_id);
    }
    pending.clear();
    for (const std::string& address : touched) {
      ObservedChange c;
      c.side = Side::kMail;
      c.source = "mail/embedded";
      c.domain = "example.com";
      c.id = address;
      c.full_image = true;
      c.attrs = mail[address];
      feed(std::move(c));
    }
  };
  auto config = ParseConfig(kConfig, "dirledger.toml");
  feed(MakeConfigChange(*config, kConfig));
  for (int start = 0; start < kPeople; start += kBatch) {
    for (int n = start; n < start + kBatch; ++n)
      feed(testing::PersonChange(n, ChangeOp::kAdd));
    cursor(start);
    apply_and_echo();
  }
  for (int round = 1; round <= kRounds; ++round) {
    for (int start = 0; start < kPeople; start += kBatch) {
      for (int n = start; n < start + kBatch; ++n) {
        ObservedChange c = testing::PersonChange(n);
        SetAttr(&c.attrs, (n + round) % 2 ? "title" : "telephoneNumber",
                {"changed " + std::to_string(round)});
        feed(std::move(c));
      }
      cursor(round * kPeople + start);
      apply_and_echo();
    }
  }
  for (size_t i = 0; i < h.events.size(); ++i) {
    h.event_bytes.push_back(EncodeEvent(h.events[i]));
    h.decision_bytes.push_back(EncodeDecision(h.decisions[i]));
  }
  return h;
}

const History& TheHistory() {
  static const History h = Build();
  return h;
}

// Replays the stored records; returns the number of differences (or -1 on
// an error).
[[gnu::noinline]] std::int64_t ReplayAll(const History& h) {
  Replayer r;
  for (size_t i = 0; i < h.events.size(); ++i)
    if (!r.FeedEncoded(i + 1, h.event_bytes[i], h.decision_bytes[i]).ok())
      return -1;
  return static_cast<std::int64_t>(r.differences());
}

// Decodes every event and encodes every recorded decision again; returns
// the number of decisions that differ from their stored bytes.
[[gnu::noinline]] std::int64_t CodecAll(const History& h) {
  Event e;
  DecisionEncoder encoder;
  std::int64_t differ = 0;
  for (size_t i = 0; i < h.events.size(); ++i) {
    if (!DecodeEvent(h.event_bytes[i], i + 1, &e).ok()) return -1;
    differ += encoder.Encode(h.decisions[i]) != h.decision_bytes[i];
  }
  return differ;
}

// Decides every event with the reconciler alone.
[[gnu::noinline]] void DecideAll(const History& h, const RuleSet& rules,
                                 InMemoryProjection* p) {
  Decision d;
  StateDelta delta;
  ReconcileScratch scratch;
  for (const Event& e : h.events) {
    Reconcile(*p, e, rules, &d, &delta, &scratch);
    p->Apply(std::move(delta));
  }
  benchmark::DoNotOptimize(d);
}

void BM_ReplayFromMemory(benchmark::State& state) {
  const History& h = TheHistory();
  for (auto _ : state)
    if (ReplayAll(h) != 0) state.SkipWithError("replay failed or differs");
  state.SetItemsProcessed(state.iterations() *
                          static_cast<int64_t>(h.events.size()));
}

void BM_ReplayFromRocksDb(benchmark::State& state) {
  const History& h = TheHistory();
  char templ[] = "/tmp/dirledger-replay-bench-XXXXXX";
  const std::string dir = mkdtemp(templ);
  {
    LogOptions o;
    o.sync = false;
    auto log = std::move(EventLog::Open(dir + "/log", o)).value();
    for (size_t i = 0; i < h.events.size();) {
      auto txn = std::move(log->Begin()).value();
      for (size_t k = 0; k < 1000 && i < h.events.size(); ++k, ++i) {
        Event e = h.events[i];
        if (!txn->Add(&e, &h.decisions[i]).ok()) std::abort();
      }
      if (!txn->Commit().ok()) std::abort();
    }
    if (!log->Flush().ok()) std::abort();
    for (auto _ : state) {
      Replayer r;
      Status feed;
      Status s =
          log->Scan(1, log->last_seq(), [&](const Event& e, const Decision* d) {
            feed = r.Feed(e, d);
            return feed.ok();
          });
      if (!s.ok() || !feed.ok() || r.differences() != 0)
        state.SkipWithError("replay failed or differs");
    }
  }
  std::filesystem::remove_all(dir);
  state.SetItemsProcessed(state.iterations() *
                          static_cast<int64_t>(h.events.size()));
}

void BM_DecideOnly(benchmark::State& state) {
  const History& h = TheHistory();
  auto config = ParseConfig(kConfig, "dirledger.toml");
  auto rules = std::move(RuleSet::Compile(*config)).value();
  for (auto _ : state) {
    InMemoryProjection p;
    DecideAll(h, *rules, &p);
  }
  state.SetItemsProcessed(state.iterations() *
                          static_cast<int64_t>(h.events.size()));
}

void BM_CodecOnly(benchmark::State& state) {
  const History& h = TheHistory();
  for (auto _ : state)
    if (CodecAll(h) != 0) state.SkipWithError("codec round trip differs");
  state.SetItemsProcessed(state.iterations() *
                          static_cast<int64_t>(h.events.size()));
}

// The SHA-256 (hex) of the history's events, of its decisions and of the
// projection a replay leaves, one per line.
int PrintFingerprint() {
  const History& h = TheHistory();
  Sha256Hasher events, decisions, projection;
  for (size_t i = 0; i < h.events.size(); ++i) {
    events.Update(h.event_bytes[i]);
    decisions.Update(h.decision_bytes[i]);
  }
  Replayer r;
  for (size_t i = 0; i < h.events.size(); ++i)
    if (!r.FeedEncoded(i + 1, h.event_bytes[i], h.decision_bytes[i]).ok())
      return 1;
  if (r.differences() != 0) {
    std::fprintf(stderr, "replay differs:\n%s",
                 r.first_difference()->ToString().c_str());
    return 1;
  }
  const InMemoryProjection& p = r.projection();
  auto put = [&](const std::string& record) {
    projection.Update(record);
    return true;
  };
  // In memory (InMemoryProjection): its listings cannot fail.
  for (Side side : {Side::kLdap, Side::kMail})
    (void)p.ForEachObject(
        side, [&](const ObjectState& o) { return put(EncodeObjectState(o)); });
  (void)p.ForEachLink(
      [&](const LinkState& l) { return put(EncodeLinkState(l)); });
  (void)p.ForEachPending(
      [&](const PendingIntent& x) { return put(EncodePendingIntent(x)); });
  (void)p.ForEachConflict(
      [&](const ConflictState& c) { return put(EncodeConflictState(c)); });
  (void)p.ForEachHold(
      [&](const HoldState& x) { return put(EncodeHoldState(x)); });
  (void)p.ForEachDrift(
      [&](const DriftState& d) { return put(EncodeDriftState(d)); });
  (void)p.ForEachWait(
      [&](Side side, std::string_view key, std::string_view waiter) {
        return put(std::string(SideName(side)) + "/" + std::string(key) + "/" +
                   std::string(waiter));
      });
  std::printf("events     %s\ndecisions  %s\nprojection %s\n",
              HexEncode(events.Finish()).c_str(),
              HexEncode(decisions.Finish()).c_str(),
              HexEncode(projection.Finish()).c_str());
  return 0;
}

BENCHMARK(BM_ReplayFromMemory)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ReplayFromRocksDb)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_DecideOnly)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_CodecOnly)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace dirledger

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "--fingerprint") == 0)
    return dirledger::PrintFingerprint();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

// Append throughput of the log: realistic events (an inetOrgPerson change of
// about a dozen attributes, as syncrepl reports it), 1,000 per WriteBatch,
// with the WAL on. Each event is encoded, hashed into the chain and indexed
// under its id and DN (by_object), with a decision beside it: four keys per
// event, and the cursor and the log head per batch. Run:
//   build/tools/bench/append_bench --benchmark_min_time=2 \
//     --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
// The figure is the wall-clock rate (UseRealTime), fsync'ed or not.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>

#include "codecs/test_events.h"
#include "storage/event_log.h"

namespace dirledger {
namespace {

void Append(benchmark::State& state, bool sync, bool with_decision) {
  char templ[] = "/tmp/dirledger-bench-XXXXXX";
  const std::string dir = mkdtemp(templ);
  {
    LogOptions o;
    o.sync = sync;
    auto log = std::move(EventLog::Open(dir + "/log", o)).value();
    const int batch = static_cast<int>(state.range(0));
    int n = 0;
    std::vector<ObservedChange> changes;
    for (int i = 0; i < 4096; ++i) changes.push_back(testing::PersonChange(i));
    Decision d;
    d.rule = "direction/ldap_to_axigen";
    d.outcome = Outcome::kNoChange;
    d.reason = "no mapped field changed";
    std::vector<Event> events(static_cast<size_t>(batch));
    std::vector<std::string> dn(1);
    for (auto _ : state) {
      // The events arrive from a source: making them is not the log's work.
      state.PauseTiming();
      for (Event& e : events) e.body = changes[static_cast<size_t>(n++ & 4095)];
      state.ResumeTiming();
      auto txn = std::move(log->Begin()).value();
      for (Event& e : events) {
        e.seq = txn->NextSeq();
        d.seq = e.seq;
        dn[0] = std::get<ObservedChange>(e.body).dn;
        if (!txn->Add(&e, with_decision ? &d : nullptr, dn).ok())
          state.SkipWithError("append failed");
      }
      if (!txn->PutCursor("corp/syncrepl", "rid=000,csn=" + std::to_string(n))
               .ok())
        state.SkipWithError("cursor failed");
      if (!txn->Commit().ok()) state.SkipWithError("commit failed");
    }
    state.SetItemsProcessed(state.iterations() * batch);
  }
  std::filesystem::remove_all(dir);
}

void BM_AppendWalNoSync(benchmark::State& s) { Append(s, false, true); }
void BM_AppendWalFsync(benchmark::State& s) { Append(s, true, true); }
void BM_AppendEventsOnly(benchmark::State& s) { Append(s, false, false); }

BENCHMARK(BM_AppendWalNoSync)
    ->Arg(1000)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_AppendWalFsync)
    ->Arg(1000)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_AppendEventsOnly)
    ->Arg(1000)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace dirledger

BENCHMARK_MAIN();

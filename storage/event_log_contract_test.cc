// The EventLog contract (storage/event_log.h), checked the same way against
// both implementations: RocksEventLog in a temp dir and MemoryEventLog. The
// code above the log is tested against either, so what one does the other
// must do, down to the stored bytes of each record.
#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "codecs/event_codec.h"
#include "codecs/sha256.h"
#include "codecs/test_events.h"
#include "storage/event_log.h"
#include "storage/memory_event_log.h"
#include "storage/record_read_ahead.h"
#include "storage/test_util.h"

namespace dirledger {
namespace {

class FixedClock : public Clock {
 public:
  std::int64_t NowMicros() override { return now_ += 1000; }
  std::int64_t now_ = 1'700'000'000'000'000;
};

enum class Kind { kRocks, kMemory };

const char* Name(Kind k) { return k == Kind::kRocks ? "rocksdb" : "memory"; }

// One log of either kind, with a clock of its own and an optional stored
// read fault.
struct LogUnderTest {
  explicit LogUnderTest(Kind k) : kind(k) { Open(); }

  void Open() {
    LogOptions o;
    o.clock = &clock;
    o.sync = false;
    o.read_fault = [this](std::string_view what) {
      return fault ? fault(what) : Status::Ok();
    };
    if (kind == Kind::kMemory) {
      log = std::make_unique<MemoryEventLog>(o);
      return;
    }
    auto opened = EventLog::Open(tmp.path(), o);
    REQUIRE(opened.ok());
    log = std::move(opened).value();
  }

  // Replaces the stored bytes of record `seq`, as a disk fault or an
  // attacker with the files would.
  void Damage(std::uint64_t seq, const std::string& raw) {
    if (kind == Kind::kMemory) {
      REQUIRE(static_cast<MemoryEventLog*>(log.get())
                  ->ReplaceRawForTest(seq, raw)
                  .ok());
      return;
    }
    log.reset();
    REQUIRE(test::OverwriteLogRecord(tmp.path(), seq, raw).ok());
    Open();
  }

  Kind kind;
  test::TempDir tmp;
  FixedClock clock;
  std::function<Status(std::string_view)> fault;
  std::unique_ptr<EventLog> log;
};

ObjectState Account(const std::string& id) {
  ObjectState o;
  o.side = Side::kLdap;
  o.kind = ObjectKind::kAccount;
  o.id = id;
  o.dn = "uid=" + id + ",ou=people,dc=example,dc=com";
  o.domain = "example.com";
  o.connector = "corp";
  return o;
}

bool HasAccount(const ProjectionStore& p, const std::string& id) {
  return p.GetObject(Side::kLdap, ObjectKind::kAccount, id).has_value();
}

// Adds person `n`'s change with a decision, and puts the account `id` of
// the same name into the transaction's projection.
void AddPerson(LogTransaction* txn, int n) {
  Event e;
  e.seq = txn->NextSeq();
  e.body = testing::PersonChange(n);
  Decision d;
  d.seq = e.seq;
  d.rule = "test/person";
  d.outcome = Outcome::kRecorded;
  d.reason = "person " + std::to_string(n);
  REQUIRE(txn->Add(&e, &d, {testing::PersonChange(n).dn}).ok());
  StateDelta delta;
  delta.mutations.push_back(PutObject{Account("p" + std::to_string(n))});
  REQUIRE(txn->projection().Apply(delta).ok());
}

void AppendPeople(EventLog* log, int first, int n) {
  auto txn = log->Begin();
  REQUIRE(txn.ok());
  for (int i = first; i < first + n; ++i) AddPerson(txn->get(), i);
  REQUIRE((*txn)->Commit().ok());
}

void AddCursor(LogTransaction* txn, const std::string& cookie) {
  Event e;
  e.seq = txn->NextSeq();
  e.body = CursorAdvance{"corp/syncrepl", cookie};
  REQUIRE(txn->Add(&e, nullptr).ok());
  REQUIRE(txn->PutCursor("corp/syncrepl", cookie).ok());
}

}  // namespace

TEST_CASE("contract: events are chained, read back whole and verified",
          "[contract]") {
  const Kind kind = GENERATE(Kind::kRocks, Kind::kMemory);
  INFO(Name(kind));
  LogUnderTest t(kind);
  EventLog& log = *t.log;
  CHECK(log.last_seq() == 0);
  CHECK(log.head_hash() == std::string(kSha256Size, '\0'));
  AppendPeople(&log, 1, 3);
  AppendPeople(&log, 4, 2);
  REQUIRE(log.last_seq() == 5);

  std::string prev_digest(kSha256Size, '\0');
  for (std::uint64_t seq = 1; seq <= 5; ++seq) {
    Event e;
    REQUIRE(log.ReadEvent(seq, &e).ok());
    CHECK(e.seq == seq);
    CHECK(e.prev_hash == prev_digest);
    CHECK(e.time_us > 0);
    const auto* c = std::get_if<ObservedChange>(&e.body);
    REQUIRE(c);
    CHECK(c->dn == testing::PersonChange(static_cast<int>(seq)).dn);
    CHECK(c->attrs == testing::PersonChange(static_cast<int>(seq)).attrs);
    Decision d;
    REQUIRE(log.ReadDecision(seq, &d).ok());
    CHECK(d.reason == "person " + std::to_string(seq));
    std::string raw;
    REQUIRE(log.ReadRaw(seq, &raw).ok());
    prev_digest = raw.substr(raw.size() - kSha256Size);
  }
  CHECK(log.head_hash() == prev_digest);
  Event none;
  CHECK(log.ReadEvent(6, &none).IsNotFound());

  std::vector<std::uint64_t> seen;
  REQUIRE(log.Scan(2, 4,
                   [&](const Event& e, const Decision* d) {
                     CHECK(d != nullptr);
                     seen.push_back(e.seq);
                     return true;
                   })
              .ok());
  CHECK(seen == std::vector<std::uint64_t>{2, 3, 4});

  ChainReport report;
  REQUIRE(log.VerifyChain(&report).ok());
  CHECK(report.records == 5);
  CHECK(report.first_bad_seq == 0);
  CHECK(report.head_hash == HexEncode(prev_digest));
}

TEST_CASE("contract: both logs store the same bytes for the same events",
          "[contract]") {
  LogUnderTest rocks(Kind::kRocks), memory(Kind::kMemory);
  for (LogUnderTest* t : {&rocks, &memory}) {
    AppendPeople(t->log.get(), 1, 4);
    auto txn = t->log->Begin();
    REQUIRE(txn.ok());
    AddCursor(txn->get(), "rid=000,csn=1");
    REQUIRE(t->log->Submit(std::move(*txn)).ok());
    REQUIRE(t->log->WaitCommitted().ok());
  }
  REQUIRE(rocks.log->last_seq() == 5);
  REQUIRE(memory.log->last_seq() == 5);
  for (std::uint64_t seq = 1; seq <= 5; ++seq) {
    std::string a, b;
    REQUIRE(rocks.log->ReadRaw(seq, &a).ok());
    REQUIRE(memory.log->ReadRaw(seq, &b).ok());
    CHECK(a == b);
  }
  CHECK(rocks.log->head_hash() == memory.log->head_hash());
  std::vector<std::string> derived[2];
  int i = 0;
  for (LogUnderTest* t : {&rocks, &memory}) {
    REQUIRE(
        t->log
            ->ScanDerivedFamily(EventLog::DerivedFamily::kState,
                                [&](std::string_view k, std::string_view v) {
                                  derived[i].push_back(std::string(k) + "=" +
                                                       std::string(v));
                                  return true;
                                })
            .ok());
    ++i;
  }
  CHECK(!derived[0].empty());
  CHECK(derived[0] == derived[1]);
}

TEST_CASE(
    "contract: a transaction reads its own writes, the next what was "
    "committed or submitted; a dropped one leaves nothing",
    "[contract]") {
  const Kind kind = GENERATE(Kind::kRocks, Kind::kMemory);
  INFO(Name(kind));
  LogUnderTest t(kind);
  EventLog& log = *t.log;

  auto first = log.Begin();
  REQUIRE(first.ok());
  AddPerson(first->get(), 1);
  CHECK(HasAccount((*first)->projection(), "p1"));
  CHECK_FALSE(HasAccount(log.projection(), "p1"));
  CHECK(log.last_seq() == 0);
  auto second = log.Begin();
  CHECK_FALSE(second.ok());  // one transaction at a time
  REQUIRE((*first)->Commit().ok());
  first->reset();  // the next begins once this one is gone
  CHECK(HasAccount(log.projection(), "p1"));
  CHECK(log.last_seq() == 1);

  // Submitted: the next transaction reads its writes and follows it.
  auto submitted = log.Begin();
  REQUIRE(submitted.ok());
  AddPerson(submitted->get(), 2);
  REQUIRE(log.Submit(std::move(*submitted)).ok());
  auto next = log.Begin();
  REQUIRE(next.ok());
  CHECK((*next)->NextSeq() == 3);
  CHECK(HasAccount((*next)->projection(), "p2"));
  StateDelta erase;
  erase.mutations.push_back(
      EraseObject{Side::kLdap, ObjectKind::kAccount, "p1"});
  REQUIRE((*next)->projection().Apply(erase).ok());
  CHECK_FALSE(HasAccount((*next)->projection(), "p1"));
  // The tail the next transaction begins from, before it commits.
  bool tail_has_p2 = false;
  log.ReadTail(
      [&](const ProjectionStore& p) { tail_has_p2 = HasAccount(p, "p2"); });
  CHECK(tail_has_p2);
  AddPerson(next->get(), 3);
  REQUIRE((*next)->Commit().ok());
  next->reset();
  REQUIRE(log.WaitCommitted().ok());
  CHECK(log.last_seq() == 3);
  CHECK_FALSE(HasAccount(log.projection(), "p1"));
  CHECK(HasAccount(log.projection(), "p3"));

  // Dropped: neither its events nor its projection writes exist.
  {
    auto dropped = log.Begin();
    REQUIRE(dropped.ok());
    AddPerson(dropped->get(), 4);
  }
  CHECK(log.last_seq() == 3);
  CHECK_FALSE(HasAccount(log.projection(), "p4"));
  auto after = log.Begin();
  REQUIRE(after.ok());
  CHECK((*after)->NextSeq() == 4);
  CHECK_FALSE(HasAccount((*after)->projection(), "p4"));

  // A transaction is committed once.
  AddPerson(after->get(), 5);
  REQUIRE((*after)->Commit().ok());
  CHECK_FALSE((*after)->Commit().ok());
}

TEST_CASE("contract: cursors, config history, object index, source status",
          "[contract]") {
  const Kind kind = GENERATE(Kind::kRocks, Kind::kMemory);
  INFO(Name(kind));
  LogUnderTest t(kind);
  EventLog& log = *t.log;
  std::string cookie;
  CHECK(log.GetCursor("corp/syncrepl", &cookie).IsNotFound());

  auto txn = log.Begin();
  REQUIRE(txn.ok());
  Event config;
  config.seq = (*txn)->NextSeq();
  ConfigChange cc;
  cc.text = "data_dir = \"/x\"\n";
  cc.sha256 = std::string(kSha256Size, '\x07');
  config.body = cc;
  REQUIRE((*txn)->Add(&config, nullptr).ok());
  AddPerson(txn->get(), 7);
  AddPerson(txn->get(), 8);
  AddCursor(txn->get(), "rid=000,csn=2");
  REQUIRE((*txn)->Commit().ok());

  REQUIRE(log.GetCursor("corp/syncrepl", &cookie).ok());
  CHECK(cookie == "rid=000,csn=2");
  int cursors = 0;
  REQUIRE(log.ForEachCursor([&](std::string_view s, std::string_view c) {
               CHECK(s == "corp/syncrepl");
               CHECK(c == "rid=000,csn=2");
               ++cursors;
             })
              .ok());
  CHECK(cursors == 1);

  std::vector<EventLog::ConfigRecord> history;
  REQUIRE(log.ConfigHistory(&history).ok());
  REQUIRE(history.size() == 1);
  CHECK(history[0].seq == 1);
  CHECK(history[0].sha256 == cc.sha256);

  // Indexed under the DN given and the changed object's id, whatever the
  // case of the asking.
  std::vector<std::uint64_t> seqs;
  std::string dn = testing::PersonChange(8).dn;
  for (char& ch : dn) ch = static_cast<char>(std::toupper(ch));
  REQUIRE(log.SeqsForObject(dn, &seqs).ok());
  CHECK(seqs == std::vector<std::uint64_t>{3});
  seqs.clear();
  REQUIRE(log.SeqsForObject(testing::PersonChange(7).id, &seqs).ok());
  CHECK(seqs == std::vector<std::uint64_t>{2});

  SourceStatus s;
  REQUIRE(log.GetSourceStatus("corp/syncrepl", &s).ok());
  CHECK(s.events == 3);  // two changes and the cursor's advance
  CHECK(s.last_seq == 4);
  CHECK(s.last_error.empty());
  REQUIRE(log.NoteSourceContact("corp/syncrepl", "server down").ok());
  REQUIRE(log.GetSourceStatus("corp/syncrepl", &s).ok());
  CHECK(s.last_error == "server down");
  CHECK(s.events == 3);
  CHECK(log.GetSourceStatus("nobody", &s).IsNotFound());
}

TEST_CASE("contract: a stored cursor the chain does not record is named",
          "[contract]") {
  const Kind kind = GENERATE(Kind::kRocks, Kind::kMemory);
  INFO(Name(kind));
  LogUnderTest t(kind);
  EventLog& log = *t.log;
  AppendPeople(&log, 1, 2);
  auto txn = log.Begin();
  REQUIRE(txn.ok());
  AddCursor(txn->get(), "rid=000,csn=3");
  REQUIRE((*txn)->Commit().ok());
  txn->reset();
  ChainReport report;
  REQUIRE(log.VerifyChain(&report).ok());
  CHECK(report.cursors_checked == 1);

  // A cursor moved without its CursorAdvance.
  auto moved = log.Begin();
  REQUIRE(moved.ok());
  REQUIRE((*moved)->PutCursor("corp/syncrepl", "rid=000,csn=9").ok());
  REQUIRE((*moved)->Commit().ok());
  const Status s = log.VerifyChain(&report);
  CHECK(s.IsCorruption());
  CHECK(report.first_bad_seq == 3);
}

TEST_CASE("contract: a damaged record is named, never returned", "[contract]") {
  const Kind kind = GENERATE(Kind::kRocks, Kind::kMemory);
  INFO(Name(kind));
  LogUnderTest t(kind);
  AppendPeople(t.log.get(), 1, 3);
  std::string raw;
  REQUIRE(t.log->ReadRaw(2, &raw).ok());
  raw[raw.size() / 2] ^= 0x01;
  t.Damage(2, raw);
  Event e;
  const Status read = t.log->ReadEvent(2, &e);
  CHECK(read.IsCorruption());
  CHECK(read.message().find('2') != std::string::npos);
  ChainReport report;
  CHECK(t.log->VerifyChain(&report).IsCorruption());
  CHECK(report.first_bad_seq == 2);
  std::uint64_t visited = 0;
  CHECK(t.log
            ->Scan(1, 3,
                   [&](const Event&, const Decision*) {
                     ++visited;
                     return true;
                   })
            .IsCorruption());
  CHECK(visited == 1);
}

TEST_CASE("contract: read faults reach the reader beside the sync",
          "[contract]") {
  const Kind kind = GENERATE(Kind::kRocks, Kind::kMemory);
  INFO(Name(kind));
  LogUnderTest t(kind);
  AppendPeople(t.log.get(), 1, 1);
  auto txn = t.log->Begin();
  REQUIRE(txn.ok());
  AddCursor(txn->get(), "c1");
  REQUIRE((*txn)->Commit().ok());
  txn->reset();

  t.fault = [](std::string_view what) {
    return what == "cursor corp/syncrepl" || what == "projection read"
               ? Status::IOError("disk said no")
               : Status::Ok();
  };
  std::string cookie;
  const Status c = t.log->GetCursor("corp/syncrepl", &cookie);
  CHECK(c.code() == StatusCode::kIOError);
  CHECK(c.message().find("reading the cursor of corp/syncrepl") !=
        std::string::npos);
  auto read =
      t.log->projection().ReadObject(Side::kLdap, ObjectKind::kAccount, "p1");
  CHECK_FALSE(read.ok());
  // The committed view keeps the error for its reader to check.
  CHECK_FALSE(HasAccount(t.log->projection(), "p1"));
  CHECK_FALSE(t.log->projection().status().ok());
  t.fault = nullptr;
}

TEST_CASE(
    "contract: derived records are listed, and cleared with the "
    "projection",
    "[contract]") {
  const Kind kind = GENERATE(Kind::kRocks, Kind::kMemory);
  INFO(Name(kind));
  LogUnderTest t(kind);
  AppendPeople(t.log.get(), 1, 2);
  auto count = [&](EventLog::DerivedFamily f) {
    int n = 0;
    REQUIRE(t.log
                ->ScanDerivedFamily(f,
                                    [&](std::string_view, std::string_view) {
                                      ++n;
                                      return true;
                                    })
                .ok());
    return n;
  };
  REQUIRE(t.log->WaitCommitted().ok());
  std::vector<std::uint64_t> seqs;  // waits for the index to be written
  REQUIRE(t.log->SeqsForObject(testing::PersonChange(1).id, &seqs).ok());
  CHECK(count(EventLog::DerivedFamily::kState) > 0);
  CHECK(count(EventLog::DerivedFamily::kObjectIndex) > 0);
  CHECK(t.log->index_through() <= t.log->last_seq());
  REQUIRE(t.log->ClearProjection().ok());
  CHECK(count(EventLog::DerivedFamily::kState) == 0);
  CHECK(count(EventLog::DerivedFamily::kLinks) == 0);
  CHECK_FALSE(HasAccount(t.log->projection(), "p1"));
  CHECK(t.log->last_seq() == 2);  // the log itself stays
}

TEST_CASE("contract: a reader beside the writer sees whole transactions",
          "[contract]") {
  const Kind kind = GENERATE(Kind::kRocks, Kind::kMemory);
  INFO(Name(kind));
  LogUnderTest t(kind);
  EventLog& log = *t.log;
  constexpr int kBatches = 40, kPerBatch = 5;
  std::atomic<bool> done{false};
  std::atomic<int> bad{0}, reads{0};
  std::thread reader([&] {
    std::uint64_t seen = 0;
    while (!done.load()) {
      const std::uint64_t last = log.last_seq();
      if (last < seen || last % kPerBatch != 0) ++bad;  // never half a batch
      seen = last;
      for (std::uint64_t seq = last > 3 ? last - 3 : 1; seq <= last; ++seq) {
        Event e;
        if (!log.ReadEvent(seq, &e).ok()) ++bad;
      }
      // The projection's records of a committed batch are all there.
      if (last > 0 && !HasAccount(log.projection(), "p" + std::to_string(last)))
        ++bad;
      ++reads;
    }
  });
  for (int b = 0; b < kBatches; ++b) {
    auto txn = log.Begin();
    REQUIRE(txn.ok());
    for (int i = 1; i <= kPerBatch; ++i)
      AddPerson(txn->get(), b * kPerBatch + i);
    if (b % 2) {
      REQUIRE(log.Submit(std::move(*txn)).ok());
    } else {
      REQUIRE((*txn)->Commit().ok());
    }
  }
  REQUIRE(log.WaitCommitted().ok());
  while (reads.load() < 3) std::this_thread::yield();
  done = true;
  reader.join();
  CHECK(bad.load() == 0);
  CHECK(log.last_seq() == kBatches * kPerBatch);
}

namespace {

// What a record scan saw: (seq, event bytes, decision bytes or "-").
using Seen = std::vector<std::tuple<std::uint64_t, std::string, std::string>>;

EventLog::RecordFn Collect(Seen* seen, std::uint64_t stop_after = 0) {
  return [seen, stop_after](std::uint64_t seq, std::string_view event,
                            const std::string_view* decision) {
    seen->emplace_back(seq, std::string(event),
                       decision ? std::string(*decision) : "-");
    return stop_after == 0 || seen->size() < stop_after;
  };
}

// 2,600 records in three transactions (several read-ahead batches), every
// third a cursor event without a decision.
void AppendMixed(EventLog* log) {
  int n = 1;
  for (int t = 0; t < 3; ++t) {
    auto txn = log->Begin();
    REQUIRE(txn.ok());
    for (int i = 0; i < 867 && n <= 2600; ++i, ++n) {
      if (n % 3 == 0)
        AddCursor(txn->get(), "csn" + std::to_string(n));
      else
        AddPerson(txn->get(), n);
    }
    REQUIRE((*txn)->Commit().ok());
  }
}

}  // namespace

TEST_CASE("contract: records scanned ahead are the records scanned",
          "[contract][read-ahead]") {
  const Kind kind = GENERATE(Kind::kRocks, Kind::kMemory);
  INFO(Name(kind));
  LogUnderTest t(kind);
  AppendMixed(t.log.get());
  REQUIRE(t.log->last_seq() == 2600);
  const std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges = {
      {1, 2600}, {0, 5000}, {999, 2001}, {1000, 1000}, {2601, 3000}};
  for (const auto& [from, to] : ranges) {
    INFO("records " << from << " to " << to);
    Seen plain, ahead;
    REQUIRE(t.log->ScanRecords(from, to, Collect(&plain)).ok());
    REQUIRE(ScanRecordsAhead(*t.log, from, to, Collect(&ahead)).ok());
    CHECK(ahead == plain);
    const std::uint64_t first = from == 0 ? 1 : from;
    const std::uint64_t last = std::min<std::uint64_t>(to, 2600);
    CHECK(plain.size() == (last >= first ? last - first + 1 : 0));
  }
  // Decoded, the records are the events and decisions Scan gives.
  std::size_t decided = 0;
  REQUIRE(ScanRecordsAhead(*t.log, 1, 2600,
                           [&](std::uint64_t seq, std::string_view bytes,
                               const std::string_view* decision) {
                             Event e;
                             REQUIRE(DecodeEvent(bytes, seq, &e).ok());
                             CHECK(e.seq == seq);
                             CHECK((decision != nullptr) == (seq % 3 != 0));
                             decided += decision != nullptr;
                             return true;
                           })
              .ok());
  CHECK(decided == 2600 - 2600 / 3);
}

TEST_CASE("contract: a scan ahead stops where its reader stops",
          "[contract][read-ahead]") {
  const Kind kind = GENERATE(Kind::kRocks, Kind::kMemory);
  INFO(Name(kind));
  LogUnderTest t(kind);
  AppendMixed(t.log.get());
  for (std::uint64_t stop : {1u, 999u, 1000u, 1001u, 2599u}) {
    INFO("stopping after " << stop);
    Seen plain, ahead;
    REQUIRE(t.log->ScanRecords(1, 2600, Collect(&plain, stop)).ok());
    REQUIRE(ScanRecordsAhead(*t.log, 1, 2600, Collect(&ahead, stop)).ok());
    CHECK(ahead.size() == stop);
    CHECK(ahead == plain);
  }
}

TEST_CASE("contract: a scan ahead gives the records before a damaged one",
          "[contract][read-ahead]") {
  const Kind kind = GENERATE(Kind::kRocks, Kind::kMemory);
  INFO(Name(kind));
  LogUnderTest t(kind);
  AppendMixed(t.log.get());
  const std::uint64_t bad = GENERATE(1u, 1000u, 1001u, 2600u);
  INFO("record " << bad << " damaged");
  std::string raw;
  REQUIRE(t.log->ReadRaw(bad, &raw).ok());
  raw[raw.size() / 2] ^= 0x01;
  t.Damage(bad, raw);
  Seen plain, ahead;
  const Status p = t.log->ScanRecords(1, 2600, Collect(&plain));
  const Status a = ScanRecordsAhead(*t.log, 1, 2600, Collect(&ahead));
  CHECK(p.IsCorruption());
  REQUIRE(a.IsCorruption());
  CHECK(a.message() == p.message());
  CHECK(a.message().find(std::to_string(bad)) != std::string::npos);
  CHECK(ahead.size() == bad - 1);
  CHECK(ahead == plain);
}

}  // namespace dirledger

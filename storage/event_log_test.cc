#include "storage/event_log.h"

#include <rocksdb/perf_context.h>
#include <rocksdb/perf_level.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>

#include "codecs/attributes.h"
#include "codecs/kv_store.h"
#include "codecs/test_events.h"
#include "storage/rocks_event_log.h"
#include "storage/test_util.h"

namespace dirledger {
namespace {

namespace fs = std::filesystem;

class FixedClock : public Clock {
 public:
  std::int64_t NowMicros() override { return now_ += 1000; }
  std::int64_t now_ = 1'700'000'000'000'000;
};

std::unique_ptr<EventLog> OpenLog(const std::string& dir, Clock* clock) {
  LogOptions o;
  o.clock = clock;
  o.sync = false;
  auto log = EventLog::Open(dir, o);
  REQUIRE(log.ok());
  return std::move(log).value();
}

// Appends `n` person changes in one transaction, with a decision each and a
// cursor advance.
void AppendPeople(EventLog* log, int first, int n, const std::string& cookie) {
  auto txn = log->Begin();
  REQUIRE(txn.ok());
  for (int i = first; i < first + n; ++i) {
    Event e;
    e.seq = (*txn)->NextSeq();
    e.body = testing::PersonChange(i);
    Decision d;
    d.seq = e.seq;
    d.rule = "test";
    d.outcome = Outcome::kNoChange;
    REQUIRE((*txn)->Add(&e, &d, {testing::PersonChange(i).dn}).ok());
  }
  REQUIRE((*txn)->PutCursor("corp/syncrepl", cookie).ok());
  REQUIRE((*txn)->Commit().ok());
}

}  // namespace

TEST_CASE("append, scan, reopen", "[log]") {
  test::TempDir tmp;
  FixedClock clock;
  {
    auto log = OpenLog(tmp.path(), &clock);
    AppendPeople(log.get(), 1, 10, "c1");
    AppendPeople(log.get(), 11, 5, "c2");
    CHECK(log->last_seq() == 15);
  }
  auto log = OpenLog(tmp.path(), &clock);
  CHECK(log->last_seq() == 15);
  std::string cookie;
  REQUIRE(log->GetCursor("corp/syncrepl", &cookie).ok());
  CHECK(cookie == "c2");
  std::vector<std::uint64_t> seqs;
  REQUIRE(log->Scan(3, 6,
                    [&](const Event& e, const Decision* d) {
                      seqs.push_back(e.seq);
                      CHECK(d != nullptr);
                      CHECK(d->seq == e.seq);
                      return true;
                    })
              .ok());
  CHECK(seqs == std::vector<std::uint64_t>{3, 4, 5, 6});
  Event e;
  REQUIRE(log->ReadEvent(12, &e).ok());
  CHECK(std::get<ObservedChange>(e.body).id == testing::PersonChange(12).id);
  ChainReport report;
  REQUIRE(log->VerifyChain(&report).ok());
  CHECK(report.records == 15);
  CHECK(report.first_bad_seq == 0);
}

TEST_CASE("events are indexed by id and DN, case-insensitively", "[log]") {
  test::TempDir tmp;
  FixedClock clock;
  auto log = OpenLog(tmp.path(), &clock);
  AppendPeople(log.get(), 1, 3, "c");
  AppendPeople(log.get(), 2, 1, "c");
  std::vector<std::uint64_t> seqs;
  REQUIRE(log->SeqsForObject(testing::PersonChange(2).id, &seqs).ok());
  CHECK(seqs == std::vector<std::uint64_t>{2, 4});
  seqs.clear();
  REQUIRE(
      log->SeqsForObject("UID=user000002,ou=people,dc=example,dc=com", &seqs)
          .ok());
  CHECK(seqs.size() == 2);
}

TEST_CASE("a transaction that is not committed leaves nothing", "[log]") {
  test::TempDir tmp;
  FixedClock clock;
  auto log = OpenLog(tmp.path(), &clock);
  AppendPeople(log.get(), 1, 2, "c1");
  {
    auto txn = log->Begin();
    REQUIRE(txn.ok());
    Event e;
    e.seq = (*txn)->NextSeq();
    e.body = testing::PersonChange(9);
    REQUIRE((*txn)->Add(&e, nullptr).ok());
    REQUIRE((*txn)->PutCursor("corp/syncrepl", "never").ok());
  }
  CHECK(log->last_seq() == 2);
  std::string cookie;
  REQUIRE(log->GetCursor("corp/syncrepl", &cookie).ok());
  CHECK(cookie == "c1");
  AppendPeople(log.get(), 3, 1, "c3");
  CHECK(log->last_seq() == 3);
  // Nothing of the abandoned transaction comes along with the next one
  // (transactions reuse one write batch).
  REQUIRE(log->GetCursor("corp/syncrepl", &cookie).ok());
  CHECK(cookie == "c3");
  std::vector<std::uint64_t> seqs;
  REQUIRE(log->SeqsForObject(testing::PersonChange(9).id, &seqs).ok());
  CHECK(seqs.empty());
  Event e;
  REQUIRE(log->ReadEvent(3, &e).ok());
  CHECK(std::get<ObservedChange>(e.body).id == testing::PersonChange(3).id);
  ChainReport report;
  CHECK(log->VerifyChain(&report).ok());
}

TEST_CASE("many transactions in a row index every event once", "[log]") {
  test::TempDir tmp;
  FixedClock clock;
  auto log = OpenLog(tmp.path(), &clock);
  // 30 transactions of 100 events over 40 people: each person's events
  // spread over many batches, the index keys of a batch in no order.
  for (int t = 0; t < 30; ++t) {
    auto txn = log->Begin();
    REQUIRE(txn.ok());
    for (int i = 0; i < 100; ++i) {
      Event e;
      e.seq = (*txn)->NextSeq();
      e.body = testing::PersonChange((i * 7 + t) % 40);
      REQUIRE((*txn)->Add(&e, nullptr).ok());
    }
    REQUIRE((*txn)->Commit().ok());
  }
  std::vector<std::uint64_t> all;
  for (int p = 0; p < 40; ++p) {
    std::vector<std::uint64_t> seqs;
    REQUIRE(log->SeqsForObject(testing::PersonChange(p).id, &seqs).ok());
    CHECK(std::is_sorted(seqs.begin(), seqs.end()));
    for (std::uint64_t seq : seqs) {
      Event e;
      REQUIRE(log->ReadEvent(seq, &e).ok());
      CHECK(std::get<ObservedChange>(e.body).id == testing::PersonChange(p).id);
    }
    all.insert(all.end(), seqs.begin(), seqs.end());
  }
  std::sort(all.begin(), all.end());
  CHECK(all.size() == 3000);
  CHECK(std::adjacent_find(all.begin(), all.end()) == all.end());
  ChainReport report;
  REQUIRE(log->VerifyChain(&report).ok());
  CHECK(report.records == 3000);
}

namespace {

// The sequences of the events about person `p`, read from the log itself.
std::vector<std::uint64_t> ScannedSeqs(const EventLog& log, int p) {
  std::vector<std::uint64_t> seqs;
  REQUIRE(log.Scan(1, log.last_seq(),
                   [&](const Event& e, const Decision*) {
                     if (std::get<ObservedChange>(e.body).id ==
                         testing::PersonChange(p).id)
                       seqs.push_back(e.seq);
                     return true;
                   })
              .ok());
  return seqs;
}

}  // namespace

TEST_CASE("the object index catches up with the log after a crash",
          "[log][crash]") {
  // The index is written after the events; a crash can leave it behind its
  // log. Simulated here by wiping it and its watermark: a read-only opener
  // reads what is unindexed from the log, a writer indexes it again.
  test::TempDir tmp;
  FixedClock clock;
  {
    auto log = OpenLog(tmp.path(), &clock);
    for (int b = 0; b < 4; ++b) AppendPeople(log.get(), b * 25, 50, "c");
  }
  REQUIRE(test::ClearRaw(tmp.path(), "by_object").ok());
  REQUIRE(
      test::PutRaw(tmp.path(), "meta", "index_through", BigEndian64(0)).ok());
  auto seqs_of = [](const EventLog& log, std::string_view id) {
    std::vector<std::uint64_t> seqs;
    REQUIRE(log.SeqsForObject(id, &seqs).ok());
    return seqs;
  };
  {
    LogOptions ro;
    ro.read_only = true;
    auto log = std::move(EventLog::Open(tmp.path(), ro)).value();
    for (int p : {0, 30, 70, 124}) {
      CHECK(seqs_of(*log, testing::PersonChange(p).id) == ScannedSeqs(*log, p));
      CHECK(seqs_of(*log, testing::PersonChange(p).dn) == ScannedSeqs(*log, p));
    }
  }
  {
    auto log = OpenLog(tmp.path(), &clock);
    REQUIRE(log->Flush().ok());  // waits for the indexer
  }
  std::string through;
  REQUIRE(test::GetRaw(tmp.path(), "meta", "index_through", &through).ok());
  CHECK(GetBigEndian64(through) == 200);
  // Now from the index alone: the read-only opener has nothing to read past
  // the watermark.
  LogOptions ro;
  ro.read_only = true;
  auto log = std::move(EventLog::Open(tmp.path(), ro)).value();
  for (int p : {0, 30, 70, 124}) {
    CHECK(seqs_of(*log, testing::PersonChange(p).id) == ScannedSeqs(*log, p));
    CHECK(seqs_of(*log, AsciiLower(testing::PersonChange(p).dn)) ==
          ScannedSeqs(*log, p));
  }
}

TEST_CASE("a log killed before its first index watermark is indexed again",
          "[log][crash]") {
  // A new log whose process died before the indexer's first write has
  // events, no watermark, and none or part of a chunk of index keys.
  test::TempDir tmp;
  FixedClock clock;
  {
    auto log = OpenLog(tmp.path(), &clock);
    AppendPeople(log.get(), 0, 60, "c");
  }
  REQUIRE(test::ClearRaw(tmp.path(), "by_object").ok());
  REQUIRE(test::DeleteRaw(tmp.path(), "meta", "index_through").ok());
  {
    auto log = OpenLog(tmp.path(), &clock);
    for (int p : {0, 31, 59}) {
      std::vector<std::uint64_t> seqs;
      REQUIRE(log->SeqsForObject(testing::PersonChange(p).id, &seqs).ok());
      CHECK(seqs == ScannedSeqs(*log, p));
      CHECK_FALSE(seqs.empty());
    }
  }
  std::string through;
  REQUIRE(test::GetRaw(tmp.path(), "meta", "index_through", &through).ok());
  CHECK(GetBigEndian64(through) == 60);
}

TEST_CASE("a damaged record past the index watermark is reported", "[log]") {
  test::TempDir tmp;
  FixedClock clock;
  {
    auto log = OpenLog(tmp.path(), &clock);
    AppendPeople(log.get(), 0, 20, "c");
  }
  REQUIRE(test::ClearRaw(tmp.path(), "by_object").ok());
  REQUIRE(
      test::PutRaw(tmp.path(), "meta", "index_through", BigEndian64(5)).ok());
  REQUIRE(test::OverwriteLogRecord(tmp.path(), 12, "garbage").ok());
  auto log = OpenLog(tmp.path(), &clock);
  std::vector<std::uint64_t> seqs;
  Status s = log->SeqsForObject(testing::PersonChange(15).id, &seqs);
  REQUIRE_FALSE(s.ok());
  CHECK(s.message().find("12") != std::string::npos);
  // Appending goes on; the watermark stays below the damage.
  AppendPeople(log.get(), 20, 5, "d");
  REQUIRE(log->Flush().ok());
  log.reset();
  std::string through;
  REQUIRE(test::GetRaw(tmp.path(), "meta", "index_through", &through).ok());
  CHECK(GetBigEndian64(through) == 11);
}

TEST_CASE("sequences must be dense", "[log]") {
  test::TempDir tmp;
  FixedClock clock;
  auto log = OpenLog(tmp.path(), &clock);
  auto txn = log->Begin();
  REQUIRE(txn.ok());
  Event e;
  e.seq = 5;
  e.body = CursorAdvance{"s", "c"};
  CHECK_FALSE((*txn)->Add(&e, nullptr).ok());
  CHECK_FALSE(log->Begin().ok());  // one writer at a time
}

TEST_CASE("events and cursor survive a kill in one piece",
          "[log][crash][fork]") {
  // A child process appends batches (events + cursor in one WriteBatch) and
  // is killed with SIGKILL mid-stream. After reopening, the cursor must name
  // the last batch whose events are all present, and no batch is partial.
  test::TempDir tmp;
  for (int round = 0; round < 5; ++round) {
    const std::string dir = tmp.path() + "/r" + std::to_string(round);
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      LogOptions o;
      o.sync = false;
      auto log = EventLog::Open(dir, o);
      if (!log.ok()) _exit(3);
      for (int b = 0;; ++b) {
        auto txn = (*log)->Begin();
        if (!txn.ok()) _exit(4);
        for (int i = 0; i < 50; ++i) {
          Event e;
          e.seq = (*txn)->NextSeq();
          e.body = testing::PersonChange(b * 50 + i);
          if (!(*txn)->Add(&e, nullptr).ok()) _exit(5);
        }
        if (!(*txn)->PutCursor("src", std::to_string(b)).ok()) _exit(7);
        if (!(*txn)->Commit().ok()) _exit(6);
      }
    }
    usleep(20000 + round * 15000);
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    REQUIRE(WIFSIGNALED(status));
    LogOptions o;
    auto log = EventLog::Open(dir, o);
    REQUIRE(log.ok());
    std::string cookie;
    if ((*log)->last_seq() == 0) continue;
    REQUIRE((*log)->GetCursor("src", &cookie).ok());
    const std::uint64_t batches = std::stoull(cookie) + 1;
    CHECK((*log)->last_seq() == batches * 50);
    // The index, written after the events, holds every one of them.
    for (int p : {0, 49, 50, 99, 150})
      if (static_cast<std::uint64_t>(p) < batches * 50) {
        std::vector<std::uint64_t> seqs;
        REQUIRE((*log)->SeqsForObject(testing::PersonChange(p).id, &seqs).ok());
        CHECK(seqs == ScannedSeqs(**log, p));
      }
    ChainReport report;
    CHECK((*log)->VerifyChain(&report).ok());
  }
}

TEST_CASE("a flipped byte anywhere in a record is found, naming it",
          "[log][tamper]") {
  test::TempDir tmp;
  FixedClock clock;
  {
    auto log = OpenLog(tmp.path(), &clock);
    AppendPeople(log.get(), 1, 20, "c");
  }
  std::mt19937 rng(7);
  for (int trial = 0; trial < 40; ++trial) {
    const std::uint64_t victim = 1 + rng() % 20;
    std::string raw;
    {
      auto log = OpenLog(tmp.path(), &clock);
      REQUIRE(log->ReadRaw(victim, &raw).ok());
    }
    std::string flipped = raw;
    const size_t pos = rng() % flipped.size();
    flipped[pos] = static_cast<char>(flipped[pos] ^ (1 + rng() % 255));
    REQUIRE(test::OverwriteLogRecord(tmp.path(), victim, flipped).ok());
    {
      auto log = OpenLog(tmp.path(), &clock);
      ChainReport report;
      Status s = log->VerifyChain(&report);
      CHECK(s.IsCorruption());
      CHECK(report.first_bad_seq == victim);
      Event e;
      CHECK_FALSE(log->ReadEvent(victim, &e).ok());
    }
    REQUIRE(test::OverwriteLogRecord(tmp.path(), victim, raw).ok());
  }
  auto log = OpenLog(tmp.path(), &clock);
  ChainReport report;
  CHECK(log->VerifyChain(&report).ok());
}

TEST_CASE("a stored cursor is checked against the last one the chain records",
          "[log][tamper]") {
  FixedClock clock;
  test::TempDir tmp;
  // corp moves twice, recorded; mail's cursor was stored by an older
  // dirledger that recorded none.
  {
    auto log = OpenLog(tmp.path(), &clock);
    AppendPeople(log.get(), 1, 3, "c1");
    for (const char* cookie : {"a", "b"}) {
      auto txn = log->Begin();
      REQUIRE(txn.ok());
      Event e;
      e.seq = (*txn)->NextSeq();
      e.body = CursorAdvance{"corp/syncrepl", cookie};
      REQUIRE((*txn)->Add(&e, nullptr, {}).ok());
      REQUIRE((*txn)->PutCursor("corp/syncrepl", cookie).ok());
      REQUIRE((*txn)->PutCursor("mail", "7").ok());
      REQUIRE((*txn)->Commit().ok());
    }
    ChainReport r;
    REQUIRE(log->VerifyChain(&r).ok());
    CHECK(r.cursors_checked == 1);
    CHECK(r.cursors_unrecorded == std::vector<std::string>{"mail"});
  }
  SECTION("edited") {
    REQUIRE(test::PutRaw(tmp.path(), "cursors", "corp/syncrepl", "a").ok());
    auto log = OpenLog(tmp.path(), &clock);
    ChainReport r;
    Status s = log->VerifyChain(&r);
    CHECK(s.IsCorruption());
    CHECK(s.message().find("the stored cursor of corp/syncrepl is not the one "
                           "log record 5 recorded last") != std::string::npos);
    CHECK(r.first_bad_seq == 5);
  }
  SECTION("removed") {
    REQUIRE(test::DeleteRaw(tmp.path(), "cursors", "corp/syncrepl").ok());
    auto log = OpenLog(tmp.path(), &clock);
    ChainReport r;
    Status s = log->VerifyChain(&r);
    CHECK(s.IsCorruption());
    CHECK(s.message().find("is not stored") != std::string::npos);
    CHECK(r.first_bad_seq == 5);
  }
}

TEST_CASE("removed, reordered and inserted records are found",
          "[log][tamper]") {
  FixedClock clock;
  SECTION("removed in the middle") {
    test::TempDir tmp;
    {
      auto log = OpenLog(tmp.path(), &clock);
      AppendPeople(log.get(), 1, 10, "c");
    }
    REQUIRE(test::DeleteLogRecord(tmp.path(), 4).ok());
    auto log = OpenLog(tmp.path(), &clock);
    ChainReport r;
    CHECK(log->VerifyChain(&r).IsCorruption());
    CHECK(r.first_bad_seq == 4);
  }
  SECTION("removed at the end") {
    test::TempDir tmp;
    {
      auto log = OpenLog(tmp.path(), &clock);
      AppendPeople(log.get(), 1, 10, "c");
    }
    REQUIRE(test::DeleteLogRecord(tmp.path(), 10).ok());
    auto log = OpenLog(tmp.path(), &clock);
    ChainReport r;
    CHECK(log->VerifyChain(&r).IsCorruption());
    CHECK(r.first_bad_seq == 10);
  }
  SECTION("two records swapped") {
    test::TempDir tmp;
    {
      auto log = OpenLog(tmp.path(), &clock);
      AppendPeople(log.get(), 1, 10, "c");
    }
    std::string a, b;
    {
      auto log = OpenLog(tmp.path(), &clock);
      REQUIRE(log->ReadRaw(3, &a).ok());
      REQUIRE(log->ReadRaw(4, &b).ok());
    }
    REQUIRE(test::OverwriteLogRecord(tmp.path(), 3, b).ok());
    REQUIRE(test::OverwriteLogRecord(tmp.path(), 4, a).ok());
    auto log = OpenLog(tmp.path(), &clock);
    ChainReport r;
    CHECK(log->VerifyChain(&r).IsCorruption());
    CHECK(r.first_bad_seq == 3);
  }
  SECTION("a forged record replaces a real one") {
    test::TempDir tmp;
    {
      auto log = OpenLog(tmp.path(), &clock);
      AppendPeople(log.get(), 1, 10, "c");
    }
    // A well-formed record with a correct own digest but the wrong chain.
    Event forged;
    forged.seq = 6;
    forged.prev_hash = std::string(32, '\1');
    forged.body = testing::PersonChange(600);
    std::string bytes = test::StoredRecord(forged);
    REQUIRE(test::OverwriteLogRecord(tmp.path(), 6, bytes).ok());
    auto log = OpenLog(tmp.path(), &clock);
    ChainReport r;
    CHECK(log->VerifyChain(&r).IsCorruption());
    CHECK((r.first_bad_seq == 5 || r.first_bad_seq == 6));
  }
  SECTION("a record appended behind the head's back") {
    test::TempDir tmp;
    {
      auto log = OpenLog(tmp.path(), &clock);
      AppendPeople(log.get(), 1, 10, "c");
    }
    std::string raw;
    {
      auto log = OpenLog(tmp.path(), &clock);
      REQUIRE(log->ReadRaw(10, &raw).ok());
    }
    REQUIRE(test::OverwriteLogRecord(tmp.path(), 11, raw).ok());
    auto log = OpenLog(tmp.path(), &clock);
    ChainReport r;
    CHECK(log->VerifyChain(&r).IsCorruption());
    CHECK(r.first_bad_seq == 11);
  }
}

TEST_CASE("a second opener of a data dir is refused clearly", "[log][fork]") {
  test::TempDir tmp;
  FixedClock clock;
  auto log = OpenLog(tmp.path(), &clock);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    auto second = EventLog::Open(tmp.path(), LogOptions{});
    const bool clear =
        !second.ok() && second.status().message().find("in use by another") !=
                            std::string::npos;
    _exit(clear ? 0 : 1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  // A read-only opener is fine while the writer holds the dir.
  LogOptions ro;
  ro.read_only = true;
  CHECK(EventLog::Open(tmp.path(), ro).ok());
}

TEST_CASE("the data dir is private", "[log][security]") {
  test::TempDir tmp;
  FixedClock clock;
  const std::string dir = tmp.path() + "/data";
  auto log = OpenLog(dir, &clock);
  struct stat st;
  REQUIRE(stat(dir.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
}

TEST_CASE("checkpoint backup and restore", "[log][backup]") {
  test::TempDir tmp;
  FixedClock clock;
  const std::string data = tmp.path() + "/data", backup = tmp.path() + "/bk";
  {
    auto log = OpenLog(data, &clock);
    AppendPeople(log.get(), 1, 5, "c5");
    REQUIRE(log->Checkpoint(backup).ok());
    CHECK_FALSE(log->Checkpoint(backup).ok());  // never overwrites
    AppendPeople(log.get(), 6, 5, "c10");
  }
  REQUIRE(EventLog::Restore(backup, data).ok());
  auto log = OpenLog(data, &clock);
  CHECK(log->last_seq() == 5);
  std::string cookie;
  REQUIRE(log->GetCursor("corp/syncrepl", &cookie).ok());
  CHECK(cookie == "c5");
  ChainReport r;
  CHECK(log->VerifyChain(&r).ok());
  CHECK_FALSE(EventLog::Restore(tmp.path() + "/nothing", data).ok());
}

TEST_CASE("projection writes commit with the events", "[log]") {
  test::TempDir tmp;
  FixedClock clock;
  auto log = OpenLog(tmp.path(), &clock);
  {
    auto txn = log->Begin();
    REQUIRE(txn.ok());
    ObjectState o;
    o.id = "u1";
    o.dn = "uid=a";
    REQUIRE((*txn)->projection().Apply(PutObject{o}).ok());
    // The transaction sees its own write; the log does not yet.
    CHECK((*txn)->projection().GetObject(Side::kLdap, ObjectKind::kAccount,
                                         "u1"));
    CHECK_FALSE(
        log->projection().GetObject(Side::kLdap, ObjectKind::kAccount, "u1"));
    Event e;
    e.seq = (*txn)->NextSeq();
    e.body = CursorAdvance{"s", "c"};
    REQUIRE((*txn)->Add(&e, nullptr).ok());
    REQUIRE((*txn)->Commit().ok());
  }
  CHECK(*log->projection().FindIdByDn(Side::kLdap, "uid=a") == "u1");
  {
    // A projection write of a transaction that is dropped is gone, also for
    // the next transaction (which reuses the write batch).
    auto txn = log->Begin();
    REQUIRE(txn.ok());
    ObjectState o;
    o.id = "u2";
    o.dn = "uid=b";
    REQUIRE((*txn)->projection().Apply(PutObject{o}).ok());
  }
  {
    auto txn = log->Begin();
    REQUIRE(txn.ok());
    CHECK_FALSE((*txn)->projection().GetObject(Side::kLdap,
                                               ObjectKind::kAccount, "u2"));
    Event e;
    e.seq = (*txn)->NextSeq();
    e.body = CursorAdvance{"s", "c2"};
    REQUIRE((*txn)->Add(&e, nullptr).ok());
    REQUIRE((*txn)->Commit().ok());
  }
  CHECK_FALSE(
      log->projection().GetObject(Side::kLdap, ObjectKind::kAccount, "u2"));
  CHECK_FALSE(log->projection().FindIdByDn(Side::kLdap, "uid=b"));
  REQUIRE(log->ClearProjection().ok());
  CHECK_FALSE(
      log->projection().GetObject(Side::kLdap, ObjectKind::kAccount, "u1"));
}

TEST_CASE(
    "a log whose projection was stored before the alias index gets it at "
    "its next writable open",
    "[log]") {
  test::TempDir tmp;
  FixedClock clock;
  const std::string key = std::string("i10info@x.com") + '\0' + "sales@x.com";
  {
    auto log = OpenLog(tmp.path(), &clock);
    auto txn = log->Begin();
    REQUIRE(txn.ok());
    ObjectState o;
    o.side = Side::kMail;
    o.id = o.dn = o.address = "sales@x.com";
    o.attrs = {{"aliases", {"info@x.com"}}};
    REQUIRE((*txn)->projection().Apply(PutObject{o}).ok());
    Event e;
    e.seq = (*txn)->NextSeq();
    e.body = CursorAdvance{"s", "c"};
    REQUIRE((*txn)->Add(&e, nullptr).ok());
    REQUIRE((*txn)->Commit().ok());
    CHECK(
        log->projection().FindIdsByAlias(ObjectKind::kAccount, "info@x.com") ==
        std::vector<std::string>{"sales@x.com"});
  }
  std::string value;
  REQUIRE(test::GetRaw(tmp.path(), "meta", "alias_index", &value).ok());
  // As an older dirledger left it: no index, no marker.
  REQUIRE(test::DeleteRaw(tmp.path(), "state", key).ok());
  REQUIRE(test::DeleteRaw(tmp.path(), "meta", "alias_index").ok());
  {
    LogOptions o;
    o.read_only = true;
    auto log = EventLog::Open(tmp.path(), o);
    REQUIRE(log.ok());
    CHECK((*log)
              ->projection()
              .FindIdsByAlias(ObjectKind::kAccount, "info@x.com")
              .empty());
  }
  CHECK(test::GetRaw(tmp.path(), "state", key, &value).IsNotFound());
  {
    auto log = OpenLog(tmp.path(), &clock);
    CHECK(
        log->projection().FindIdsByAlias(ObjectKind::kAccount, "info@x.com") ==
        std::vector<std::string>{"sales@x.com"});
  }
  CHECK(test::GetRaw(tmp.path(), "state", key, &value).ok());
  CHECK(test::GetRaw(tmp.path(), "meta", "alias_index", &value).ok());
}

}  // namespace dirledger

namespace dirledger {
namespace {

std::vector<std::uint64_t> PendingIds(const ProjectionView& p, Side side,
                                      const std::string& id) {
  std::vector<std::uint64_t> out;
  for (const PendingIntent& pi : p.PendingFor(side, ObjectKind::kAccount, id))
    out.push_back(pi.intent.id);
  return out;
}

}  // namespace

TEST_CASE("pending-by-target, wait and failure reads agree with a plain store",
          "[log][projection]") {
  // The log answers these scans and the failure lookups from memory; a
  // ProjectionStore over a plain map is the reference. Random puts and
  // erases over many transactions, some dropped, some submitted (read by
  // the next while in flight), checked inside transactions, after commits
  // and after a reopen.
  test::TempDir tmp;
  FixedClock clock;
  auto log = OpenLog(tmp.path(), &clock);
  MemKvStore ref_state, ref_links;
  ProjectionStore ref(&ref_state, &ref_links);
  std::mt19937 rng(7);
  const std::vector<std::string> targets = {"a@x", "b@x", "c@x", "d@x"};
  const std::vector<std::string> keys = {"uid=m1,dc=x", "UID=M2,dc=x",
                                         "address:a@x"};
  std::vector<std::uint64_t> live;
  std::uint64_t next_intent = 1;
  // Every pending intent, whole, in order (the log keeps only their keys in
  // memory and reads each value by key).
  auto all_pending = [](const ProjectionStore& p) {
    std::vector<std::string> out;
    REQUIRE(p.ForEachPending([&](const PendingIntent& pi) {
               out.push_back(EncodePendingIntent(pi));
               return true;
             }).ok());
    return out;
  };
  auto pending_ids = [](const ProjectionStore& p) {
    std::vector<std::uint64_t> out;
    REQUIRE(p.ForEachPendingId([&](std::uint64_t id) {
               out.push_back(id);
               return true;
             }).ok());
    return out;
  };
  const std::vector<std::string> failed = {"f1", "F1", "f2@x"};
  auto failures = [](const ProjectionStore& p) {
    std::vector<std::string> out;
    REQUIRE(p.ForEachFailure([&](const FailureState& f) {
               out.push_back(f.object + "/" + f.message);
               return true;
             }).ok());
    return out;
  };
  auto failure = [](const ProjectionStore& p, FailureKind kind, Side side,
                    const std::string& object) {
    auto f = p.GetFailure(kind, side, object);
    return f ? f->message : std::string("none");
  };
  auto check = [&](const ProjectionStore& got, const ProjectionStore& want) {
    CHECK(failures(got) == failures(want));
    for (FailureKind kind :
         {FailureKind::kFailedWrite, FailureKind::kObjectError})
      for (Side side : {Side::kLdap, Side::kMail})
        for (const std::string& o : failed)
          CHECK(failure(got, kind, side, o) == failure(want, kind, side, o));
    CHECK(all_pending(got) == all_pending(want));
    CHECK(pending_ids(got) == pending_ids(want));
    for (Side side : {Side::kLdap, Side::kMail})
      for (const std::string& t : targets)
        CHECK(PendingIds(got, side, t) == PendingIds(want, side, t));
    for (Side side : {Side::kLdap, Side::kMail})
      for (const std::string& k : keys)
        CHECK(got.WaitingFor(side, k) == want.WaitingFor(side, k));
  };
  for (int t = 0; t < 40; ++t) {
    auto txn = log->Begin();
    REQUIRE(txn.ok());
    const bool drop = t % 7 == 3;
    MemKvStore scratch_state = ref_state, scratch_links = ref_links;
    ProjectionStore scratch(&scratch_state, &scratch_links);
    ProjectionStore& want = drop ? scratch : ref;
    std::vector<std::uint64_t> live_after = live;
    for (int i = 0; i < 12; ++i) {
      StateMutation m;
      const int what = static_cast<int>(rng() % 6);
      if (what >= 4) {
        const FailureKind kind =
            rng() % 2 ? FailureKind::kObjectError : FailureKind::kFailedWrite;
        const Side side = rng() % 2 ? Side::kMail : Side::kLdap;
        const std::string& object = failed[rng() % failed.size()];
        if (what == 4) {
          FailureState f;
          f.kind = kind;
          f.side = side;
          f.object = object;
          f.message = "m" + std::to_string(t) + "." + std::to_string(i);
          f.since_seq = 1;
          m = PutFailure{f};
        } else {
          m = EraseFailure{kind, side, object};
        }
      } else if (what == 0 || live_after.empty()) {
        PendingIntent p;
        p.intent.id = next_intent++;
        p.intent.target = rng() % 2 ? Side::kMail : Side::kLdap;
        // Some intents have no target id yet (an add on the LDAP side).
        if (rng() % 5 != 0)
          p.intent.target_id = targets[rng() % targets.size()];
        p.intent.set = {{"title", {"t" + std::to_string(p.intent.id)}}};
        p.decided_seq = 1;
        live_after.push_back(p.intent.id);
        m = PutPending{p};
      } else if (what == 1) {
        const size_t k = rng() % live_after.size();
        m = ErasePending{live_after[k]};
        live_after.erase(live_after.begin() + static_cast<long>(k));
      } else {
        const Side side = rng() % 2 ? Side::kMail : Side::kLdap;
        const std::string key = keys[rng() % keys.size()];
        const std::string waiter = "g" + std::to_string(rng() % 3);
        if (what == 2)
          m = PutWait{side, key, waiter};
        else
          m = EraseWait{side, key, waiter};
      }
      REQUIRE((*txn)->projection().Apply(m).ok());
      REQUIRE(want.Apply(m).ok());
      check((*txn)->projection(), want);
    }
    if (drop) continue;  // the transaction is dropped: nothing of it stays
    live = live_after;
    Event e;
    e.seq = (*txn)->NextSeq();
    e.body = CursorAdvance{"s", std::to_string(t)};
    REQUIRE((*txn)->Add(&e, nullptr).ok());
    if (t % 3 == 0) {
      REQUIRE((*txn)->Commit().ok());
      check(log->projection(), ref);
    } else {
      // In flight: the next transaction reads its writes as committed.
      REQUIRE(log->Submit(std::move(*txn)).ok());
    }
  }
  REQUIRE(log->WaitCommitted().ok());
  check(log->projection(), ref);
  log.reset();
  log = OpenLog(tmp.path(), &clock);
  check(log->projection(), ref);
  REQUIRE(log->ClearProjection().ok());
  MemKvStore empty_state, empty_links;
  ProjectionStore empty(&empty_state, &empty_links);
  check(log->projection(), empty);
}

}  // namespace dirledger

namespace dirledger {

TEST_CASE(
    "objects and links written, rewritten and erased in one "
    "transaction commit as a plain store has them",
    "[log][projection]") {
  // Commit writes the projection's records in key order, one per key; the
  // result, and the transaction's view before it, must be what the writes
  // in their order leave.
  test::TempDir tmp;
  FixedClock clock;
  auto log = OpenLog(tmp.path(), &clock);
  MemKvStore ref_state, ref_links;
  ProjectionStore ref(&ref_state, &ref_links);
  std::mt19937 rng(11);
  auto check = [&](const ProjectionStore& got) {
    std::vector<std::string> a, b;
    auto list = [](const ProjectionStore& p, std::vector<std::string>* out) {
      REQUIRE(p.ForEachObject(Side::kLdap, [&](const ObjectState& o) {
                 out->push_back(EncodeObjectState(o));
                 return true;
               }).ok());
      REQUIRE(p.ForEachLink([&](const LinkState& l) {
                 out->push_back(EncodeLinkState(l));
                 return true;
               }).ok());
      REQUIRE(
          p.ForEachObjectOfSource("corp/syncrepl", [&](Side, ObjectKind,
                                                       std::string_view id) {
             out->emplace_back(id);
             return true;
           }).ok());
    };
    list(got, &a);
    list(ref, &b);
    CHECK(a == b);
    for (int n = 0; n < 6; ++n) {
      for (int d = 0; d < 3; ++d) {
        const std::string dn =
            "uid=u" + std::to_string(n) + "-" + std::to_string(d) + ",dc=x";
        CHECK(got.FindIdByDn(Side::kLdap, dn) ==
              ref.FindIdByDn(Side::kLdap, dn));
      }
    }
    for (int n = 0; n < 4; ++n) {
      const std::string address = "u" + std::to_string(n) + "@x";
      CHECK(got.FindIdByAddress(Side::kLdap, ObjectKind::kAccount, address) ==
            ref.FindIdByAddress(Side::kLdap, ObjectKind::kAccount, address));
      CHECK(got.GetLinkByMail(ObjectKind::kAccount, address) ==
            ref.GetLinkByMail(ObjectKind::kAccount, address));
    }
  };
  for (int t = 0; t < 25; ++t) {
    auto txn = log->Begin();
    REQUIRE(txn.ok());
    for (int i = 0; i < 30; ++i) {
      const int n = static_cast<int>(rng() % 6);
      StateMutation m;
      switch (rng() % 4) {
        case 0:
        case 1: {
          ObjectState o;
          o.id = "id-" + std::to_string(n);
          o.dn = "uid=u" + std::to_string(n) + "-" + std::to_string(rng() % 3) +
                 ",dc=x";
          o.address = "u" + std::to_string(rng() % 4) + "@x";
          o.source = "corp/syncrepl";
          o.version = static_cast<std::uint64_t>(i);
          m = PutObject{o};
          break;
        }
        case 2:
          m = EraseObject{Side::kLdap, ObjectKind::kAccount,
                          "id-" + std::to_string(n)};
          break;
        default: {
          LinkState l;
          l.ldap_id = "id-" + std::to_string(n);
          l.mail_id = "u" + std::to_string(rng() % 4) + "@x";
          if (rng() % 3 == 0)
            m = EraseLink{ObjectKind::kAccount, l.ldap_id, l.mail_id};
          else
            m = PutLink{l};
        }
      }
      REQUIRE((*txn)->projection().Apply(m).ok());
      REQUIRE(ref.Apply(m).ok());
    }
    // The transaction's own view: its writes merged over the committed
    // records (overwritten, erased, new).
    check((*txn)->projection());
    Event e;
    e.seq = (*txn)->NextSeq();
    e.body = CursorAdvance{"s", std::to_string(t)};
    REQUIRE((*txn)->Add(&e, nullptr).ok());
    REQUIRE((*txn)->Commit().ok());
    check(log->projection());
  }
  log.reset();
  log = OpenLog(tmp.path(), &clock);
  check(log->projection());
}

}  // namespace dirledger

namespace dirledger {
namespace {

// Pending intents for targets "b00000".."b09999", committed, then erased:
// their keys stay behind as tombstones in the memtable.
void PutAndErasePending(EventLog* log, int n) {
  for (bool erase : {false, true}) {
    auto txn = log->Begin();
    REQUIRE(txn.ok());
    for (int i = 0; i < n; ++i) {
      char id[16];
      std::snprintf(id, sizeof id, "b%05d", i);
      if (erase) {
        REQUIRE(
            (*txn)->projection().Apply(ErasePending{MakeIntentId(1, i)}).ok());
      } else {
        PendingIntent p;
        p.intent.id = MakeIntentId(1, i);
        p.intent.target = Side::kMail;
        p.intent.target_id = id;
        p.decided_seq = 1;
        REQUIRE((*txn)->projection().Apply(PutPending{p}).ok());
      }
    }
    REQUIRE((*txn)->Commit().ok());
  }
}

TEST_CASE("a prefix scan stops at its prefix, not after every deleted key",
          "[log]") {
  // Deleted keys sort after the prefix looked up ("a..." < "b..."): a scan
  // without an upper bound walks all their tombstones to find the prefix
  // empty, so every lookup cost as much as all the deletes before it.
  test::TempDir tmp;
  FixedClock clock;
  auto log = OpenLog(tmp.path(), &clock);
  constexpr int kDeleted = 10000;
  PutAndErasePending(log.get(), kDeleted);
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kEnableCount);
  rocksdb::get_perf_context()->Reset();
  CHECK(log->projection()
            .PendingFor(Side::kMail, ObjectKind::kAccount, "a")
            .empty());
  const auto committed =
      rocksdb::get_perf_context()->internal_delete_skipped_count;
  auto txn = log->Begin();
  REQUIRE(txn.ok());
  rocksdb::get_perf_context()->Reset();
  CHECK((*txn)
            ->projection()
            .PendingFor(Side::kMail, ObjectKind::kAccount, "a")
            .empty());
  const auto in_txn =
      rocksdb::get_perf_context()->internal_delete_skipped_count;
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
  CHECK(committed < 100);
  CHECK(in_txn < 100);
}

TEST_CASE("a family its commits emptied is opened without its deletions",
          "[log]") {
  // Pending intents written and erased again (a full sync: one each per
  // entry) leave their deletions in the tables; the load at open would
  // step over every one until a compaction drops them. A family the commits
  // emptied of many keys is covered by one range deletion at close. One
  // that still holds a
  // key is left as it is, and keeps it; a few deletions are left too.
  test::TempDir tmp;
  FixedClock clock;
  constexpr int kDeleted = RocksEventLog::kCoverDeletions;
  auto deletions_stepped_over_at_open = [&] {
    rocksdb::SetPerfLevel(rocksdb::PerfLevel::kEnableCount);
    rocksdb::get_perf_context()->Reset();
    auto log = OpenLog(tmp.path(), &clock);
    const auto n = rocksdb::get_perf_context()->internal_delete_skipped_count;
    rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
    return std::make_pair(std::move(log), n);
  };
  {
    auto log = OpenLog(tmp.path(), &clock);
    PutAndErasePending(log.get(), kDeleted);
  }
  {
    auto [log, stepped_over] = deletions_stepped_over_at_open();
    CHECK(stepped_over < 100);
    PutAndErasePending(log.get(), 50);  // a short run's few
  }
  {
    auto [log, stepped_over] = deletions_stepped_over_at_open();
    CHECK(stepped_over >= 50);
    CHECK(stepped_over < 1000);
    // One pending intent stays, among new deletions.
    PutAndErasePending(log.get(), kDeleted);
    auto txn = log->Begin();
    REQUIRE(txn.ok());
    PendingIntent p;
    p.intent.id = MakeIntentId(2, 1);
    p.intent.target = Side::kMail;
    p.intent.target_id = "b00001";
    p.decided_seq = 1;
    REQUIRE((*txn)->projection().Apply(PutPending{p}).ok());
    REQUIRE((*txn)->Commit().ok());
  }
  auto [log, stepped_over] = deletions_stepped_over_at_open();
  CHECK(stepped_over >= kDeleted);  // not covered: the family is not empty
  auto pending =
      log->projection().PendingFor(Side::kMail, ObjectKind::kAccount, "b00001");
  REQUIRE(pending.size() == 1);
  CHECK(pending[0].intent.id == MakeIntentId(2, 1));
  CHECK(log->projection().GetPending(MakeIntentId(2, 1)).has_value());
}

}  // namespace
}  // namespace dirledger

namespace dirledger {
namespace {

TEST_CASE("a process killed while creating the log leaves none or a whole one",
          "[log][crash][fork]") {
  // RocksDB creates column families one by one; killed in between, it used
  // to leave a database that read-only commands (status, verify) could not
  // open: "Column family not found".
  test::TempDir tmp;
  int none = 0, whole = 0;
  for (int round = 0; round < 40; ++round) {
    const std::string dir = tmp.path() + "/r" + std::to_string(round) + "/log";
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      auto log = EventLog::Open(dir, LogOptions{});
      _exit(log.ok() ? 0 : 3);
    }
    usleep(static_cast<useconds_t>(round * 4000));  // 0 to 160 ms
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    LogOptions ro;
    ro.read_only = true;
    auto log = EventLog::Open(dir, ro);
    if (log.ok()) {
      ++whole;
      CHECK((*log)->last_seq() == 0);
    } else {
      ++none;
      INFO(log.status().message());
      CHECK(log.status().code() == StatusCode::kNotFound);
    }
    // Either way a writer opens it (and clears the dead process's staging).
    auto again = EventLog::Open(dir, LogOptions{});
    INFO(again.status().ToString());
    REQUIRE(again.ok());
    std::size_t entries = 0;
    for (const auto& e : fs::directory_iterator(fs::path(dir).parent_path())) {
      (void)e;
      ++entries;
    }
    CHECK(entries == 1);
  }
  WARN(none << " kills left no log, " << whole << " a whole empty one");
}

TEST_CASE("an empty directory where the log goes is taken; a full one is not",
          "[log]") {
  test::TempDir tmp;
  const std::string dir = tmp.path() + "/log";
  fs::create_directories(dir);
  REQUIRE(EventLog::Open(dir, LogOptions{}).ok());
  CHECK((fs::status(dir).permissions() & fs::perms::all) ==
        fs::perms::owner_all);

  const std::string other = tmp.path() + "/other";
  fs::create_directories(other);
  std::ofstream(other + "/notes.txt") << "mine";
  auto refused = EventLog::Open(other, LogOptions{});
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().message().find("is not empty") != std::string::npos);
  CHECK(refused.status().message().find(other) != std::string::npos);
  CHECK(fs::exists(other + "/notes.txt"));
}

}  // namespace
}  // namespace dirledger

namespace dirledger {

TEST_CASE("a submitted transaction is read by the next before it is written",
          "[log][submit]") {
  test::TempDir tmp;
  FixedClock clock;
  constexpr int kRounds = 60;
  {
    auto log = OpenLog(tmp.path(), &clock);
    for (int round = 1; round <= kRounds; ++round) {
      auto txn = log->Begin();
      REQUIRE(txn.ok());
      ProjectionStore& p = (*txn)->projection();
      // What the transaction before wrote, whether it is written yet or not
      // (and whether it was submitted or committed).
      auto counter = p.GetObject(Side::kLdap, ObjectKind::kAccount, "counter");
      if (round == 1) {
        REQUIRE_FALSE(counter);
      } else {
        REQUIRE(counter);
        CHECK(counter->dn == "uid=v" + std::to_string(round - 1));
        // The previous value's DN index entry went with it.
        CHECK_FALSE(
            p.FindIdByDn(Side::kLdap, "uid=v" + std::to_string(round - 2)));
        auto link = p.GetLinkByMail(ObjectKind::kAccount,
                                    "m" + std::to_string(round - 1));
        REQUIRE(link);
        CHECK(link->ldap_id == "counter");
      }
      // A scan through a family the log keeps no copy of sees every object
      // written before.
      int objects = 0;
      REQUIRE(p.ForEachObject(Side::kLdap, [&](const ObjectState&) {
                 ++objects;
                 return true;
               }).ok());
      CHECK(objects == (round == 1 ? 0 : round));
      ObjectState o;
      o.id = "counter";
      o.dn = "uid=v" + std::to_string(round);
      REQUIRE(p.Apply(PutObject{o}).ok());
      ObjectState one;
      one.id = "o" + std::to_string(round);
      REQUIRE(p.Apply(PutObject{one}).ok());
      LinkState l;
      l.ldap_id = "counter";
      l.mail_id = "m" + std::to_string(round);
      REQUIRE(p.Apply(PutLink{l}).ok());
      Event e;
      e.seq = (*txn)->NextSeq();
      CHECK(e.seq == static_cast<std::uint64_t>(round));
      e.body = CursorAdvance{"s", std::to_string(round)};
      REQUIRE((*txn)->Add(&e, nullptr, {"counter"}).ok());
      REQUIRE((*txn)->PutCursor("s", std::to_string(round)).ok());
      // Every fifth a plain commit: the next must not read the submitted
      // one before it from memory (this one overwrote its values).
      if (round % 5 == 0) {
        REQUIRE((*txn)->Commit().ok());
      } else {
        REQUIRE(log->Submit(std::move(*txn)).ok());
      }
    }
    REQUIRE(log->WaitCommitted().ok());
    CHECK(log->last_seq() == kRounds);
  }
  auto log = OpenLog(tmp.path(), &clock);
  CHECK(log->last_seq() == kRounds);
  ChainReport report;
  REQUIRE(log->VerifyChain(&report).ok());
  CHECK(report.records == kRounds);
  auto counter =
      log->projection().GetObject(Side::kLdap, ObjectKind::kAccount, "counter");
  REQUIRE(counter);
  CHECK(counter->dn == "uid=v" + std::to_string(kRounds));
  CHECK_FALSE(log->projection().GetLinkByMail(ObjectKind::kAccount, "m1"));
  std::vector<std::uint64_t> seqs;
  REQUIRE(log->SeqsForObject("counter", &seqs).ok());
  CHECK(seqs.size() == kRounds);
}

TEST_CASE("the tail is read without waiting for the write in flight",
          "[log][submit]") {
  test::TempDir tmp;
  FixedClock clock;
  // Each submitted write is held until the next round has read the tail:
  // round r releases once it has read, then submits; the write of round r
  // (the r-th through the hook) goes on after round r + 1's release.
  std::mutex mu;
  std::condition_variable cv;
  int released = 0, written = 0;
  LogOptions options;
  options.clock = &clock;
  options.before_submitted_write = [&] {
    std::unique_lock<std::mutex> l(mu);
    cv.wait(l, [&] { return released > written + 1; });
    ++written;
  };
  auto release = [&] {
    std::lock_guard<std::mutex> l(mu);
    ++released;
    cv.notify_all();
  };
  auto opened = EventLog::Open(tmp.path(), options);
  REQUIRE(opened.ok());
  auto log = std::move(opened).value();
  // A failed REQUIRE leaves the round early: every write goes on before the
  // log is closed (which waits for the one in flight).
  struct ReleaseAll {
    std::mutex& mu;
    std::condition_variable& cv;
    int& released;
    ~ReleaseAll() {
      std::lock_guard<std::mutex> l(mu);
      released = 1 << 20;
      cv.notify_all();
    }
  } release_all{mu, cv, released};
  constexpr int kRounds = 40;
  for (int round = 1; round <= kRounds; ++round) {
    // The submit before is not written yet: the tail holds its writes.
    if (round > 1)
      CHECK(log->last_seq() == static_cast<std::uint64_t>(round - 2));
    log->ReadTail([&](const ProjectionStore& p) {
      auto counter = p.GetObject(Side::kLdap, ObjectKind::kAccount, "counter");
      auto link = p.GetLinkByMail(ObjectKind::kAccount,
                                  "m" + std::to_string(round - 1));
      std::vector<std::uint64_t> pending;  // the key-only family
      CHECK(p.ForEachPendingId([&](std::uint64_t id) {
               pending.push_back(id);
               return true;
             }).ok());
      std::vector<std::string> targets;  // ...read whole
      CHECK(p.ForEachPending([&](const PendingIntent& i) {
               targets.push_back(i.intent.target_id);
               return true;
             }).ok());
      auto waiting = p.PendingFor(Side::kMail, ObjectKind::kAccount,
                                  "m" + std::to_string(round - 1));
      CHECK(p.status().ok());
      if (round == 1) {
        CHECK_FALSE(counter);
        CHECK(pending.empty());
        return;
      }
      REQUIRE(counter);
      CHECK(counter->dn == "uid=v" + std::to_string(round - 1));
      CHECK_FALSE(
          p.FindIdByDn(Side::kLdap, "uid=v" + std::to_string(round - 2)));
      REQUIRE(link);
      CHECK(link->ldap_id == "counter");
      // One pending intent at a time: each round replaces the one before.
      CHECK(pending ==
            std::vector<std::uint64_t>{static_cast<std::uint64_t>(round - 1)});
      CHECK(targets ==
            std::vector<std::string>{"m" + std::to_string(round - 1)});
      REQUIRE(waiting.size() == 1);
      CHECK(waiting[0].intent.id == static_cast<std::uint64_t>(round - 1));
    });
    release();
    // A family the log keeps no copy of is scanned once the write is done.
    log->ReadTail([&](const ProjectionStore& p) {
      int objects = 0;
      CHECK(p.ForEachObject(Side::kLdap, [&](const ObjectState& o) {
               CHECK(o.dn == "uid=v" + std::to_string(round - 1));
               ++objects;
               return true;
             }).ok());
      CHECK(objects == (round == 1 ? 0 : 1));
    });
    auto txn = log->Begin();
    REQUIRE(txn.ok());
    ProjectionStore& p = (*txn)->projection();
    ObjectState o;
    o.id = "counter";
    o.dn = "uid=v" + std::to_string(round);
    REQUIRE(p.Apply(PutObject{o}).ok());
    LinkState l;
    l.ldap_id = "counter";
    l.mail_id = "m" + std::to_string(round);
    REQUIRE(p.Apply(PutLink{l}).ok());
    if (round > 1)
      REQUIRE(p.Apply(ErasePending{std::uint64_t(round - 1)}).ok());
    PendingIntent pi;
    pi.intent.id = round;
    pi.intent.target = Side::kMail;
    pi.intent.target_id = l.mail_id;
    pi.decided_seq = round;
    REQUIRE(p.Apply(PutPending{pi}).ok());
    Event e;
    e.seq = (*txn)->NextSeq();
    e.body = CursorAdvance{"s", std::to_string(round)};
    REQUIRE((*txn)->Add(&e, nullptr).ok());
    REQUIRE(log->Submit(std::move(*txn)).ok());
  }
  release();
  REQUIRE(log->WaitCommitted().ok());
  CHECK(log->last_seq() == kRounds);
}

TEST_CASE(
    "a transaction reads what the transactions before it left, whether "
    "committed, submitted, dropped or cleared",
    "[log][submit]") {
  // A random history of reads, writes and deletes of a few objects, in
  // transactions committed, submitted (read by the next one from memory)
  // or dropped, with the projection cleared now and then, against a model.
  test::TempDir tmp;
  FixedClock clock;
  auto log = OpenLog(tmp.path(), &clock);
  std::mt19937 rng(20261207);
  std::map<std::string, std::string> committed;  // id -> dn
  for (int round = 0; round < 300; ++round) {
    if (round % 97 == 96) {
      REQUIRE(log->ClearProjection().ok());
      committed.clear();
    }
    auto txn = log->Begin();
    REQUIRE(txn.ok());
    ProjectionStore& p = (*txn)->projection();
    std::map<std::string, std::string> mine = committed;
    for (int op = 0; op < 6; ++op) {
      const std::string id = "u" + std::to_string(rng() % 12);
      switch (rng() % 3) {
        case 0: {
          auto o = p.GetObject(Side::kLdap, ObjectKind::kAccount, id);
          auto want = mine.find(id);
          INFO("round " << round << ", object " << id);
          REQUIRE(o.has_value() == (want != mine.end()));
          if (o) REQUIRE(o->dn == want->second);
          break;
        }
        case 1: {
          ObjectState o;
          o.id = id;
          o.dn = "uid=" + std::to_string(round) + "." + std::to_string(op);
          REQUIRE(p.Apply(PutObject{o}).ok());
          mine[id] = o.dn;
          break;
        }
        case 2:
          REQUIRE(
              p.Apply(EraseObject{Side::kLdap, ObjectKind::kAccount, id}).ok());
          mine.erase(id);
          break;
      }
    }
    Event e;
    e.seq = (*txn)->NextSeq();
    e.body = CursorAdvance{"s", std::to_string(round)};
    REQUIRE((*txn)->Add(&e, nullptr).ok());
    switch (rng() % 3) {
      case 0:
        break;  // dropped: nothing it wrote counts
      case 1:
        REQUIRE((*txn)->Commit().ok());
        committed = mine;
        break;
      case 2:
        REQUIRE(log->Submit(std::move(*txn)).ok());
        committed = mine;
        break;
    }
  }
  REQUIRE(log->WaitCommitted().ok());
  // What is stored agrees, read beside the transactions.
  for (int i = 0; i < 12; ++i) {
    const std::string id = "u" + std::to_string(i);
    auto o = log->projection().GetObject(Side::kLdap, ObjectKind::kAccount, id);
    auto want = committed.find(id);
    INFO("object " << id);
    REQUIRE(o.has_value() == (want != committed.end()));
    if (o) CHECK(o->dn == want->second);
  }
}

TEST_CASE("a log with a transaction in flight closes after writing it",
          "[log][submit]") {
  test::TempDir tmp;
  FixedClock clock;
  {
    auto log = OpenLog(tmp.path(), &clock);
    AppendPeople(log.get(), 0, 10, "c1");
    auto txn = log->Begin();
    REQUIRE(txn.ok());
    Event e;
    e.seq = (*txn)->NextSeq();
    e.body = testing::PersonChange(10);
    REQUIRE((*txn)->Add(&e, nullptr).ok());
    REQUIRE((*txn)->PutCursor("corp/syncrepl", "c2").ok());
    REQUIRE(log->Submit(std::move(*txn)).ok());
    // Not a transaction of this log, or one already submitted.
    CHECK_FALSE(log->Submit(nullptr).ok());
  }
  auto log = OpenLog(tmp.path(), &clock);
  CHECK(log->last_seq() == 11);
  std::string cookie;
  REQUIRE(log->GetCursor("corp/syncrepl", &cookie).ok());
  CHECK(cookie == "c2");
}

}  // namespace dirledger

namespace dirledger {

TEST_CASE("a contact noted while a batch is written is kept, counts too",
          "[log][submit][source_status]") {
  test::TempDir tmp;
  FixedClock clock;
  // The source's error is noted after the batch was completed and before
  // it is written (the committer's hook runs in between): the batch's
  // counts and the error must both be in the stored record.
  EventLog* log_ptr = nullptr;
  bool noted = false;
  Status note;
  LogOptions options;
  options.clock = &clock;
  options.sync = false;
  options.before_submitted_write = [&] {
    if (noted) return;
    noted = true;
    note = log_ptr->NoteSourceContact("corp/syncrepl", "ldap server down");
  };
  {
    auto opened = EventLog::Open(tmp.path(), options);
    REQUIRE(opened.ok());
    auto log = std::move(opened).value();
    log_ptr = log.get();
    REQUIRE(log->NoteSourceContact("corp/syncrepl", "").ok());
    auto txn = log->Begin();
    REQUIRE(txn.ok());
    for (int i = 1; i <= 2; ++i) {
      Event e;
      e.seq = (*txn)->NextSeq();
      e.body = testing::PersonChange(i);
      REQUIRE((*txn)->Add(&e, nullptr).ok());
    }
    REQUIRE(log->Submit(std::move(*txn)).ok());
    REQUIRE(log->WaitCommitted().ok());
    REQUIRE(noted);
    REQUIRE(note.ok());
    SourceStatus s;
    REQUIRE(log->GetSourceStatus("corp/syncrepl", &s).ok());
    CHECK(s.events == 2);
    CHECK(s.last_seq == 2);
    CHECK(s.last_error == "ldap server down");
    CHECK(s.last_error_us > 0);
  }
  // Reopened, the record is taken up where it was: a contact keeps the
  // counts and the error.
  options.before_submitted_write = nullptr;
  auto log = std::move(EventLog::Open(tmp.path(), options)).value();
  REQUIRE(log->NoteSourceContact("corp/syncrepl", "").ok());
  SourceStatus s;
  REQUIRE(log->GetSourceStatus("corp/syncrepl", &s).ok());
  CHECK(s.events == 2);
  CHECK(s.last_error == "ldap server down");
  CHECK(s.last_contact_us > s.last_error_us);
}

TEST_CASE("a damaged source status record is reported at open",
          "[log][source_status]") {
  test::TempDir tmp;
  FixedClock clock;
  {
    auto log = OpenLog(tmp.path(), &clock);
    REQUIRE(log->NoteSourceContact("corp/syncrepl", "").ok());
  }
  REQUIRE(
      test::PutRaw(tmp.path(), "meta", "source/corp/syncrepl", "short").ok());
  auto opened = EventLog::Open(tmp.path(), LogOptions{});
  REQUIRE_FALSE(opened.ok());
  CHECK(opened.status().IsCorruption());
  CHECK(opened.status().message().find("corp/syncrepl") != std::string::npos);
}

}  // namespace dirledger

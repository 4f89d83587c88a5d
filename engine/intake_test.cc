#include "engine/intake.h"

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <map>
#include <thread>

#include "codecs/test_events.h"
#include "engine/remains_finder.h"
#include "engine/run_loop.h"
#include "engine/source_intake.h"
#include "storage/memory_event_log.h"
#include "tests/support/temp_dir.h"

namespace dirledger {
namespace {

// The log the tests run over: a RocksEventLog in `dir`; with
// DIRLEDGER_TEST_LOG=memory (CTest's engine_test_memory_log), a
// MemoryEventLog, so that the intake is shown to rest on the EventLog
// contract alone.
std::unique_ptr<EventLog> OpenTestLog(const std::string& dir,
                                      const LogOptions& options) {
  const char* kind = std::getenv("DIRLEDGER_TEST_LOG");
  if (kind && std::string_view(kind) == "memory")
    return std::make_unique<MemoryEventLog>(options);
  auto log = EventLog::Open(dir, options);
  REQUIRE(log.ok());
  return std::move(log).value();
}

// A small decider for engine tests: keeps objects as reported, turns every
// LDAP change into one mail intent, and clears an intent on its outcome.
void TestDecider(const ProjectionView& state, const Event& e, const RuleSet&,
                 Decision* d, StateDelta* delta) {
  d->rule = "test";
  if (const auto* c = std::get_if<ObservedChange>(&e.body)) {
    if (c->op == ChangeOp::kDelete) {
      delta->mutations.push_back(EraseObject{c->side, c->kind, c->id});
      d->outcome = Outcome::kPropagated;
      return;
    }
    ObjectState o;
    o.side = c->side;
    o.kind = c->kind;
    o.id = c->id;
    o.dn = c->dn;
    o.domain = c->domain;
    o.connector = c->connector;
    o.source = c->source;
    o.attrs = c->attrs;
    o.version = e.seq;
    delta->mutations.push_back(PutObject{o});
    if (c->side == Side::kLdap) {
      Intent i;
      i.id = MakeIntentId(e.seq, 0);
      i.target = Side::kMail;
      i.op = IntentOp::kModify;
      i.target_id = c->id + "@mail";
      i.connector = c->connector;
      d->intents.push_back(i);
      delta->mutations.push_back(PutPending{PendingIntent{i, e.seq, false}});
    }
    d->outcome = Outcome::kPropagated;
    return;
  }
  if (const auto* w = std::get_if<WriteOutcome>(&e.body)) {
    delta->mutations.push_back(ErasePending{w->intent_id});
    d->outcome = w->ok ? Outcome::kApplied : Outcome::kFailed;
    return;
  }
  if (const auto* h = std::get_if<DeleteHold>(&e.body)) {
    delta->mutations.push_back(
        PutHold{HoldState{*h, HoldStatus::kOpen, e.seq, 0, {}, 0}});
    d->outcome = Outcome::kHeld;
    return;
  }
  d->outcome = Outcome::kRecorded;
}

std::shared_ptr<const RuleSet> Rules(std::uint64_t threshold) {
  Config c;
  ConnectorConfig corp;
  corp.name = "corp";
  corp.uris = {"ldap://127.0.0.1:1"};
  corp.account_base_dn = "ou=people,%D";
  corp.delete_threshold = threshold;
  c.connectors.push_back(corp);
  c.domains.push_back({"example.com", true, "corp"});
  return std::move(RuleSet::Compile(c)).value();
}

struct Fixture {
  test::TempDir tmp;
  // A stored read fault (LogOptions::read_fault), when set.
  std::function<Status(std::string_view)> fault;
  std::unique_ptr<EventLog> log;
  std::unique_ptr<Intake> intake;
  std::atomic<bool> stop{false};

  explicit Fixture(std::uint64_t threshold = 3, bool dry = false) {
    LogOptions o;
    o.sync = false;
    o.read_fault = [this](std::string_view what) {
      return fault ? fault(what) : Status::Ok();
    };
    log = OpenTestLog(tmp.path(), o);
    IntakeOptions io;
    io.dry_run = dry;
    intake =
        std::make_unique<Intake>(log.get(), Rules(threshold), TestDecider, io);
  }
  void Reopen(bool dry) {
    IntakeOptions io;
    io.dry_run = dry;
    intake = std::make_unique<Intake>(log.get(), Rules(3), TestDecider, io);
  }
  std::string Cursor(const std::string& source) {
    std::string c;
    return log->GetCursor(source, &c).ok() ? c : "";
  }
  bool Known(const ObservedChange& c) {
    return log->projection()
        .GetObject(Side::kLdap, ObjectKind::kAccount, c.id)
        .has_value();
  }
};

std::vector<EventBody> People(int first, int n) {
  std::vector<EventBody> v;
  for (int i = first; i < first + n; ++i)
    v.emplace_back(testing::PersonChange(i));
  return v;
}

RefreshPhase Phase(PhaseKind k) {
  return RefreshPhase{
      "corp/syncrepl", "corp", k, RefreshMode::kPresent, 0, 0, 0};
}

}  // namespace

TEST_CASE("events, decisions and cursor are appended together", "[intake]") {
  Fixture f;
  SourceIntake sink(f.intake.get(), "corp/syncrepl", Side::kLdap, "corp",
                    &f.stop);
  REQUIRE(sink.Deliver(People(1, 5), std::string("c1")).ok());
  // The five changes, then the cursor they moved, in the hash chain too.
  CHECK(f.log->last_seq() == 6);
  CHECK(f.Cursor("corp/syncrepl") == "c1");
  Event cursor;
  REQUIRE(f.log->ReadEvent(6, &cursor).ok());
  REQUIRE(std::holds_alternative<CursorAdvance>(cursor.body));
  CHECK(std::get<CursorAdvance>(cursor.body).source == "corp/syncrepl");
  CHECK(std::get<CursorAdvance>(cursor.body).cookie == "c1");
  // A cursor that did not move is recorded once.
  REQUIRE(sink.Deliver({}, std::string("c1")).ok());
  CHECK(f.log->last_seq() == 6);
  REQUIRE(sink.Deliver({}, std::string("c2")).ok());
  CHECK(f.log->last_seq() == 7);
  CHECK(f.Cursor("corp/syncrepl") == "c2");
  ChainReport report;
  REQUIRE(f.log->VerifyChain(&report).ok());
  CHECK(report.cursors_checked == 1);
  Decision d;
  REQUIRE(f.log->ReadDecision(3, &d).ok());
  CHECK(d.outcome == Outcome::kPropagated);
  CHECK(sink.stats().changes == 5);
}

namespace {

// Answers as a directory would where entries that left the scope are.
class FakeRemains : public RemainsFinder {
 public:
  Result<std::map<std::string, std::string>> Find(
      const std::vector<std::string>& ids) override {
    asked.insert(asked.end(), ids.begin(), ids.end());
    if (!fail.ok()) return fail;
    std::map<std::string, std::string> out;
    for (const std::string& id : ids)
      if (auto it = where.find(id); it != where.end()) out[id] = it->second;
    return out;
  }
  std::map<std::string, std::string> where;
  std::vector<std::string> asked;
  Status fail;
};

ObservedChange DeleteOf(int n) {
  ObservedChange c = testing::PersonChange(n, ChangeOp::kDelete);
  c.attrs.clear();
  c.full_image = false;
  return c;
}

// The remains_at of the delete of person `n` in the log ("-" when none).
std::string RemainsOf(Fixture& f, int n) {
  const std::string id = testing::PersonChange(n).id;
  for (std::uint64_t seq = f.log->last_seq(); seq > 0; --seq) {
    Event e;
    REQUIRE(f.log->ReadEvent(seq, &e).ok());
    const auto* c = std::get_if<ObservedChange>(&e.body);
    if (c && c->op == ChangeOp::kDelete && c->id == id) return c->remains_at;
  }
  return "-";
}

}  // namespace

TEST_CASE(
    "a delete names where the entry remains when the source's finder finds "
    "it; a finder that fails appends nothing",
    "[intake]") {
  Fixture f;
  SourceIntake sink(f.intake.get(), "corp/syncrepl", Side::kLdap, "corp",
                    &f.stop);
  FakeRemains finder;
  const std::string moved = "uid=p2,ou=elsewhere,dc=example,dc=com";
  finder.where[testing::PersonChange(2).id] = moved;
  finder.where[testing::PersonChange(7).id] = "uid=p7,ou=gone,dc=example";
  sink.set_remains_finder(&finder);
  REQUIRE(sink.Deliver(People(1, 8), std::string("c1")).ok());
  CHECK(finder.asked.empty());  // no delete, no lookup
  SECTION("persist deletes") {
    std::vector<EventBody> deletes;
    deletes.emplace_back(DeleteOf(1));
    deletes.emplace_back(DeleteOf(2));
    REQUIRE(sink.Deliver(std::move(deletes), std::string("c2")).ok());
    CHECK(RemainsOf(f, 1).empty());
    CHECK(RemainsOf(f, 2) == moved);
    CHECK(finder.asked.size() == 2);
  }
  SECTION("the deletes a present phase finds") {
    std::vector<EventBody> begin;
    begin.emplace_back(Phase(PhaseKind::kBegin));
    REQUIRE(sink.Deliver(std::move(begin), std::nullopt).ok());
    std::vector<std::string> present;
    for (int i = 1; i <= 8; ++i)
      if (i != 2 && i != 3) present.push_back(testing::PersonChange(i).id);
    REQUIRE(
        sink.EndPresentPhase(present, Phase(PhaseKind::kEnd), std::string("c2"))
            .ok());
    CHECK(RemainsOf(f, 2) == moved);
    CHECK(RemainsOf(f, 3).empty());
  }
  SECTION("a delete that names where it is is not looked up") {
    ObservedChange d = DeleteOf(7);
    d.remains_at = "uid=p7,ou=people,dc=example,dc=com";
    std::vector<EventBody> deletes;
    deletes.emplace_back(d);
    REQUIRE(sink.Deliver(std::move(deletes), std::string("c2")).ok());
    CHECK(RemainsOf(f, 7) == d.remains_at);
    CHECK(finder.asked.empty());
  }
  SECTION("the directory cannot be asked: nothing appended, cursor kept") {
    finder.fail = Status::Unavailable("ldap://127.0.0.1:1: connection refused");
    const std::uint64_t before = f.log->last_seq();
    std::vector<EventBody> deletes;
    deletes.emplace_back(DeleteOf(2));
    Status st = sink.Deliver(std::move(deletes), std::string("c2"));
    CHECK(st.retryable());
    CHECK(f.log->last_seq() == before);
    CHECK(f.Cursor("corp/syncrepl") == "c1");
    CHECK(f.Known(testing::PersonChange(2)));
  }
}

TEST_CASE("a present phase that would delete more than the threshold is held",
          "[intake][guard]") {
  Fixture f(/*threshold=*/3);
  SourceIntake sink(f.intake.get(), "corp/syncrepl", Side::kLdap, "corp",
                    &f.stop);
  REQUIRE(sink.Deliver(People(1, 10), std::string("c1")).ok());
  // A refresh whose present phase names only 5 of the 10: 5 missing > 3.
  std::vector<EventBody> begin;
  begin.emplace_back(Phase(PhaseKind::kBegin));
  REQUIRE(sink.Deliver(std::move(begin), std::nullopt).ok());
  std::vector<std::string> present;
  for (int i = 1; i <= 5; ++i) present.push_back(testing::PersonChange(i).id);
  REQUIRE(
      sink.EndPresentPhase(present, Phase(PhaseKind::kEnd), std::string("c2"))
          .ok());
  CHECK(f.Cursor("corp/syncrepl") == "c2");
  // Nothing was deleted; one hold names the five.
  for (int i = 1; i <= 10; ++i) CHECK(f.Known(testing::PersonChange(i)));
  int holds = 0;
  REQUIRE(f.log->projection()
              .ForEachHold([&](const HoldState& h) {
                ++holds;
                CHECK(h.hold.deletes.size() == 5);
                CHECK(h.hold.hold_id.rfind("hold-", 0) == 0);
                CHECK(h.hold.reason.find("exceed delete_threshold 3") !=
                      std::string::npos);
                return true;
              })
              .ok());
  CHECK(holds == 1);
  CHECK(sink.stats().held == 5);
}

TEST_CASE("an empty present phase holds everything", "[intake][guard]") {
  Fixture f(3);
  SourceIntake sink(f.intake.get(), "corp/syncrepl", Side::kLdap, "corp",
                    &f.stop);
  REQUIRE(sink.Deliver(People(1, 10), std::string("c1")).ok());
  REQUIRE(
      sink.EndPresentPhase({}, Phase(PhaseKind::kEnd), std::string("c2")).ok());
  CHECK(sink.stats().held == 10);
  for (int i = 1; i <= 10; ++i) CHECK(f.Known(testing::PersonChange(i)));
}

TEST_CASE("deletes within the threshold go through", "[intake][guard]") {
  Fixture f(3);
  SourceIntake sink(f.intake.get(), "corp/syncrepl", Side::kLdap, "corp",
                    &f.stop);
  REQUIRE(sink.Deliver(People(1, 10), std::string("c1")).ok());
  std::vector<std::string> present;
  for (int i = 1; i <= 8; ++i) present.push_back(testing::PersonChange(i).id);
  REQUIRE(
      sink.EndPresentPhase(present, Phase(PhaseKind::kEnd), std::string("c2"))
          .ok());
  CHECK_FALSE(f.Known(testing::PersonChange(9)));
  CHECK_FALSE(f.Known(testing::PersonChange(10)));
  CHECK(f.Known(testing::PersonChange(8)));
  CHECK(sink.stats().held == 0);
  CHECK(sink.stats().deletes == 2);
}

TEST_CASE("a refresh's cursor waits for its buffered deletes",
          "[intake][guard]") {
  Fixture f(3);
  SourceIntake sink(f.intake.get(), "corp/syncrepl", Side::kLdap, "corp",
                    &f.stop);
  REQUIRE(sink.Deliver(People(1, 4), std::string("c1")).ok());
  std::vector<EventBody> batch;
  batch.emplace_back(Phase(PhaseKind::kBegin));
  batch.emplace_back(testing::PersonChange(1, ChangeOp::kDelete));
  REQUIRE(sink.Deliver(std::move(batch), std::string("c2")).ok());
  // The delete is not yet appended, and the cursor did not move past it.
  CHECK(f.Known(testing::PersonChange(1)));
  CHECK(f.Cursor("corp/syncrepl") == "c1");
  std::vector<EventBody> end;
  end.emplace_back(Phase(PhaseKind::kEnd));
  REQUIRE(sink.Deliver(std::move(end), std::string("c3")).ok());
  CHECK_FALSE(f.Known(testing::PersonChange(1)));
  CHECK(f.Cursor("corp/syncrepl") == "c3");
}

TEST_CASE("persist-mode deletes over the threshold in the window are held",
          "[intake][guard]") {
  Fixture f(3);
  SourceIntake sink(f.intake.get(), "corp/syncrepl", Side::kLdap, "corp",
                    &f.stop);
  REQUIRE(sink.Deliver(People(1, 10), std::string("c1")).ok());
  for (int i = 1; i <= 3; ++i) {
    std::vector<EventBody> one;
    one.emplace_back(testing::PersonChange(i, ChangeOp::kDelete));
    REQUIRE(sink.Deliver(std::move(one), "d" + std::to_string(i)).ok());
  }
  CHECK_FALSE(f.Known(testing::PersonChange(3)));
  std::vector<EventBody> fourth;
  fourth.emplace_back(testing::PersonChange(4, ChangeOp::kDelete));
  REQUIRE(sink.Deliver(std::move(fourth), std::string("d4")).ok());
  CHECK(f.Known(testing::PersonChange(4)));
  CHECK(sink.stats().held == 1);
  CHECK(f.Cursor("corp/syncrepl") == "d4");
}

TEST_CASE("a delete and a new add of the same object keep their order",
          "[intake][guard]") {
  // The mail side reports an address removed and created again in one poll.
  Fixture f(3);
  SourceIntake sink(f.intake.get(), "corp/syncrepl", Side::kLdap, "corp",
                    &f.stop);
  REQUIRE(sink.Deliver(People(1, 4), std::string("c1")).ok());
  std::vector<EventBody> batch;
  batch.emplace_back(testing::PersonChange(1, ChangeOp::kDelete));
  batch.emplace_back(testing::PersonChange(1));
  batch.emplace_back(testing::PersonChange(2, ChangeOp::kDelete));
  REQUIRE(sink.Deliver(std::move(batch), std::string("c2")).ok());
  CHECK(f.Known(testing::PersonChange(1)));
  CHECK_FALSE(f.Known(testing::PersonChange(2)));
  CHECK(f.Cursor("corp/syncrepl") == "c2");
  Event e;
  REQUIRE(f.log->ReadEvent(f.log->last_seq() - 3, &e).ok());
  CHECK(std::get<ObservedChange>(e.body).op == ChangeOp::kDelete);
}

TEST_CASE("a dry run decides but writes nothing and moves no cursor",
          "[intake]") {
  Fixture f;
  {
    SourceIntake sink(f.intake.get(), "corp/syncrepl", Side::kLdap, "corp",
                      &f.stop);
    REQUIRE(sink.Deliver(People(1, 2), std::string("c1")).ok());
  }
  f.Reopen(/*dry=*/true);
  SourceIntake sink(f.intake.get(), "corp/syncrepl", Side::kLdap, "corp",
                    &f.stop);
  REQUIRE(sink.Deliver(People(3, 2), std::string("c2")).ok());
  // The dry run sees its own decisions...
  CHECK(f.intake->projection()
            .GetObject(Side::kLdap, ObjectKind::kAccount,
                       testing::PersonChange(4).id)
            .has_value());
  CHECK(f.intake->Cursor("corp/syncrepl").value() == "c2");
  // ...the log does not (two changes and their cursor from before).
  CHECK(f.log->last_seq() == 3);
  CHECK(f.Cursor("corp/syncrepl") == "c1");
  CHECK_FALSE(f.Known(testing::PersonChange(4)));
}

TEST_CASE("the config is recorded once per fingerprint", "[intake]") {
  Fixture f;
  ConfigChange a{"data_dir = \"a\"", std::string(32, 'a'), {}, "x.toml"};
  ConfigChange b{"data_dir = \"b\"", std::string(32, 'b'), {}, "x.toml"};
  CHECK(*f.intake->RecordConfig(a));
  CHECK_FALSE(*f.intake->RecordConfig(a));
  CHECK(*f.intake->RecordConfig(b));
  CHECK(*f.intake->RecordConfig(a));
  CHECK(f.log->last_seq() == 3);
  std::vector<EventLog::ConfigRecord> history;
  REQUIRE(f.log->ConfigHistory(&history).ok());
  REQUIRE(history.size() == 3);
  CHECK(history[1].seq == 2);
}

namespace {

class FakeApplier : public Applier {
 public:
  Side side() const override { return Side::kMail; }
  ApplyResult Apply(const Intent& intent) override {
    Enter();
    // A test that needs the run stopped before anything is applied: waits
    // for it (at most 10 s).
    const auto give_up = std::chrono::steady_clock::now() + kWaitAtMost;
    while (wait_for && !wait_for->load() &&
           std::chrono::steady_clock::now() < give_up)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    applied.push_back(intent.id);
    if (log && (intent.id >> 16) > log->last_seq()) undurable = true;
    ApplyResult r;
    if (unavailable) r.status = Status::Unavailable("mail server down");
    busy = false;
    return r;
  }
  Status Sync() override {
    Enter();
    ++syncs;
    busy = false;
    if (syncs == fail_sync) return Status::IOError("mail directory: disk full");
    return Status::Ok();
  }
  std::vector<std::uint64_t> applied;
  // When set: whether an intent was applied before its decision was
  // durable (in the log's last_seq).
  const EventLog* log = nullptr;
  std::atomic<bool> undurable{false};
  bool unavailable = false;
  int syncs = 0;
  int fail_sync = 0;  // the Sync call that fails (1-based); 0: none
  std::atomic<bool> overlapped{false};
  const std::atomic<bool>* wait_for = nullptr;  // set before Apply goes on
  static constexpr std::chrono::seconds kWaitAtMost{10};

 private:
  // One thread at a time (Applier's contract): notes a call that overlaps.
  void Enter() {
    if (busy.exchange(true)) overlapped = true;
  }
  std::atomic<bool> busy{false};
};

class FakeSource : public Source {
 public:
  // Delivers `events` in its first pass, `batch` at a time (0: at once),
  // the cookie with the last.
  explicit FakeSource(std::vector<EventBody> events, Side side = Side::kLdap,
                      std::size_t batch = 0)
      : events_(std::move(events)), side_(side), batch_(batch) {
    if (side == Side::kMail) id_ = "mail";
  }
  const std::string& id() const override { return id_; }
  Side side() const override { return side_; }
  Status RunOnce(std::string_view, SourceSink* sink) override {
    ++passes;
    if (during && *during) ++passes_during;
    if (passes > 1 || events_.empty()) return Status::Ok();
    running = true;
    const std::size_t n = batch_ == 0 ? events_.size() : batch_;
    Status s;
    for (std::size_t i = 0; s.ok() && i < events_.size(); i += n) {
      const std::size_t end = std::min(events_.size(), i + n);
      std::vector<EventBody> some(events_.begin() + i, events_.begin() + end);
      std::optional<std::string> cookie;
      if (end == events_.size()) cookie = "cookie";
      s = sink->Deliver(std::move(some), cookie);
    }
    running = false;
    return s;
  }
  Status Run(std::string_view c, SourceSink* sink) override {
    return RunOnce(c, sink);
  }
  bool PassIsIncremental() const override { return incremental; }
  int passes = 0;
  bool running = false;  // in its first pass
  bool incremental = false;
  // Passes made while *during is true (another source's `running`).
  const bool* during = nullptr;
  int passes_during = 0;

 private:
  std::string id_ = "corp/syncrepl";
  std::vector<EventBody> events_;
  Side side_;
  std::size_t batch_;
};

}  // namespace

TEST_CASE("run once: sources, then intents applied and their outcomes logged",
          "[runloop]") {
  Fixture f;
  FakeSource source(People(1, 3));
  FakeSource mail_source({}, Side::kMail);
  FakeApplier mail;
  RunLoop loop(f.intake.get(), {&source, &mail_source},
               {{{Side::kMail, ""}, &mail}}, &f.stop, nullptr);
  RunStats stats;
  REQUIRE(loop.RunOnce(&stats).ok());
  CHECK(mail.applied.size() == 3);
  CHECK(stats.applied == 3);
  // 3 changes, their cursor, 3 outcomes; nothing left pending.
  CHECK(f.log->last_seq() == 7);
  int pending = 0;
  REQUIRE(
      f.log->projection()
          .ForEachPending([&](const PendingIntent&) { return ++pending, true; })
          .ok());
  CHECK(pending == 0);
  // A second round looked for the echoes of the writes on the side written
  // to, and found nothing new; the LDAP side, only read, was not asked again.
  CHECK(mail_source.passes == 2);
  CHECK(source.passes == 1);
}

TEST_CASE("an unavailable peer leaves intents pending for the next run",
          "[runloop]") {
  Fixture f;
  FakeSource source(People(1, 2));
  FakeApplier mail;
  mail.unavailable = true;
  {
    RunLoop loop(f.intake.get(), {&source}, {{{Side::kMail, ""}, &mail}},
                 &f.stop, nullptr);
    RunStats stats;
    REQUIRE(loop.RunOnce(&stats).ok());
    CHECK(stats.retry_later == 2);
    CHECK(stats.left_pending == 2);  // what `run --once` reports (exit 1)
    CHECK(f.log->last_seq() == 3);   // changes and cursor; no outcome
  }
  mail.unavailable = false;
  mail.applied.clear();
  FakeSource idle({});
  RunLoop loop(f.intake.get(), {&idle}, {{{Side::kMail, ""}, &mail}}, &f.stop,
               nullptr);
  RunStats stats;
  REQUIRE(loop.RunOnce(&stats).ok());
  CHECK(mail.applied.size() == 2);
  CHECK(stats.applied == 2);
  CHECK(stats.left_pending == 0);
}

namespace {

// A service's source that delivers its events and then is stopped, as by
// SIGTERM, before the applier could have applied them all.
class StoppedAfterDelivery : public Source {
 public:
  StoppedAfterDelivery(std::vector<EventBody> events, std::atomic<bool>* stop)
      : events_(std::move(events)), stop_(stop) {}
  const std::string& id() const override { return id_; }
  Side side() const override { return Side::kLdap; }
  Status RunOnce(std::string_view, SourceSink*) override {
    return Status::Ok();
  }
  Status Run(std::string_view, SourceSink* sink) override {
    Status s = sink->Deliver(std::move(events_), std::string("cookie"));
    stop_->store(true);
    return s;
  }

 private:
  std::string id_ = "corp/syncrepl";
  std::vector<EventBody> events_;
  std::atomic<bool>* stop_;
};

int Pending(const EventLog& log) {
  int n = 0;
  REQUIRE(log.projection()
              .ForEachPending([&](const PendingIntent& p) {
                n += !p.applied;
                return true;
              })
              .ok());
  return n;
}

}  // namespace

TEST_CASE("a stopped service applies what was decided before it returns",
          "[runloop][drain]") {
  Fixture f;
  // More than two apply batches: stopped at once, the applier had no time.
  StoppedAfterDelivery source(People(1, 600), &f.stop);
  FakeApplier mail;
  std::atomic<bool> hurry{false};
  RunLoop loop(f.intake.get(), {&source}, {{{Side::kMail, ""}, &mail}}, &f.stop,
               nullptr);
  SECTION("drained") {
    RunStats stats;
    REQUIRE(loop.Run(&stats).ok());
    CHECK(stats.applied == 600);
    CHECK(stats.left_pending == 0);
    CHECK(Pending(*f.log) == 0);
    CHECK(f.log->last_seq() == 1201);  // 600 changes, cursor, 600 outcomes
  }
  SECTION("the peer unavailable: left pending, and counted") {
    mail.unavailable = true;
    RunStats stats;
    REQUIRE(loop.Run(&stats).ok());
    CHECK(stats.left_pending == 600);
    CHECK(Pending(*f.log) == 600);
  }
  SECTION("a second signal: no new batch") {
    // The applier may wake for the delivered intents before the source
    // stops the run: its first batch waits for the stop, so the stop is
    // seen after that batch, however the threads are scheduled.
    mail.wait_for = &f.stop;
    hurry = true;
    loop.set_drain(std::chrono::seconds(30), &hurry);
    RunStats stats;
    REQUIRE(loop.Run(&stats).ok());
    CHECK(stats.left_pending > 0);
    CHECK(stats.left_pending == static_cast<std::uint64_t>(Pending(*f.log)));
  }
}

}  // namespace dirledger

namespace dirledger {

TEST_CASE("run once: more intents than one apply batch, each applied once",
          "[runloop]") {
  Fixture f(/*threshold=*/1000);
  FakeSource source(People(1, 600));
  FakeApplier mail;
  RunLoop loop(f.intake.get(), {&source}, {{{Side::kMail, ""}, &mail}}, &f.stop,
               nullptr);
  RunStats stats;
  REQUIRE(loop.RunOnce(&stats).ok());
  CHECK(stats.applied == 600);
  std::vector<std::uint64_t> applied = mail.applied;
  std::sort(applied.begin(), applied.end());
  CHECK(std::adjacent_find(applied.begin(), applied.end()) == applied.end());
  CHECK(applied.size() == 600);
  // 600 changes, their cursor, 600 outcomes (three batches of outcomes);
  // none pending.
  CHECK(f.log->last_seq() == 1201);
  int pending = 0;
  REQUIRE(
      f.log->projection()
          .ForEachPending([&](const PendingIntent&) { return ++pending, true; })
          .ok());
  CHECK(pending == 0);
}

}  // namespace dirledger

namespace dirledger {
namespace {

// Counts the passes an observer is told of, by source.
class PassCounter : public RunObserver {
 public:
  void OnPassStart(const std::string& source) override { ++started[source]; }
  void OnPassEnd(const std::string& source, const Status&,
                 const SourceStats&) override {
    ++ended[source];
  }
  std::map<std::string, int> started, ended;
};

// The sequence of the first outcome and of the last change in the log.
std::pair<std::uint64_t, std::uint64_t> FirstOutcomeLastChange(
    const EventLog& log) {
  std::uint64_t first_outcome = 0, last_change = 0;
  REQUIRE(log.Scan(1, log.last_seq(),
                   [&](const Event& e, const Decision*) {
                     if (std::holds_alternative<WriteOutcome>(e.body) &&
                         first_outcome == 0)
                       first_outcome = e.seq;
                     if (std::holds_alternative<ObservedChange>(e.body))
                       last_change = e.seq;
                     return true;
                   })
              .ok());
  return {first_outcome, last_change};
}

// A long pass: 500 people from an LDAP source in five batches of 100,
// written to the mail side by `mail`; `mail_source` (its pass lists every
// object unless made incremental) is polled while `source` runs, if it is
// in the loop at all.
struct LongPass {
  Fixture f{/*threshold=*/1000};
  FakeSource source{People(1, 500), Side::kLdap, /*batch=*/100};
  FakeSource mail_source{{}, Side::kMail};
  FakeApplier mail;

  LongPass() { mail_source.during = &source.running; }

  // One `run --once` applying every `interval` intents mid-pass (0: off).
  Status RunOnce(RunStats* stats, std::uint64_t interval, bool with_mail_source,
                 RunObserver* observer = nullptr) {
    std::vector<Source*> sources = {&source};
    if (with_mail_source) sources.push_back(&mail_source);
    RunLoop loop(f.intake.get(), sources, {{{Side::kMail, ""}, &mail}}, &f.stop,
                 observer);
    loop.set_mid_pass_intents(interval);
    return loop.RunOnce(stats);
  }
};

}  // namespace

TEST_CASE("run once: a long pass applies as it goes, echoes taken between",
          "[runloop]") {
  LongPass t;
  auto& [f, source, mail_source, mail] = t;
  mail_source.incremental = true;
  mail.log = f.log.get();
  PassCounter passes;
  RunStats stats;
  REQUIRE(t.RunOnce(&stats, 150, /*with_mail_source=*/true, &passes).ok());
  // Every intent applied once, none before its decision was durable.
  CHECK(stats.applied == 500);
  std::vector<std::uint64_t> applied = mail.applied;
  std::sort(applied.begin(), applied.end());
  CHECK(std::adjacent_find(applied.begin(), applied.end()) == applied.end());
  CHECK(applied.size() == 500);
  CHECK_FALSE(mail.undurable);
  CHECK(Pending(*f.log) == 0);
  // Writes were made and logged before the pass had taken everything.
  const auto [first_outcome, last_change] = FirstOutcomeLastChange(*f.log);
  CHECK(first_outcome != 0);
  CHECK(first_outcome < last_change);
  // After the 2nd and the 4th of the five batches (200 intents each time),
  // the side written to was polled for echoes: its source's pass reads a
  // change feed.
  CHECK(mail_source.passes_during == 2);
  // Reported as one pass of the mail source beside the LDAP one, then its
  // own pass and the round that looks for the last echoes.
  CHECK(passes.started["mail"] == 3);
  CHECK(passes.ended["mail"] == 3);
  CHECK(passes.ended["corp/syncrepl"] == 1);
  CHECK(f.Cursor("corp/syncrepl") == "cookie");
}

TEST_CASE("run once: a source that lists everything is not polled mid-pass",
          "[runloop]") {
  LongPass t;  // the mail source's pass lists every object
  auto& [f, source, mail_source, mail] = t;
  mail.log = f.log.get();
  RunStats stats;
  REQUIRE(t.RunOnce(&stats, 150, /*with_mail_source=*/true).ok());
  CHECK(stats.applied == 500);
  CHECK_FALSE(mail.undurable);
  const auto [first_outcome, last_change] = FirstOutcomeLastChange(*f.log);
  CHECK(first_outcome < last_change);
  CHECK(mail_source.passes_during == 0);
  CHECK(mail_source.passes == 2);
}

TEST_CASE("run once: applying after each pass when mid-pass applies are off",
          "[runloop]") {
  LongPass t;
  auto& [f, source, mail_source, mail] = t;
  mail_source.incremental = true;
  RunStats stats;
  REQUIRE(t.RunOnce(&stats, 0, /*with_mail_source=*/true).ok());
  CHECK(stats.applied == 500);
  const auto [first_outcome, last_change] = FirstOutcomeLastChange(*f.log);
  CHECK(first_outcome > last_change);
  CHECK(mail_source.passes_during == 0);
}

TEST_CASE(
    "run once: a peer that cannot take writes is not asked again mid-pass",
    "[runloop]") {
  LongPass t;
  auto& [f, source, mail_source, mail] = t;
  mail.unavailable = true;  // every write is left for later
  RunStats stats;
  REQUIRE(t.RunOnce(&stats, 150, /*with_mail_source=*/false).ok());
  // The first interval tried its (at most 200) writes and stopped the
  // applies of the pass; its end tried all 500 once. Asking again at every
  // interval would have made 900 or more attempts.
  CHECK(mail.applied.size() >= 600);
  CHECK(mail.applied.size() <= 700);
  CHECK(stats.applied == 0);
  CHECK(stats.left_pending == 500);
  CHECK(Pending(*f.log) == 500);
  CHECK(f.Cursor("corp/syncrepl") == "cookie");
}

TEST_CASE(
    "run once: a write that fails mid-pass stops the source, loses nothing",
    "[runloop]") {
  LongPass t;
  auto& [f, source, mail_source, mail] = t;
  mail.fail_sync = 1;  // the first batch's writes are not made durable
  RunStats stats;
  Status s = t.RunOnce(&stats, 150, /*with_mail_source=*/false);
  REQUIRE_FALSE(s.ok());
  CHECK(s.message().find("disk full") != std::string::npos);
  CHECK(s.message().find("corp/syncrepl decided so far") != std::string::npos);
  // The source stopped at its second batch, its cursor where it was (the
  // next run takes the rest); the 200 intents it had decided were applied
  // after it, as after any pass that fails.
  CHECK(stats.applied == 200);
  CHECK(Pending(*f.log) == 0);
  const auto [first_outcome, last_change] = FirstOutcomeLastChange(*f.log);
  CHECK(first_outcome > last_change);
  CHECK(f.Cursor("corp/syncrepl").empty());
  CHECK(f.Known(std::get<ObservedChange>(People(200, 1)[0])));
  CHECK_FALSE(f.Known(std::get<ObservedChange>(People(201, 1)[0])));
}

}  // namespace dirledger

namespace dirledger {

TEST_CASE("apply batches: in order, one at a time, none logged past a failure",
          "[runloop]") {
  Fixture f(/*threshold=*/1000);
  FakeSource source(People(1, 600));
  FakeApplier mail;
  mail.fail_sync = 2;  // the second batch's writes are not made durable
  RunLoop loop(f.intake.get(), {&source}, {{{Side::kMail, ""}, &mail}}, &f.stop,
               nullptr);
  RunStats stats;
  Status s = loop.RunOnce(&stats);
  REQUIRE_FALSE(s.ok());
  CHECK(s.message().find("disk full") != std::string::npos);
  CHECK_FALSE(mail.overlapped);
  // The first two batches were applied, in the order of their intents; the
  // third was never started.
  REQUIRE(mail.applied.size() == 512);
  CHECK(std::is_sorted(mail.applied.begin(), mail.applied.end()));
  CHECK(stats.applied == 256);
  // 600 changes, their cursor and the first batch's 256 outcomes, in
  // intent order.
  REQUIRE(f.log->last_seq() == 857);
  std::vector<std::uint64_t> outcomes;
  REQUIRE(f.log
              ->Scan(602, 857,
                     [&](const Event& e, const Decision*) {
                       if (const auto* o = std::get_if<WriteOutcome>(&e.body))
                         outcomes.push_back(o->intent_id);
                       return true;
                     })
              .ok());
  CHECK(outcomes == std::vector<std::uint64_t>(mail.applied.begin(),
                                               mail.applied.begin() + 256));
  int pending = 0;
  REQUIRE(
      f.log->projection()
          .ForEachPending([&](const PendingIntent&) { return ++pending, true; })
          .ok());
  CHECK(pending == 600 - 256);
}

}  // namespace dirledger

namespace dirledger {

TEST_CASE("a cursor that cannot be read fails the pass, never a resync",
          "[runloop][faults]") {
  Fixture f;
  {
    SourceIntake sink(f.intake.get(), "corp/syncrepl", Side::kLdap, "corp",
                      &f.stop);
    REQUIRE(sink.Deliver(People(1, 2), std::string("c1")).ok());
  }
  f.fault = [](std::string_view what) {
    return what.substr(0, 6) == "cursor" ? Status::IOError("read error (EIO)")
                                         : Status::Ok();
  };
  FakeSource source(People(3, 2));
  FakeApplier mail;
  RunLoop loop(f.intake.get(), {&source}, {{{Side::kMail, ""}, &mail}}, &f.stop,
               nullptr);
  RunStats stats;
  Status s = loop.RunOnce(&stats);
  REQUIRE_FALSE(s.ok());
  CHECK(s.message().find("read error (EIO)") != std::string::npos);
  CHECK(s.message().find("corp/syncrepl") != std::string::npos);
  // The source never ran (with an empty cursor it would have taken
  // everything in again): the log holds the two changes from before, their
  // cursor and the outcomes of their two intents, applied at the start.
  CHECK(source.passes == 0);
  CHECK(f.log->last_seq() == 5);
  f.fault = nullptr;
  CHECK(f.Cursor("corp/syncrepl") == "c1");
}

TEST_CASE("a known-object count that cannot be read stops the delete guard",
          "[intake][guard][faults]") {
  Fixture f(3);
  SourceIntake sink(f.intake.get(), "corp/syncrepl", Side::kLdap, "corp",
                    &f.stop);
  REQUIRE(sink.Deliver(People(1, 10), std::string("c1")).ok());
  f.fault = [](std::string_view what) {
    return what == "projection scan" ? Status::IOError("read error (EIO)")
                                     : Status::Ok();
  };
  // Five deletes in persist mode: the guard needs the count of known
  // objects to decide. A failed count is an error, not a count of 0 (which
  // would hold the deletes as "of 0 known objects", or with a percentage
  // threshold hold or pass them on a wrong base).
  std::vector<EventBody> deletes;
  for (int i = 1; i <= 5; ++i)
    deletes.emplace_back(testing::PersonChange(i, ChangeOp::kDelete));
  Status s = sink.Deliver(std::move(deletes), std::string("d1"));
  REQUIRE_FALSE(s.ok());
  CHECK(s.message().find("read error (EIO)") != std::string::npos);
  CHECK(s.message().find("delete threshold") != std::string::npos);
  CHECK(sink.stats().held == 0);
  CHECK(f.log->last_seq() == 11);
  f.fault = nullptr;
  CHECK(f.Cursor("corp/syncrepl") == "c1");
  CHECK(f.Known(testing::PersonChange(1)));
}

TEST_CASE("a lookup that cannot be read stops the source, never a lost delete",
          "[intake][faults]") {
  Fixture f;
  {
    SourceIntake sink(f.intake.get(), "corp/syncrepl", Side::kLdap, "corp",
                      &f.stop);
    REQUIRE(sink.Deliver(People(1, 3), std::string("c1")).ok());
  }
  const ObservedChange two = testing::PersonChange(2);
  f.fault = [](std::string_view what) {
    return what == "projection read" ? Status::IOError("read error (EIO)")
                                     : Status::Ok();
  };
  SourceIntake sink(f.intake.get(), "corp/syncrepl", Side::kLdap, "corp",
                    &f.stop);
  // A syncrepl delete names the entryUUID alone: the source asks the log
  // what it knows. Answered "unknown", it would drop the delete and store
  // the cursor past it.
  CHECK_FALSE(sink.LookupKnown(two.id).has_value());
  Status s = sink.Deliver(People(4, 1), std::string("c2"));
  REQUIRE_FALSE(s.ok());
  CHECK(s.message().find("read error (EIO)") != std::string::npos);
  CHECK(s.message().find("looking up object " + two.id) != std::string::npos);
  CHECK(s.message().find("corp/syncrepl") != std::string::npos);
  CHECK_FALSE(sink.EndPresentPhase({}, Phase(PhaseKind::kEnd), "c3").ok());
  CHECK(f.log->last_seq() == 4);
  CHECK(f.Cursor("corp/syncrepl") == "c1");
  // Once the store reads again, a new pass finds the object.
  f.fault = nullptr;
  SourceIntake again(f.intake.get(), "corp/syncrepl", Side::kLdap, "corp",
                     &f.stop);
  REQUIRE(again.LookupKnown(two.id).has_value());
  CHECK(again.LookupKnown(two.id)->id == two.id);
}

}  // namespace dirledger

namespace dirledger {
namespace {

// A clock the test moves.
class ManualClock : public Clock {
 public:
  std::int64_t NowMicros() override { return now; }
  std::int64_t now = 1'700'000'000'000'000;
};

// The service's intake with the real reconciler: deletes wait
// (delete_delay_s 3, threshold 20), counted by the reconciler.
struct DelayFixture {
  test::TempDir tmp;
  ManualClock clock;
  std::unique_ptr<EventLog> log;
  std::unique_ptr<Intake> intake;
  std::atomic<bool> stop{false};
  std::unique_ptr<SourceIntake> sink;

  DelayFixture() {
    LogOptions o;
    o.sync = false;
    o.clock = &clock;
    log = OpenTestLog(tmp.path(), o);
    intake = std::make_unique<Intake>(log.get(), Rules(20), ReconcileDecider());
    sink = std::make_unique<SourceIntake>(intake.get(), "corp/syncrepl",
                                          Side::kLdap, "corp", &stop);
    sink->set_delete_delay(3);
    REQUIRE(sink->Deliver(People(1, 100), std::string("c0")).ok());
  }
  // Deletes of people [first, last], one Deliver each (as persist mode
  // reports them), 10 ms apart.
  void Delete(int first, int last) {
    for (int i = first; i <= last; ++i) {
      clock.now += 10'000;
      std::vector<EventBody> one;
      one.emplace_back(testing::PersonChange(i, ChangeOp::kDelete));
      REQUIRE(sink->Deliver(std::move(one), "d" + std::to_string(i)).ok());
    }
  }
  std::vector<HoldState> Holds(HoldStatus status) {
    std::vector<HoldState> out;
    REQUIRE(log->projection()
                .ForEachHold([&](const HoldState& h) {
                  if (h.status == status) out.push_back(h);
                  return true;
                })
                .ok());
    return out;
  }
  int PendingDeletes() {
    int n = 0;
    REQUIRE(log->projection()
                .ForEachPending([&](const PendingIntent& p) {
                  n += p.intent.op == IntentOp::kDelete;
                  return true;
                })
                .ok());
    return n;
  }
};

}  // namespace

TEST_CASE("service mode: a burst over the threshold is held whole",
          "[intake][guard][delay]") {
  DelayFixture f;
  f.Delete(1, 30);
  // One hold of all 30; no delete decided, the entries still known.
  const auto holds = f.Holds(HoldStatus::kOpen);
  REQUIRE(holds.size() == 1);
  CHECK(holds[0].hold.deletes.size() == 30);
  CHECK(f.PendingDeletes() == 0);
  CHECK(f.log->projection()
            .GetObject(Side::kLdap, ObjectKind::kAccount,
                       testing::PersonChange(1).id)
            .has_value());
  CHECK(f.sink->stats().deletes == 30);
  // Nothing waits: a release finds nothing due, even much later.
  RunLoop loop(f.intake.get(), {}, {}, &f.stop, nullptr);
  f.clock.now += 600'000'000;
  std::int64_t next = -1;
  REQUIRE(loop.ReleaseDue(&next).ok());
  CHECK(next == 0);
  CHECK(f.PendingDeletes() == 0);
}

TEST_CASE("service mode: deletes under the threshold are made when due",
          "[intake][guard][delay]") {
  DelayFixture f;
  f.Delete(1, 5);
  CHECK(f.PendingDeletes() == 0);
  const auto waiting = f.Holds(HoldStatus::kWaiting);
  REQUIRE(waiting.size() == 1);
  REQUIRE(waiting[0].due_us.size() == 5);
  RunLoop loop(f.intake.get(), {}, {}, &f.stop, nullptr);
  std::int64_t next = 0;
  // Before the first is due: nothing.
  REQUIRE(loop.ReleaseDue(&next).ok());
  CHECK(next == waiting[0].due_us[0]);
  CHECK(f.PendingDeletes() == 0);
  // Due: the run loop's release decides them as deletes.
  f.clock.now = waiting[0].due_us[2];
  REQUIRE(loop.ReleaseDue(&next).ok());
  CHECK(f.PendingDeletes() == 3);
  CHECK(next == waiting[0].due_us[3]);
  f.clock.now = waiting[0].due_us[4];
  REQUIRE(loop.ReleaseDue(&next).ok());
  CHECK(f.PendingDeletes() == 5);
  CHECK(next == 0);
  CHECK(f.Holds(HoldStatus::kReleased).size() == 1);
}

TEST_CASE("service mode: a re-add within the delay cancels the delete",
          "[intake][guard][delay]") {
  DelayFixture f;
  std::vector<EventBody> batch;
  batch.emplace_back(testing::PersonChange(7, ChangeOp::kDelete));
  batch.emplace_back(testing::PersonChange(7, ChangeOp::kAdd));
  REQUIRE(f.sink->Deliver(std::move(batch), std::string("m1")).ok());
  CHECK(f.Holds(HoldStatus::kWaiting).empty());
  RunLoop loop(f.intake.get(), {}, {}, &f.stop, nullptr);
  f.clock.now += 600'000'000;
  REQUIRE(loop.ReleaseDue(nullptr).ok());
  CHECK(f.PendingDeletes() == 0);
}

}  // namespace dirledger

namespace dirledger {

TEST_CASE("tasks posted to a running service run on its applier thread",
          "[runloop][post]") {
  Fixture f;
  FakeApplier mail;
  RunLoop loop(f.intake.get(), {}, {{{Side::kMail, ""}, &mail}}, &f.stop,
               nullptr);
  // Not running: refused, and the task is never called.
  bool called = false;
  CHECK_FALSE(loop.Post([&](bool) { called = true; }));
  CHECK_FALSE(called);

  // Assertions are made on this thread only, after the poster is done.
  std::thread::id task_thread;
  std::promise<bool> ran;
  std::promise<bool> late;
  bool late_posted = false;
  bool stop_posted = false;
  std::thread poster([&] {
    // Run() takes tasks once it has started.
    while (!loop.Post([&](bool run) {
      task_thread = std::this_thread::get_id();
      ran.set_value(run);
    }))
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ran.get_future().wait();
    // A task queued while the service stops is cancelled, not dropped: it
    // is called with false.
    stop_posted = loop.Post([&](bool) {
      late_posted = loop.Post([&](bool run) { late.set_value(run); });
      f.stop = true;
    });
  });
  RunStats stats;
  const std::thread::id loop_thread = std::this_thread::get_id();
  REQUIRE(loop.Run(&stats).ok());
  poster.join();
  CHECK(task_thread == loop_thread);
  REQUIRE(stop_posted);
  REQUIRE(late_posted);
  CHECK(late.get_future().get() == false);
  // After Run: refused again.
  CHECK_FALSE(loop.Post([&](bool) { called = true; }));
  CHECK_FALSE(called);
}

namespace {

// TestDecider, and: a failed outcome opens a failure; a change to an object
// whose id starts with "conflict" opens a conflict (kept open, with the seq
// that opened it, by later changes); a DeleteHold opens its hold again.
void OpeningDecider(const ProjectionView& state, const Event& e,
                    const RuleSet& rules, Decision* d, StateDelta* delta) {
  TestDecider(state, e, rules, d, delta);
  if (const auto* w = std::get_if<WriteOutcome>(&e.body); w && !w->ok) {
    FailureState f;
    f.side = w->side;
    f.object = w->target_id;
    f.intent_id = w->intent_id;
    f.message = w->message;
    f.since_seq = e.seq;
    delta->mutations.push_back(PutFailure{f});
  }
  if (const auto* c = std::get_if<ObservedChange>(&e.body);
      c && c->id.rfind("conflict", 0) == 0) {
    ConflictState s;
    s.ldap_id = c->id;
    s.mail_id = c->id + "@mail";
    const auto was = state.GetConflict(ObjectKind::kAccount, c->id);
    s.opened_seq = was ? was->opened_seq : e.seq;
    delta->mutations.push_back(PutConflict{s});
  }
}

}  // namespace

TEST_CASE("the intake tells each hold, failure and conflict it opens, once",
          "[intake][opened]") {
  test::TempDir tmp;
  LogOptions o;
  o.sync = false;
  auto log = OpenTestLog(tmp.path(), o);
  Intake intake(log.get(), Rules(3), OpeningDecider);
  std::vector<OpenedRecord> told;
  std::uint64_t head_when_told = 0;
  intake.set_opened_listener([&](const OpenedRecord& r) {
    told.push_back(r);
    head_when_told = log->last_seq();
  });
  DeleteHold hold;
  hold.hold_id = "hold-x";
  hold.source = "corp/syncrepl";
  hold.deletes.resize(4);
  ObservedChange conflict = testing::PersonChange(1);
  conflict.id = "conflict-1";
  WriteOutcome failed;
  failed.intent_id = 7;
  failed.side = Side::kMail;
  failed.target_id = "a@example.com";
  failed.message = "refused";
  WriteOutcome ok = failed;
  ok.ok = true;

  std::vector<EventBody> batch;
  batch.emplace_back(testing::PersonChange(2));
  batch.emplace_back(hold);
  batch.emplace_back(conflict);
  batch.emplace_back(failed);
  batch.emplace_back(ok);
  REQUIRE(intake.Append(std::move(batch), std::nullopt).ok());
  REQUIRE(told.size() == 3);
  CHECK(head_when_told == 5);  // told once the batch is written
  CHECK(told[0].seq == 2);
  CHECK(std::get<HoldState>(told[0].record).hold.hold_id == "hold-x");
  CHECK(told[1].seq == 3);
  CHECK(std::get<ConflictState>(told[1].record).ldap_id == "conflict-1");
  CHECK(told[2].seq == 4);
  CHECK(FailureId(std::get<FailureState>(told[2].record)) == "F4");
  CHECK(told[2].time_us > 0);

  // The same hold again, and the conflict again: both still open, not new.
  told.clear();
  std::vector<EventBody> again;
  again.emplace_back(hold);
  again.emplace_back(conflict);
  REQUIRE(intake.Append(std::move(again), std::nullopt).ok());
  CHECK(told.empty());

  // Without a listener, nothing is told.
  intake.set_opened_listener(nullptr);
  std::vector<EventBody> more;
  more.emplace_back(failed);
  REQUIRE(intake.Append(std::move(more), std::nullopt).ok());
  CHECK(told.empty());
}

TEST_CASE("a dry run tells nothing opened", "[intake][opened]") {
  test::TempDir tmp;
  LogOptions o;
  o.sync = false;
  auto log = OpenTestLog(tmp.path(), o);
  IntakeOptions io;
  io.dry_run = true;
  Intake intake(log.get(), Rules(3), OpeningDecider, io);
  int told = 0;
  intake.set_opened_listener([&](const OpenedRecord&) { ++told; });
  DeleteHold hold;
  hold.hold_id = "hold-y";
  std::vector<EventBody> batch;
  batch.emplace_back(hold);
  REQUIRE(intake.Append(std::move(batch), std::nullopt).ok());
  CHECK(told == 0);
}

}  // namespace dirledger

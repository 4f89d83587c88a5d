// ad_dirsync_intake: one DirSync pass of a config's Active Directory
// connector into the log, for tools/bench/ad_bench.sh: each Deliver is one
// LogTransaction (the events, a CursorAdvance and the cursor, in one
// WriteBatch), as the engine's intake writes them. The known-object table is
// kept in memory (the engine's sink reads it from the projection).
//
// Prints one line of figures: key=value pairs.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>

#include "engine/dirsync/dirsync_source.h"
#include "engine/dirsync/recording_sink.h"
#include "storage/event_log.h"

namespace dirledger {
namespace {

class LogSink : public SourceSink {
 public:
  LogSink(EventLog* log, std::string source)
      : log_(log), source_(std::move(source)) {}

  Status Deliver(std::vector<EventBody> events,
                 const std::optional<std::string>& cookie) override {
    DIRLEDGER_RETURN_IF_ERROR(Append(events, cookie));
    Status s = known_.Deliver(std::move(events), cookie);
    known_.ClearDeliveries();
    return s;
  }

  Status EndPresentPhase(std::vector<std::string> present_ids, RefreshPhase end,
                         const std::optional<std::string>& cookie) override {
    // The memory sink works out the deletes; the log gets the same events.
    Status s = known_.EndPresentPhase(std::move(present_ids), end, cookie);
    if (!s.ok() && s.code() != StatusCode::kHeld) return s;
    std::vector<EventBody> events = known_.deliveries().back().events;
    known_.ClearDeliveries();
    DIRLEDGER_RETURN_IF_ERROR(Append(events, cookie));
    return s;
  }

  Status ForEachKnown(const std::function<bool(ObjectKind, std::string_view,
                                               const AttrList&)>& fn) override {
    return known_.ForEachKnown(fn);
  }
  std::optional<ObjectState> LookupKnown(std::string_view id) override {
    return known_.LookupKnown(id);
  }
  bool StopRequested() const override { return false; }

  std::uint64_t commits() const { return commits_; }
  std::uint64_t events() const { return events_; }

 private:
  Status Append(const std::vector<EventBody>& events,
                const std::optional<std::string>& cookie) {
    Result<std::unique_ptr<LogTransaction>> txn = log_->Begin();
    if (!txn.ok()) return txn.status();
    auto add = [&](EventBody body) -> Status {
      std::vector<std::string> ids;
      if (const auto* c = std::get_if<ObservedChange>(&body)) ids = {c->id};
      if (const auto* e = std::get_if<ObjectError>(&body))
        if (!e->id.empty()) ids = {e->id};
      Event ev;
      ev.seq = (*txn)->NextSeq();
      ev.body = std::move(body);
      ++events_;
      return (*txn)->Add(&ev, nullptr, ids);
    };
    for (const EventBody& e : events) DIRLEDGER_RETURN_IF_ERROR(add(e));
    if (cookie) {
      DIRLEDGER_RETURN_IF_ERROR(add(CursorAdvance{source_, *cookie}));
      DIRLEDGER_RETURN_IF_ERROR((*txn)->PutCursor(source_, *cookie));
    }
    ++commits_;
    return (*txn)->Commit();
  }

  EventLog* log_;
  std::string source_;
  RecordingSink known_;
  std::uint64_t commits_ = 0;
  std::uint64_t events_ = 0;
};

int Main(int argc, char** argv) {
  CLI::App app{
      "one DirSync pass of an Active Directory connector into the log"};
  std::string config_path;
  std::string connector;
  bool resume = false;
  bool print_search = false;
  app.add_option("--config", config_path, "config file")->required();
  app.add_option("--connector", connector,
                 "connector (default: the first one)");
  app.add_flag("--resume", resume,
               "start from the cursor stored in the log (default: full pass)");
  app.add_flag("--print-search", print_search,
               "print the search filter and attributes, one line, and exit");
  CLI11_PARSE(app, argc, argv);

  Result<Config> cfg = LoadConfigFile(config_path);
  if (!cfg.ok()) {
    std::cerr << cfg.status().ToString() << "\n";
    return 2;
  }
  if (connector.empty() && !cfg->connectors.empty())
    connector = cfg->connectors.front().name;
  LogOptions lo;
  lo.sync = cfg->fsync;
  const std::string data_dir = cfg->Resolve(cfg->data_dir);
  auto rules = RuleSet::Compile(*cfg);
  if (!rules.ok()) {
    std::cerr << rules.status().ToString() << "\n";
    return 2;
  }
  if (print_search) {
    const ConnectorRules* c = (*rules)->connector(connector);
    if (!c) {
      std::cerr << "no connector " << connector << "\n";
      return 2;
    }
    std::cout << DirSyncSearchFilter(c->map, c->config.group_sync);
    for (const std::string& a :
         DirSyncSearchAttributes(c->map, c->config.group_sync))
      std::cout << " " << a;
    std::cout << "\n";
    return 0;
  }
  Result<DirSyncOptions> options = DirSyncOptionsFor(*rules, connector);
  if (!options.ok()) {
    std::cerr << options.status().ToString() << "\n";
    return 2;
  }
  Result<std::unique_ptr<EventLog>> log = EventLog::Open(data_dir, lo);
  if (!log.ok()) {
    std::cerr << log.status().ToString() << "\n";
    return 1;
  }
  std::string cookie;
  if (resume) {
    Status s = (*log)->GetCursor(options->source_id, &cookie);
    if (!s.ok() && !s.IsNotFound()) {
      std::cerr << s.ToString() << "\n";
      return 1;
    }
  }
  DirSyncSource source(std::move(options).value());
  LogSink sink(log->get(), source.id());
  const auto t0 = std::chrono::steady_clock::now();
  Status s = source.RunOnce(cookie, &sink);
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();
  if (!s.ok()) {
    std::cerr << s.ToString() << "\n";
    return s.code() == StatusCode::kHeld ? 3 : 1;
  }
  const DirSyncPassReport& r = source.last_pass();
  std::printf(
      "seconds=%.3f full=%d entries=%llu changes=%llu errors=%llu present=%llu "
      "log_events=%llu commits=%llu last_seq=%llu entries_per_s=%.0f\n",
      secs, r.full ? 1 : 0, static_cast<unsigned long long>(r.entries),
      static_cast<unsigned long long>(r.changes),
      static_cast<unsigned long long>(r.errors),
      static_cast<unsigned long long>(r.present),
      static_cast<unsigned long long>(sink.events()),
      static_cast<unsigned long long>(sink.commits()),
      static_cast<unsigned long long>((*log)->last_seq()),
      secs > 0 ? static_cast<double>(r.entries) / secs : 0.0);
  return 0;
}

}  // namespace
}  // namespace dirledger

int main(int argc, char** argv) { return dirledger::Main(argc, argv); }

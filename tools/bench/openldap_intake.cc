// openldap_intake: the OpenLDAP intake of `dirledger run`, for the
// benchmark (tools/bench/openldap_bench.sh): the connector's syncrepl source
// delivering into the event log of the config's data_dir, cursor and events
// in one transaction per batch.
//
//   openldap_intake --config FILE [--connector NAME]
//       one refreshOnly pass from the stored cursor, as `run --once` does
//   openldap_intake --config FILE --latency N --dn-format FMT --attr A
//       refreshAndPersist; once the refresh is done, N single modifies of
//       attribute A of the entries FMT names (printf with the number
//       1..N), one at a time, each timed from just before the modify is sent
//       to the moment the change it causes is durable in the log.
//
// Prints key=value lines: times, counts, peak RSS.
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <thread>

#include "codecs/config.h"
#include "engine/ldap/ldap_mods.h"
#include "engine/ldap/ldap_ops.h"
#include "engine/secrets.h"
#include "engine/syncrepl/syncrepl_source.h"
#include "storage/event_log.h"
#include "tools/bench/event_log_sink.h"

namespace dirledger {
namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

long PeakRssKib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

// Keeps nothing: what the source costs on its own.
class NullSink : public SourceSink {
 public:
  Status Deliver(std::vector<EventBody> e,
                 const std::optional<std::string>&) override {
    events += e.size();
    return Status::Ok();
  }
  Status EndPresentPhase(std::vector<std::string>, RefreshPhase,
                         const std::optional<std::string>&) override {
    return Status::Ok();
  }
  Status ForEachKnown(const std::function<bool(ObjectKind, std::string_view,
                                               const AttrList&)>&) override {
    return Status::Ok();
  }
  std::optional<ObjectState> LookupKnown(std::string_view) override {
    return std::nullopt;
  }
  bool StopRequested() const override { return false; }
  std::uint64_t events = 0;
};

int Fail(const Status& st) {
  std::cerr << "openldap_intake: " << st.ToString() << "\n";
  return 1;
}

int Latency(const Config& config, const ConnectorRules& connector,
            SyncreplSource* source, EventLogSink* sink,
            const std::string& cookie, int n, const std::string& dn_format,
            const std::string& attr) {
  std::mutex mu;
  std::condition_variable cv;
  std::string want_dn, want_value;
  bool seen = false;
  sink->SetObserver([&](const ObservedChange& c) {
    std::lock_guard<std::mutex> lock(mu);
    if (!want_dn.empty() && c.dn == want_dn &&
        FirstValue(c.attrs, attr) == want_value)
      seen = true;
    cv.notify_all();
  });
  Status run_status;
  std::thread runner([&] { run_status = source->Run(cookie, sink); });
  // The refresh is over once a delivery stored the cursor.
  for (int i = 0; i < 12000 && sink->cursor_commits() == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (sink->cursor_commits() == 0) {
    sink->RequestStop();
    runner.join();
    return Fail(run_status.ok() ? Status::Timeout("the refresh did not end")
                                : run_status);
  }
  const ConnectorConfig& cc = connector.config;
  auto password = ReadSecret(config, cc.bind_password_file,
                             cc.bind_password_env, "bind password");
  if (!password.ok()) return Fail(password.status());
  LdapConnectOptions o;
  o.uris = cc.uris;
  o.bind_dn = cc.bind_dn;
  o.password = *password;
  o.timeout_s = cc.timeout_s;
  o.what = "modifier";
  auto conn = LdapConnection::Connect(o);
  if (!conn.ok()) return Fail(conn.status());
  std::vector<double> ms;
  const auto started = Clock::now();
  for (int i = 1; i <= n; ++i) {
    char dn[512];
    std::snprintf(dn, sizeof(dn), dn_format.c_str(), i);
    const std::string value = "latency probe " + std::to_string(i);
    {
      std::lock_guard<std::mutex> lock(mu);
      want_dn = dn;
      want_value = value;
      seen = false;
    }
    LdapModList mods;
    mods.Append(ModOp::kReplace, attr, {value});
    const auto t0 = Clock::now();
    auto reply = ModifyEntry(**conn, dn, mods, {});
    if (!reply.ok()) return Fail(reply.status());
    std::unique_lock<std::mutex> lock(mu);
    if (!cv.wait_for(lock, std::chrono::seconds(10), [&] { return seen; })) {
      std::cerr << "openldap_intake: no event for " << dn << " within 10 s\n";
      sink->RequestStop();
      runner.join();
      return 1;
    }
    ms.push_back(Since(t0) * 1000);
  }
  const double total = Since(started);
  sink->RequestStop();
  runner.join();
  if (!run_status.ok()) return Fail(run_status);
  std::sort(ms.begin(), ms.end());
  auto pct = [&](double p) {
    return ms[std::min(ms.size() - 1,
                       static_cast<std::size_t>(p / 100.0 * ms.size()))];
  };
  std::printf("persist_modifies=%d\npersist_total_s=%.2f\n", n, total);
  std::printf(
      "persist_latency_ms_p50=%.2f\npersist_latency_ms_p99=%.2f\n"
      "persist_latency_ms_max=%.2f\n",
      pct(50), pct(99), ms.back());
  std::printf("peak_rss_kib=%ld\n", PeakRssKib());
  return 0;
}

int Main(int argc, char** argv) {
  CLI::App app{"openldap_intake: syncrepl into the event log (benchmark)"};
  std::string config_path, connector_name = "corp", dn_format, attr = "title";
  int latency = 0;
  bool print_search = false;
  bool null_sink = false;
  app.add_option("--config", config_path, "dirledger config file")->required();
  app.add_option("--connector", connector_name, "connector name");
  app.add_option("--latency", latency, "persist mode: N timed modifies");
  app.add_option("--dn-format", dn_format, "printf format of modified DNs");
  app.add_option("--attr", attr, "attribute the modifies replace");
  app.add_flag("--null-sink", null_sink,
               "deliver into a sink that keeps nothing (the source alone)");
  app.add_flag("--print-search", print_search,
               "print the sync search (base, filter, attributes) and exit");
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);

  auto config = LoadConfigFile(config_path);
  if (!config.ok()) return Fail(config.status());
  LogOptions lo;
  lo.sync = config->fsync;
  auto log = EventLog::Open(config->Resolve(config->data_dir), lo);
  if (!log.ok()) return Fail(log.status());
  auto rules = RuleSet::Compile(*config);
  if (!rules.ok()) return Fail(rules.status());
  const ConnectorRules* connector = (*rules)->connector(connector_name);
  if (!connector)
    return Fail(Status::InvalidArgument("no connector " + connector_name));
  auto source = SyncreplSource::Create(*rules, connector_name);
  if (!source.ok()) return Fail(source.status());
  if (print_search) {
    const SyncSearch& search = (*source)->search();
    std::printf("%s\t%s\t", search.base.c_str(), search.filter.c_str());
    for (const std::string& a : search.attributes)
      std::printf("%s ", a.c_str());
    std::printf("\n");
    return 0;
  }
  EventLogSink sink(log->get(), (*source)->id(), connector->DeleteThreshold(0));
  if (Status s = sink.Load(); !s.ok()) return Fail(s);
  std::string cookie;
  if (Status s = (*log)->GetCursor((*source)->id(), &cookie);
      !s.ok() && !s.IsNotFound())
    return Fail(s);

  if (latency > 0)
    return Latency(*config, *connector, source->get(), &sink, cookie, latency,
                   dn_format, attr);

  if (null_sink) {
    NullSink null;
    const auto t = Clock::now();
    Status st = (*source)->RunOnce("", &null);
    if (!st.ok()) return Fail(st);
    std::printf("source_only_s=%.2f\nevents=%llu\npeak_rss_kib=%ld\n", Since(t),
                static_cast<unsigned long long>(null.events), PeakRssKib());
    return 0;
  }
  const auto t = Clock::now();
  Status st = (*source)->RunOnce(cookie, &sink);
  const double secs = Since(t);
  if (!st.ok()) return Fail(st);
  const SyncreplStats& s = (*source)->stats();
  std::printf("log_append_s=%.2f\n", sink.append_s());
  std::printf(
      "intake_s=%.2f\nevents=%llu\ncommits=%llu\nchanges=%llu\n"
      "known_objects=%zu\nlog_last_seq=%llu\npeak_rss_kib=%ld\n",
      secs, static_cast<unsigned long long>(sink.events()),
      static_cast<unsigned long long>(sink.commits()),
      static_cast<unsigned long long>(s.changes), sink.known(),
      static_cast<unsigned long long>((*log)->last_seq()), PeakRssKib());
  return 0;
}

}  // namespace
}  // namespace dirledger

int main(int argc, char** argv) { return dirledger::Main(argc, argv); }

// End to end: the service's metrics endpoint scraped by a real Prometheus
// server (docs/operations.md, "Monitoring"). A real slapd with 20 people,
// `dirledger run` with [service] metrics_listen = 127.0.0.1:4221, and
// `prometheus` (Debian's) scraping it every second into a temp dir:
//   - /healthz answers 200, /readyz 200 after the first refresh;
//   - Prometheus's query API gives dirledger_log_records equal to the log's
//     record count (`status`), dirledger_source_up{source="corp/syncrepl"}
//     1, the mail writes in dirledger_writes_total and the latency
//     histogram, no intent pending;
//   - `promtool check metrics` accepts the endpoint's body;
//   - slapd stopped: dirledger_source_up 0 (syncrepl retries by itself);
//     started again: 1;
//   - a second service (its own data dir) on the same address is refused,
//     naming it;
//   - stopped with the service: nothing answers on the address after.
// Ports: slapd 4220, metrics 4221, Prometheus 4222.
#include <fcntl.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <thread>

#include "tests/e2e/e2e_env.h"

namespace dirledger::test {
namespace {

constexpr int kSlapdPort = 4220;
constexpr int kMetricsPort = 4221;
constexpr int kPrometheusPort = 4222;
constexpr int kPeople = 20;
// Prometheus starting and scraping: far above what it needs.
constexpr int kPrometheusLimitS = 60;

// `prometheus` in `dir`, writing nowhere else: its config, its TSDB and its
// output are in `dir`. Stopped (SIGTERM, by its pid) when destroyed.
class Prometheus {
 public:
  explicit Prometheus(const std::string& dir) : dir_(dir) {
    {
      std::ofstream yml(dir_ + "/prometheus.yml");
      yml << "global:\n"
             "  scrape_interval: 1s\n"
             "  evaluation_interval: 1s\n"
             "scrape_configs:\n"
             "  - job_name: dirledger\n"
             "    static_configs:\n"
             "      - targets: ['127.0.0.1:"
          << kMetricsPort << "']\n";
    }
    const std::string config = "--config.file=" + dir_ + "/prometheus.yml";
    const std::string tsdb = "--storage.tsdb.path=" + dir_ + "/tsdb";
    const std::string listen =
        "--web.listen-address=127.0.0.1:" + std::to_string(kPrometheusPort);
    const std::string log = dir_ + "/prometheus.log";
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      if (chdir(dir_.c_str()) != 0) _exit(127);
      const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (fd < 0) _exit(127);
      dup2(fd, 1);
      dup2(fd, 2);
      execlp("prometheus", "prometheus", config.c_str(), tsdb.c_str(),
             listen.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
  }
  ~Prometheus() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    for (int i = 0; i < 200; ++i) {
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  Prometheus(const Prometheus&) = delete;
  Prometheus& operator=(const Prometheus&) = delete;

  std::string Log() const { return ReadFile(dir_ + "/prometheus.log"); }

  // The value of the instant query `query`'s only result, or nullopt while
  // there is none (not scraped yet).
  std::optional<double> Query(const std::string& query) const {
    httplib::Client c("127.0.0.1", kPrometheusPort);
    c.set_connection_timeout(2, 0);
    c.set_read_timeout(5, 0);
    auto r = c.Get("/api/v1/query", httplib::Params{{"query", query}},
                   httplib::Headers{});
    if (!r || r->status != 200) return std::nullopt;
    auto j = nlohmann::json::parse(r->body, nullptr, false);
    if (j.is_discarded() || j["status"] != "success") return std::nullopt;
    const auto& result = j["data"]["result"];
    if (!result.is_array() || result.size() != 1) return std::nullopt;
    return std::stod(result[0]["value"][1].get<std::string>());
  }

 private:
  std::string dir_;
  pid_t pid_ = -1;
};

// GET `path` from the metrics endpoint: status and body (status 0: no
// answer).
std::pair<int, std::string> Get(const std::string& path) {
  httplib::Client c("127.0.0.1", kMetricsPort);
  c.set_connection_timeout(2, 0);
  c.set_read_timeout(5, 0);
  auto r = c.Get(path.c_str());
  if (!r) return {0, ""};
  return {r->status, r->body};
}

// `promtool check metrics` with `body` on its stdin: its exit code, its
// output in `*output`.
int PromtoolCheck(const std::string& body, const std::string& dir,
                  std::string* output) {
  const std::string out = dir + "/promtool.out";
  FILE* p = popen(("promtool check metrics > " + out + " 2>&1").c_str(), "w");
  REQUIRE(p != nullptr);
  std::fwrite(body.data(), 1, body.size(), p);
  const int status = pclose(p);
  *output = ReadFile(out);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST_CASE("service: Prometheus scrapes the metrics endpoint",
          "[e2e][metrics]") {
  E2eConfig config;
  config.group_sync = false;
  E2eEnv env(kSlapdPort, kPeople, config);
  CliRunner& dl = env.cli();
  dl.WriteConfig(
      ConfigText(config, env.slapd().url(), env.slapd().password_file()) +
      "\n[service]\nmetrics_listen = \"127.0.0.1:" +
      std::to_string(kMetricsPort) + "\"\n");
  dl.StartService({"run"});
  WaitUntil("the first sync of the people",
            [&] { return MailCount(dl) == kPeople; });
  WaitUntil("/readyz 200 after the first refresh",
            [&] { return Get("/readyz").first == 200; });
  CHECK(Get("/readyz").second == "ready\n");
  const auto health = Get("/healthz");
  CHECK(health.first == 200);
  CHECK(health.second == "ok\n");

  // The endpoint's body passes Prometheus's own checker.
  const auto metrics = Get("/metrics");
  REQUIRE(metrics.first == 200);
  std::string promtool;
  const int promtool_exit =
      PromtoolCheck(metrics.second, env.tmp().path(), &promtool);
  INFO("promtool check metrics:\n"
       << promtool << "\nbody:\n"
       << metrics.second);
  CHECK(promtool_exit == 0);

  // --- Prometheus scrapes it; its query API gives what the log says.
  std::filesystem::create_directories(env.tmp() / "prometheus");
  Prometheus prometheus(env.tmp() / "prometheus");
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::seconds(kPrometheusLimitS);
  // The query's value once it equals `want()` (which may change: the log
  // still grows a little after the writes), or the last one seen by the
  // deadline.
  auto settled = [&](const std::string& query,
                     const std::function<double()>& want) {
    std::optional<double> got;
    while (std::chrono::steady_clock::now() < deadline) {
      got = prometheus.Query(query);
      if (got && *got == want()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    return got;
  };
  std::uint64_t records = 0;
  const std::optional<double> scraped = settled("dirledger_log_records", [&] {
    records = env.LastSeq();
    return static_cast<double>(records);
  });
  INFO("prometheus output:\n" << prometheus.Log());
  REQUIRE(scraped.has_value());  // else: nothing scraped within the limit
  CHECK(*scraped == static_cast<double>(records));
  CHECK(records == env.LastSeq());
  CHECK(records > static_cast<std::uint64_t>(kPeople));
  const auto value = [](double v) { return [v] { return v; }; };
  CHECK(settled("dirledger_source_up{source=\"corp/syncrepl\"}", value(1)) ==
        std::optional<double>(1));
  CHECK(settled("up{job=\"dirledger\"}", value(1)) == std::optional<double>(1));
  CHECK(settled("sum(dirledger_writes_total{side=\"mail\",result=\"ok\"})",
                value(kPeople)) == std::optional<double>(kPeople));
  CHECK(settled("dirledger_change_apply_latency_seconds_count{side=\"mail\"}",
                value(kPeople)) == std::optional<double>(kPeople));
  CHECK(settled("dirledger_intents_pending{side=\"mail\"}", value(0)) ==
        std::optional<double>(0));

  // --- slapd stopped: the source is down (it retries by itself); started
  // again: up once it has refreshed.
  const std::string up = "dirledger_source_up{source=\"corp/syncrepl\"} ";
  env.slapd().Stop();
  WaitUntil("source_up 0 with slapd stopped",
            [&] { return Contains(Get("/metrics").second, up + "0\n"); });
  env.slapd().Start();
  WaitUntil("source_up 1 with slapd back",
            [&] { return Contains(Get("/metrics").second, up + "1\n"); });

  // --- the address is the service's: another service (its own data dir)
  // is refused, naming it.
  std::filesystem::create_directories(env.tmp() / "second");
  CliRunner other(env.tmp() / "second");
  other.WriteConfig(ReadFile(dl.config_path()));
  auto second = other.Run({"run"});
  INFO(second.Describe());
  CHECK(second.exit_code == 1);
  CHECK(Contains(second.err,
                 "cannot listen on 127.0.0.1:" + std::to_string(kMetricsPort)));
  CHECK(Contains(second.err, "in use"));

  auto stopped = dl.StopService();
  INFO(stopped.Describe());
  CHECK(stopped.exit_code == 0);
  // Stopped with the service: nothing answers any more.
  CHECK(Get("/healthz").first == 0);
}

}  // namespace
}  // namespace dirledger::test

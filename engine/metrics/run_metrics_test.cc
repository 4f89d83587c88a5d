#include "engine/metrics/run_metrics.h"

#include <catch2/catch.hpp>
#include <thread>

#include "engine/metrics/text_exposition.h"

namespace dirledger {
namespace {

std::string Render(const MetricsRegistry& r) {
  return RenderTextExposition(r.Snapshot());
}

bool Has(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

Intent MailIntent(std::uint64_t seq) {
  Intent i;
  i.id = MakeIntentId(seq, 0);
  i.target = Side::kMail;
  return i;
}

TEST_CASE("run metrics count deliveries, decisions and writes", "[metrics]") {
  MetricsRegistry reg;
  RunMetrics m(&reg, nullptr, {{"corp/syncrepl", "mail"}});
  std::string text = Render(reg);
  CHECK(Has(text, "dirledger_source_up{source=\"corp/syncrepl\"} 0"));
  CHECK(Has(text, "dirledger_source_up{source=\"mail\"} 0"));

  AppendResult r;
  r.first_seq = 5;
  r.last_seq = 7;
  r.events_by_kind = {{"change", 2}, {"cursor", 1}};
  r.decisions_by_rule = {{"ldap/add", 2}, {"record/cursor", 1}};
  const std::int64_t decided =
      std::chrono::duration_cast<std::chrono::microseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count() -
      2000000;  // two seconds ago
  r.intents = {MailIntent(5), MailIntent(6)};
  r.intent_times_us = {decided, decided};
  m.OnAppend("corp/syncrepl", r, SourceStats{});
  m.OnAppend("not-configured", r, SourceStats{});  // never a label
  ApplyResult ok;
  ApplyResult down;
  down.status = Status::Unavailable("peer down");
  ApplyResult bad;
  bad.status = Status::InvalidArgument("refused");
  m.OnApplied(MailIntent(5), down);  // retried later: not yet measured
  m.OnApplied(MailIntent(5), ok);
  m.OnApplied(MailIntent(6), bad);
  m.OnApplied(MailIntent(99), ok);  // decided before this run

  text = Render(reg);
  CHECK(Has(text,
            "dirledger_events_total{source=\"corp/syncrepl\",kind=\"change\"} "
            "2"));
  CHECK(Has(text,
            "dirledger_events_total{source=\"corp/syncrepl\",kind=\"cursor\"} "
            "1"));
  CHECK(text.find("not-configured") == std::string::npos);
  CHECK(Has(text, "dirledger_decisions_total{rule=\"ldap/add\"} 2"));
  CHECK(Has(text, "dirledger_source_up{source=\"corp/syncrepl\"} 1"));
  CHECK(Has(text, "dirledger_writes_total{side=\"mail\",result=\"ok\"} 2"));
  CHECK(Has(text, "dirledger_writes_total{side=\"mail\",result=\"failed\"} 1"));
  CHECK(Has(text,
            "dirledger_writes_total{side=\"mail\",result=\"retry_later\"} 1"));
  // One applied write measured (the failed one and the one decided before
  // this run are not), about two seconds after its event.
  CHECK(Has(text,
            "dirledger_change_apply_latency_seconds_bucket{side=\"mail\","
            "le=\"1\"} 0"));
  CHECK(Has(text,
            "dirledger_change_apply_latency_seconds_bucket{side=\"mail\","
            "le=\"2.5\"} 1"));
  CHECK(Has(text,
            "dirledger_change_apply_latency_seconds_count{side=\"mail\"} 1"));

  m.OnError("corp/syncrepl", Status::Unavailable("connection lost"));
  CHECK(Has(Render(reg), "dirledger_source_up{source=\"corp/syncrepl\"} 0"));
  m.OnCaughtUp("corp/syncrepl");
  CHECK(Has(Render(reg), "dirledger_source_up{source=\"corp/syncrepl\"} 1"));
  // A source retrying on its own: down until its next refresh or poll.
  m.OnSourceUnavailable("mail", Status::Unavailable("connection refused"));
  CHECK(Has(Render(reg), "dirledger_source_up{source=\"mail\"} 0"));
  m.OnSourceContact("mail");
  CHECK(Has(Render(reg), "dirledger_source_up{source=\"mail\"} 1"));
}

TEST_CASE("readiness waits for every source's first refresh", "[metrics]") {
  MetricsRegistry reg;
  RunMetrics m(&reg, nullptr, {{"corp/syncrepl", "mail"}});
  RunMetrics::Verdict v = m.Readiness();
  CHECK_FALSE(v.ok);
  CHECK(v.text.find("corp/syncrepl, mail") != std::string::npos);
  m.OnCaughtUp("mail");
  v = m.Readiness();
  CHECK_FALSE(v.ok);
  CHECK(v.text.find("corp/syncrepl") != std::string::npos);
  CHECK(v.text.find("mail\n") == std::string::npos);
  m.OnCaughtUp("corp/syncrepl");
  CHECK(m.Readiness().ok);
}

TEST_CASE("health fails when the heartbeat is older than the limit",
          "[metrics]") {
  MetricsRegistry reg;
  RunMetricsOptions o;
  o.heartbeat_timeout = std::chrono::milliseconds(200);
  RunMetrics m(&reg, nullptr, o);
  CHECK(m.Health().ok);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  RunMetrics::Verdict v = m.Health();
  CHECK_FALSE(v.ok);
  CHECK(v.text.find("no heartbeat from the run loop") != std::string::npos);
  m.OnHeartbeat();
  CHECK(m.Health().ok);
}

}  // namespace
}  // namespace dirledger

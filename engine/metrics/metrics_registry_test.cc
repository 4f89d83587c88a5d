#include "engine/metrics/metrics_registry.h"

#include <catch2/catch.hpp>

#include "engine/metrics/text_exposition.h"

namespace dirledger {
namespace {

std::string Render(const MetricsRegistry& r) {
  return RenderTextExposition(r.Snapshot());
}

TEST_CASE("a counter and a gauge are a HELP, a TYPE and one line per series",
          "[metrics]") {
  MetricsRegistry r;
  CounterFamily* c = r.AddCounter("x_events_total", "Events.", {"source"});
  c->With({"corp/syncrepl"})->Inc(3);
  c->With({"mail"})->Inc();
  r.AddGauge("x_log_records", "Records.")->With({})->Set(42);
  CHECK(Render(r) ==
        "# HELP x_events_total Events.\n"
        "# TYPE x_events_total counter\n"
        "x_events_total{source=\"corp/syncrepl\"} 3\n"
        "x_events_total{source=\"mail\"} 1\n"
        "# HELP x_log_records Records.\n"
        "# TYPE x_log_records gauge\n"
        "x_log_records 42\n");
}

TEST_CASE("label values and help texts are escaped", "[metrics]") {
  MetricsRegistry r;
  r.AddGauge("x_g", "a \\ b\nc \"d\"", {"l"})
      ->With({"back\\slash \"quoted\"\nline"})
      ->Set(1);
  CHECK(Render(r) ==
        "# HELP x_g a \\\\ b\\nc \"d\"\n"
        "# TYPE x_g gauge\n"
        "x_g{l=\"back\\\\slash \\\"quoted\\\"\\nline\"} 1\n");
  CHECK(EscapeLabelValue("plain") == "plain");
}

TEST_CASE("a histogram's buckets are cumulative and end with +Inf",
          "[metrics]") {
  MetricsRegistry r;
  HistogramFamily* h =
      r.AddHistogram("x_latency_seconds", "Latency.", {"side"}, {0.1, 1, 10});
  Histogram* mail = h->With({"mail"});
  mail->Observe(0.05);
  mail->Observe(0.1);  // le is inclusive
  mail->Observe(0.5);
  mail->Observe(20);
  CHECK(Render(r) ==
        "# HELP x_latency_seconds Latency.\n"
        "# TYPE x_latency_seconds histogram\n"
        "x_latency_seconds_bucket{side=\"mail\",le=\"0.1\"} 2\n"
        "x_latency_seconds_bucket{side=\"mail\",le=\"1\"} 3\n"
        "x_latency_seconds_bucket{side=\"mail\",le=\"10\"} 3\n"
        "x_latency_seconds_bucket{side=\"mail\",le=\"+Inf\"} 4\n"
        "x_latency_seconds_sum{side=\"mail\"} 20.65\n"
        "x_latency_seconds_count{side=\"mail\"} 4\n");
}

TEST_CASE("an unlabelled histogram has only le on its buckets", "[metrics]") {
  MetricsRegistry r;
  r.AddHistogram("x_h", "H.", {}, {1})->With({});
  CHECK(Render(r) ==
        "# HELP x_h H.\n# TYPE x_h histogram\n"
        "x_h_bucket{le=\"1\"} 0\nx_h_bucket{le=\"+Inf\"} 0\n"
        "x_h_sum 0\nx_h_count 0\n");
}

TEST_CASE("sample values: shortest exact text, +Inf, -Inf, NaN", "[metrics]") {
  CHECK(FormatSampleValue(0) == "0");
  CHECK(FormatSampleValue(1234567) == "1234567");
  CHECK(FormatSampleValue(0.25) == "0.25");
  CHECK(FormatSampleValue(1e21) == "1e+21");
  CHECK(FormatSampleValue(1.0 / 0.0) == "+Inf");
  CHECK(FormatSampleValue(-1.0 / 0.0) == "-Inf");
  CHECK(FormatSampleValue(0.0 / 0.0) == "NaN");
}

TEST_CASE("collectors run before each snapshot", "[metrics]") {
  MetricsRegistry r;
  Gauge* g = r.AddGauge("x_scraped", "Scrapes.")->With({});
  r.AddCollector([g] { g->Add(1); });
  CHECK(Render(r).find("x_scraped 1\n") != std::string::npos);
  CHECK(Render(r).find("x_scraped 2\n") != std::string::npos);
}

}  // namespace
}  // namespace dirledger

// MetricsRegistry: the service's metrics (counters, gauges, histograms),
// each a family with a name, a help text and label names, holding one
// series per set of label values. Updating a series is an atomic add or
// store, so the run loop's threads count without a lock; looking a series
// up by its label values takes the family's lock (callers keep the pointer
// for a hot path). Snapshot() copies every series for the text exposition
// (engine/metrics/text_exposition.h); it first runs the collectors, which
// set the gauges read when scraped.
//
// Label values come from the config (source names) and fixed enums, never
// from directory data: a family's series are few.
//
// Thread safety: every method may be called from any thread. A series
// lives as long as the registry.
#ifndef DIRLEDGER_ENGINE_METRICS_METRICS_REGISTRY_H_
#define DIRLEDGER_ENGINE_METRICS_METRICS_REGISTRY_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "codecs/mutex.h"

namespace dirledger {

enum class MetricType : std::uint8_t { kCounter, kGauge, kHistogram };

// A value that only goes up (reset when the process starts).
class Counter {
 public:
  void Inc(double by = 1) { value_.fetch_add(by, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// A value that goes up and down.
class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double by) { value_.fetch_add(by, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Observations counted into buckets by upper bound, with their sum.
class Histogram {
 public:
  // `bounds`: the buckets' upper bounds, ascending (+Inf is implied).
  explicit Histogram(std::vector<double> bounds);

  void Observe(double v);

  struct Data {
    std::vector<double> bounds;
    // cumulative[i]: observations <= bounds[i]; the last entry (one more
    // than bounds) is every observation (+Inf), which is also the count.
    std::vector<std::uint64_t> cumulative;
    double sum = 0;
  };
  Data Read() const;

 private:
  const std::vector<double> bounds_;
  // Per bucket, not cumulative; the last is (bounds_.back(), +Inf).
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;
  std::atomic<double> sum_{0};
};

// One series as Snapshot() copied it.
struct SeriesSnapshot {
  std::vector<std::string> label_values;  // in the family's label order
  double value = 0;                       // counter, gauge
  Histogram::Data histogram;              // histogram
};

struct FamilySnapshot {
  std::string name;
  std::string help;
  MetricType type = MetricType::kGauge;
  std::vector<std::string> label_names;
  std::vector<SeriesSnapshot> series;  // ordered by label values
};

// A family's series by label values; M is Counter, Gauge or Histogram.
template <typename M>
class MetricFamily {
 public:
  // The series with these label values (as many as the family has label
  // names), made on first use.
  M* With(const std::vector<std::string>& label_values);

 private:
  friend class MetricsRegistry;
  MetricFamily(FamilySnapshot meta, std::vector<double> bounds)
      : meta_(std::move(meta)), bounds_(std::move(bounds)) {}
  FamilySnapshot Snapshot() const;

  const FamilySnapshot meta_;         // name, help, type, label names
  const std::vector<double> bounds_;  // histograms
  mutable Mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<M>> series_
      GUARDED_BY(mu_);
};

using CounterFamily = MetricFamily<Counter>;
using GaugeFamily = MetricFamily<Gauge>;
using HistogramFamily = MetricFamily<Histogram>;

class MetricsRegistry {
 public:
  MetricsRegistry();
  ~MetricsRegistry();

  // REQUIRES: `name` is not registered yet and is a valid metric name; a
  // counter's ends in "_total".
  CounterFamily* AddCounter(std::string name, std::string help,
                            std::vector<std::string> label_names = {});
  GaugeFamily* AddGauge(std::string name, std::string help,
                        std::vector<std::string> label_names = {});
  HistogramFamily* AddHistogram(std::string name, std::string help,
                                std::vector<std::string> label_names,
                                std::vector<double> bounds);

  // `fn` runs at the start of every Snapshot(), on the caller's thread (it
  // sets the gauges that are computed when scraped). Collectors run one at
  // a time.
  void AddCollector(std::function<void()> fn);

  // Every family in the order it was added, every series in label order.
  std::vector<FamilySnapshot> Snapshot() const;

 private:
  struct Entry;
  FamilySnapshot Meta(std::string name, std::string help, MetricType type,
                      std::vector<std::string> label_names);

  mutable Mutex mu_;
  std::vector<std::unique_ptr<Entry>> families_ GUARDED_BY(mu_);
  std::vector<std::function<void()>> collectors_ GUARDED_BY(mu_);
  // Held while the collectors run: one scrape's at a time.
  mutable Mutex collect_mu_;
};

}  // namespace dirledger

#endif  // DIRLEDGER_ENGINE_METRICS_METRICS_REGISTRY_H_

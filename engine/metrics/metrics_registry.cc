#include "engine/metrics/metrics_registry.h"

#include <algorithm>
#include <cassert>

namespace dirledger {
namespace {

template <typename M>
std::unique_ptr<M> MakeSeries(const std::vector<double>&) {
  return std::make_unique<M>();
}
template <>
std::unique_ptr<Histogram> MakeSeries<Histogram>(
    const std::vector<double>& bounds) {
  return std::make_unique<Histogram>(bounds);
}

void Read(const Counter& c, SeriesSnapshot* out) { out->value = c.value(); }
void Read(const Gauge& g, SeriesSnapshot* out) { out->value = g.value(); }
void Read(const Histogram& h, SeriesSnapshot* out) {
  out->histogram = h.Read();
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      counts_(new std::atomic<std::uint64_t>[bounds_.size() + 1]) {
  assert(std::is_sorted(bounds_.begin(), bounds_.end()));
  for (std::size_t i = 0; i <= bounds_.size(); ++i) counts_[i] = 0;
}

void Histogram::Observe(double v) {
  // The first bucket whose upper bound is >= v (le is inclusive).
  const std::size_t i = static_cast<std::size_t>(
      std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

Histogram::Data Histogram::Read() const {
  Data d;
  d.bounds = bounds_;
  d.cumulative.reserve(bounds_.size() + 1);
  std::uint64_t total = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    total += counts_[i].load(std::memory_order_relaxed);
    d.cumulative.push_back(total);
  }
  d.sum = sum_.load(std::memory_order_relaxed);
  return d;
}

template <typename M>
M* MetricFamily<M>::With(const std::vector<std::string>& label_values) {
  assert(label_values.size() == meta_.label_names.size());
  MutexLock l(&mu_);
  std::unique_ptr<M>& m = series_[label_values];
  if (!m) m = MakeSeries<M>(bounds_);
  return m.get();
}

template <typename M>
FamilySnapshot MetricFamily<M>::Snapshot() const {
  FamilySnapshot out = meta_;
  MutexLock l(&mu_);
  out.series.reserve(series_.size());
  for (const auto& [labels, m] : series_) {
    SeriesSnapshot& s = out.series.emplace_back();
    s.label_values = labels;
    Read(*m, &s);
  }
  return out;
}

template class MetricFamily<Counter>;
template class MetricFamily<Gauge>;
template class MetricFamily<Histogram>;

// A registered family of one of the three kinds.
struct MetricsRegistry::Entry {
  std::unique_ptr<CounterFamily> counters;
  std::unique_ptr<GaugeFamily> gauges;
  std::unique_ptr<HistogramFamily> histograms;
  FamilySnapshot Snapshot() const {
    if (counters) return counters->Snapshot();
    if (gauges) return gauges->Snapshot();
    return histograms->Snapshot();
  }
};

MetricsRegistry::MetricsRegistry() = default;
MetricsRegistry::~MetricsRegistry() = default;

FamilySnapshot MetricsRegistry::Meta(std::string name, std::string help,
                                     MetricType type,
                                     std::vector<std::string> label_names) {
  FamilySnapshot m;
  m.name = std::move(name);
  m.help = std::move(help);
  m.type = type;
  m.label_names = std::move(label_names);
  return m;
}

CounterFamily* MetricsRegistry::AddCounter(
    std::string name, std::string help, std::vector<std::string> label_names) {
  assert(name.size() > 6 && name.substr(name.size() - 6) == "_total");
  auto e = std::make_unique<Entry>();
  e->counters.reset(
      new CounterFamily(Meta(std::move(name), std::move(help),
                             MetricType::kCounter, std::move(label_names)),
                        {}));
  CounterFamily* f = e->counters.get();
  MutexLock l(&mu_);
  families_.push_back(std::move(e));
  return f;
}

GaugeFamily* MetricsRegistry::AddGauge(std::string name, std::string help,
                                       std::vector<std::string> label_names) {
  auto e = std::make_unique<Entry>();
  e->gauges.reset(
      new GaugeFamily(Meta(std::move(name), std::move(help), MetricType::kGauge,
                           std::move(label_names)),
                      {}));
  GaugeFamily* f = e->gauges.get();
  MutexLock l(&mu_);
  families_.push_back(std::move(e));
  return f;
}

HistogramFamily* MetricsRegistry::AddHistogram(
    std::string name, std::string help, std::vector<std::string> label_names,
    std::vector<double> bounds) {
  auto e = std::make_unique<Entry>();
  e->histograms.reset(
      new HistogramFamily(Meta(std::move(name), std::move(help),
                               MetricType::kHistogram, std::move(label_names)),
                          std::move(bounds)));
  HistogramFamily* f = e->histograms.get();
  MutexLock l(&mu_);
  families_.push_back(std::move(e));
  return f;
}

void MetricsRegistry::AddCollector(std::function<void()> fn) {
  MutexLock l(&mu_);
  collectors_.push_back(std::move(fn));
}

std::vector<FamilySnapshot> MetricsRegistry::Snapshot() const {
  std::vector<std::function<void()>> collectors;
  {
    MutexLock l(&mu_);
    collectors = collectors_;
  }
  {
    MutexLock l(&collect_mu_);
    for (const auto& fn : collectors) fn();
  }
  std::vector<FamilySnapshot> out;
  MutexLock l(&mu_);
  out.reserve(families_.size());
  for (const auto& e : families_) out.push_back(e->Snapshot());
  return out;
}

}  // namespace dirledger

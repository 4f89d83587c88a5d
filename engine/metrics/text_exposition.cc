#include "engine/metrics/text_exposition.h"

#include <charconv>
#include <cmath>

namespace dirledger {
namespace {

std::string_view TypeName(MetricType t) {
  switch (t) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

// `{a="x",b="y"}` for the series' labels and `extra` (le), "" for none.
std::string Labels(const std::vector<std::string>& names,
                   const std::vector<std::string>& values,
                   std::string_view extra_name = {},
                   std::string_view extra_value = {}) {
  if (names.empty() && extra_name.empty()) return "";
  std::string out = "{";
  for (std::size_t i = 0; i < names.size() && i < values.size(); ++i) {
    if (i) out += ',';
    out += names[i];
    out += "=\"";
    out += EscapeLabelValue(values[i]);
    out += '"';
  }
  if (!extra_name.empty()) {
    if (!names.empty()) out += ',';
    out += extra_name;
    out += "=\"";
    out += extra_value;
    out += '"';
  }
  out += '}';
  return out;
}

void Line(std::string* out, std::string_view name, std::string_view labels,
          double value) {
  out->append(name);
  out->append(labels);
  out->push_back(' ');
  out->append(FormatSampleValue(value));
  out->push_back('\n');
}

}  // namespace

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string EscapeHelp(std::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string FormatSampleValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

std::string RenderTextExposition(const std::vector<FamilySnapshot>& families) {
  std::string out;
  for (const FamilySnapshot& f : families) {
    out += "# HELP " + f.name + " " + EscapeHelp(f.help) + "\n";
    out += "# TYPE " + f.name + " " + std::string(TypeName(f.type)) + "\n";
    for (const SeriesSnapshot& s : f.series) {
      if (f.type != MetricType::kHistogram) {
        Line(&out, f.name, Labels(f.label_names, s.label_values), s.value);
        continue;
      }
      const Histogram::Data& h = s.histogram;
      const std::string bucket = f.name + "_bucket";
      for (std::size_t i = 0; i < h.cumulative.size(); ++i) {
        const std::string le =
            i < h.bounds.size() ? FormatSampleValue(h.bounds[i]) : "+Inf";
        Line(&out, bucket, Labels(f.label_names, s.label_values, "le", le),
             static_cast<double>(h.cumulative[i]));
      }
      const std::string labels = Labels(f.label_names, s.label_values);
      Line(&out, f.name + "_sum", labels, h.sum);
      Line(&out, f.name + "_count", labels,
           h.cumulative.empty() ? 0 : static_cast<double>(h.cumulative.back()));
    }
  }
  return out;
}

}  // namespace dirledger

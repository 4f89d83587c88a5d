// The Prometheus text exposition format, version 0.0.4: what GET /metrics
// answers. Each family is a `# HELP` line, a `# TYPE` line and its series,
// one `name{label="value",...} value` line each; a histogram's series are
// its cumulative `_bucket` lines (with `le`, ending in `le="+Inf"`), `_sum`
// and `_count`. Label values and help texts are escaped as the format
// requires (backslash, double quote in label values, line feed).
//
// Thread safety: pure functions.
#ifndef DIRLEDGER_ENGINE_METRICS_TEXT_EXPOSITION_H_
#define DIRLEDGER_ENGINE_METRICS_TEXT_EXPOSITION_H_

#include <string>
#include <string_view>
#include <vector>

#include "engine/metrics/metrics_registry.h"

namespace dirledger {

// The Content-Type of the format.
inline constexpr std::string_view kTextExpositionContentType =
    "text/plain; version=0.0.4; charset=utf-8";

std::string RenderTextExposition(const std::vector<FamilySnapshot>& families);

// A label value as it goes between the quotes: \ " and line feed escaped.
std::string EscapeLabelValue(std::string_view value);
// A help text: \ and line feed escaped.
std::string EscapeHelp(std::string_view help);
// A sample value: the shortest text that reads back as the same double;
// "+Inf", "-Inf", "NaN".
std::string FormatSampleValue(double v);

}  // namespace dirledger

#endif  // DIRLEDGER_ENGINE_METRICS_TEXT_EXPOSITION_H_

// Rendering of events and decisions for people (`log`, `explain`) and for
// programs (`--json`, JSON Lines). Values that are not valid UTF-8 appear in
// JSON as {"base64": "..."} and in text as base64 with a "b64:" prefix; in
// text, the control characters of other values show as escapes (\r, \n,
// \x1b: codecs/printable.h), so a value cannot forge lines on a terminal.
#ifndef DIRLEDGER_TOOLS_DIRLEDGER_RENDER_H_
#define DIRLEDGER_TOOLS_DIRLEDGER_RENDER_H_

#include <nlohmann/json.hpp>
#include <string>

#include "codecs/event.h"

namespace dirledger::cli {

bool IsValidUtf8(std::string_view s);
// A value for text output: "b64:..." when it is not UTF-8, else
// PrintableText(v).
std::string ValueText(const std::string& v);
// "157.0": the deciding event's sequence and the intent's index in it.
std::string IntentIdText(std::uint64_t id);

// The `side` and `object` columns of an event ("" when none applies).
std::string EventSide(const Event& e);
std::string EventObject(const Event& e);

// A value for JSON: the string, or {"base64": "..."} when it is not UTF-8.
nlohmann::json ValueJson(const std::string& v);
nlohmann::json AttrsJson(const AttrList& attrs);
nlohmann::json IntentJson(const Intent& i);
// Every `log --json` record has seq, time, side, kind, object, decision.
nlohmann::json EventJson(const Event& e, const Decision* d);

// One line: seq, time, side, kind, what happened, the decision.
std::string EventLine(const Event& e, const Decision* d);
// A block for `explain`: the line, then what each side said, the rule and
// why, what was written.
std::string EventBlock(const Event& e, const Decision* d);
std::string IntentText(const Intent& i);

}  // namespace dirledger::cli

#endif  // DIRLEDGER_TOOLS_DIRLEDGER_RENDER_H_

// libFuzzer target: the Axigen CLI reply parser (engine/axigen/cli_reply.h)
// takes bytes from a peer dirledger does not control. On any input it must
// answer with a value or an error, never crash, and what it accepts must
// hold together:
//   - EndsWithPrompt and ParseReply agree on what a complete reply is;
//   - a parsed reply rendered back (lines, status line, prompt) parses to
//     the same lines, status and prompt;
//   - SHOW values that were quoted survive QuoteValue/UnquoteValue;
//   - Printable never lets a control character through.
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/axigen/cli_quoting.h"
#include "engine/axigen/cli_reply.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

bool HasControl(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return true;
  return false;
}

std::string Render(const dirledger::CliReply& r) {
  std::string out;
  for (const std::string& line : r.lines) out += line + "\r\n";
  if (r.has_status) out += (r.ok ? "+OK: " : "-ERR: ") + r.status_text + "\r\n";
  out += "<" + r.prompt + "> ";
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dirledger;  // NOLINT
  // The first byte chooses whether a status line is due; the rest is the
  // reply.
  if (size == 0) return 0;
  const bool expect_status = (data[0] & 1) != 0;
  const std::string_view raw(reinterpret_cast<const char*>(data) + 1, size - 1);

  const bool complete = EndsWithPrompt(raw);
  Result<CliReply> reply = ParseReply(raw, expect_status);
  if (!complete) Check(!reply.ok());
  if (complete && !expect_status) Check(reply.ok());
  if (!reply.ok()) {
    Check(!reply.status().message().empty());
  } else {
    const CliReply& r = *reply;
    Check(!expect_status || r.has_status);
    Check(r.prompt.find('>') == std::string::npos);
    Check(r.context().find('#') == std::string::npos);
    Check(r.logged_in() == (!r.prompt.empty() && r.prompt.back() == '#'));
    for (const std::string& line : r.lines)
      Check(line.find('\n') == std::string::npos);
    // The status text has no surrounding blanks, so rendering it after
    // "+OK: " reads back the same.
    Result<CliReply> again = ParseReply(Render(r), expect_status);
    Check(again.ok());
    Check(again->lines == r.lines);
    Check(again->has_status == r.has_status);
    Check(again->ok == r.ok);
    Check(again->status_text == r.status_text);
    Check(again->prompt == r.prompt);

    auto show = ParseShow(r);
    if (show.ok()) {
      for (const auto& [name, value] : *show) {
        Check(!name.empty());
        Check(name.front() != ' ' && name.back() != ' ');
        auto quoted = QuoteValue(value, "fuzz");
        if (quoted.ok()) {
          auto back = UnquoteValue(*quoted);
          Check(back.ok() && *back == value);
        }
      }
    } else {
      Check(!show.status().message().empty());
    }
    for (const char* command : {"LIST Accounts", "LIST Aliases"}) {
      auto list = ParseList(r, command);
      if (list.ok()) {
        for (const std::string& item : *list) {
          Check(!item.empty());
          Check(item.find_first_of(" \t|") == std::string::npos);
        }
      } else {
        Check(list.status().message().find(command) != std::string::npos);
      }
    }
  }

  auto unquoted = UnquoteValue(raw);
  if (unquoted.ok()) {
    auto quoted = QuoteValue(*unquoted, "fuzz");
    if (quoted.ok()) {
      auto back = UnquoteValue(*quoted);
      Check(back.ok() && *back == *unquoted);
    }
  }

  const std::string printable = Printable(raw, 64);
  Check(!HasControl(printable));
  Check(printable.size() <= 64 + 4 + 3);
  return 0;
}

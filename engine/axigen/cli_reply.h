// Parsing of what the Axigen CLI sends back. A reply is zero or more output
// lines, each ended by CRLF, then (after login) a status line "+OK: text" or
// "-ERR: text", then the prompt of the context the session is now in, with
// no line end: "<login> ", "<password> ", "<#> " (root), "<domain#> ",
// "<domain-account#> ", "<domain-account-contactinfo#> ", "<domain-group#> ".
//
// Replies come from a peer dirledger does not control; every function here
// takes arbitrary bytes and answers with a value or an error, never a crash,
// and never reads past what it was given.
//
// Thread safety: pure functions and plain values.
#ifndef DIRLEDGER_ENGINE_AXIGEN_CLI_REPLY_H_
#define DIRLEDGER_ENGINE_AXIGEN_CLI_REPLY_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "codecs/status.h"

namespace dirledger {

// The largest reply dirledger reads (a listing of many accounts fits).
inline constexpr std::size_t kMaxReplyBytes = 64u << 20;

struct CliReply {
  std::vector<std::string> lines;  // output before the status line
  bool has_status = false;         // a +OK/-ERR line was present
  bool ok = false;                 // +OK
  std::string status_text;         // the text after "+OK:" / "-ERR:"
  std::string prompt;              // "domain-account#", "login", ""...

  // The context path of the prompt without '#': "domain-account"; "" for
  // the root context.
  std::string context() const;
  bool logged_in() const;  // the prompt ends in '#'
};

// Whether `buffer` ends with a complete prompt: its last line (after the
// last '\n', or all of it) is '<', [A-Za-z0-9_-]*, an optional '#', "> ".
bool EndsWithPrompt(std::string_view buffer);

// Splits a complete reply (EndsWithPrompt) into lines, status and prompt.
// With `expect_status`, the line before the prompt must be a status line;
// its absence is an error saying so.
Result<CliReply> ParseReply(std::string_view raw, bool expect_status);

// "name = value" lines of a SHOW reply, in order. A value printed in double
// quotes is decoded (cli_quoting.h); any other value is taken as it stands.
// Lines without " = " (headings) are skipped. A malformed quoted value is an
// error naming the line's attribute.
Result<std::vector<std::pair<std::string, std::string>>> ParseShow(
    const CliReply& reply);

// The items of the reply to the LIST `command` (its words name the layout).
// Axigen prints a listing in one of two layouts (as GECAD's own cli2.py
// reads them), and dirledger also takes the bare form:
//   table  (LIST Accounts, Groups, Domains): a title line, a blank line, a
//          column header, a dashed rule, a blank line, one item per line,
//          a blank line;
//   titled (LIST Aliases, Addresses): a title line, a blank line, one item
//          per line, a blank line;
//   bare:  one item per line and nothing else.
// An item is the first column of its line: a single word when the header
// has one column. A reply that fits none of these (a table without its
// rule, a title without the blank line under it, a title where a table is
// due, an item line of several words, a second rule) is an error naming the
// command and the line, never a shorter list: a listing that does not parse
// must not read as objects having gone.
Result<std::vector<std::string>> ParseList(const CliReply& reply,
                                           std::string_view command);

// A printable rendering of untrusted text for error messages: control
// characters escaped, cut to `max` bytes.
std::string Printable(std::string_view text, std::size_t max = 200);

}  // namespace dirledger

#endif  // DIRLEDGER_ENGINE_AXIGEN_CLI_REPLY_H_

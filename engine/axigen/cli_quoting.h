// Quoting of values in Axigen CLI commands. The CLI takes a parameter value
// in one of three forms (Axigen documentation, "CLI Service Description"):
// escaped (backslash before spaces and quotes), single-quoted (literal, no
// single quote inside) and double-quoted. dirledger always sends the
// double-quoted form, escaping exactly two characters: `"` as `\"` and `\`
// as `\\`. Every other byte, including non-ASCII UTF-8, is sent as it is.
//
// A command is one CRLF-terminated line, so a value holding CR, LF, NUL or
// any other control character (U+0000..U+001F, U+007F) cannot be carried:
// the public documentation defines no escape for them, and sending one raw
// would end the command early and let the rest of the value be read as a
// new command. Such values are refused with InvalidArgument before anything
// is sent (docs/axigen.md, "Quoting").
//
// Thread safety: pure functions.
#ifndef DIRLEDGER_ENGINE_AXIGEN_CLI_QUOTING_H_
#define DIRLEDGER_ENGINE_AXIGEN_CLI_QUOTING_H_

#include <string>
#include <string_view>

#include "codecs/status.h"

namespace dirledger {

// The longest command line dirledger sends (the value limit of the mail
// side, kMaxValueLength, fits with room to spare).
inline constexpr std::size_t kMaxCommandLine = 1 << 20;

// `value` in double quotes, or InvalidArgument naming `what` when the value
// holds a character the CLI cannot carry.
Result<std::string> QuoteValue(std::string_view value, std::string_view what);

// Decodes a double-quoted string that makes up all of `text` (as SHOW prints
// values). InvalidArgument when it is not exactly one well-formed quoted
// string.
Result<std::string> UnquoteValue(std::string_view text);

// `command` as it may be shown in messages: the value after every
// `password` keyword (quoted or not) is replaced by "***". Account
// passwords dirledger sends (the random one of ADD Account) never reach an
// error, a log line or the event log.
std::string HidePasswords(std::string_view command);

}  // namespace dirledger

#endif  // DIRLEDGER_ENGINE_AXIGEN_CLI_QUOTING_H_

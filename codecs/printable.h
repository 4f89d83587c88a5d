// PrintableText: a value as it may be shown to a person in a terminal.
// Directory values are written by whoever may edit the directory; shown raw,
// a carriage return, line feed or escape sequence in one could forge lines
// or recolour an auditor's screen. Every human-readable output of dirledger
// (log, explain, status, mail list/show, the CLI's messages naming a value)
// passes values through this one function; JSON output is escaped by its
// encoder instead.
//
// Thread safety: a pure function.
#ifndef DIRLEDGER_CODECS_PRINTABLE_H_
#define DIRLEDGER_CODECS_PRINTABLE_H_

#include <string>
#include <string_view>

namespace dirledger {

// `v` with every control character shown as a visible escape: \r, \n, \t,
// and \xHH for the other C0 controls, DEL and bytes that are not valid
// UTF-8; the C1 controls (U+0080..U+009F, which some terminals obey) as
// \u0080..\u009f. Printable text, including other non-ASCII characters and
// backslashes, is unchanged.
std::string PrintableText(std::string_view v);

}  // namespace dirledger

#endif  // DIRLEDGER_CODECS_PRINTABLE_H_

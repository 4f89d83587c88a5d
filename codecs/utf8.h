// UTF-8 validation (RFC 3629) for values that must be strings: what LDAP
// servers send where RFC 4517 expects UTF-8, before it reaches the log, the
// reconciler or the mail side; and what human output shows as is.
//
// Thread safety: pure functions.
#ifndef DIRLEDGER_CODECS_UTF8_H_
#define DIRLEDGER_CODECS_UTF8_H_

#include <cstddef>
#include <string_view>

namespace dirledger {

// The length of the well-formed UTF-8 sequence that starts at s[i] (1 to 4),
// or 0 when none does: no overlong forms, no surrogates, nothing above
// U+10FFFF. REQUIRES: i < s.size().
std::size_t Utf8SequenceLength(std::string_view s, std::size_t i);

// Whether `s` is well-formed UTF-8. NUL bytes are well-formed.
bool IsValidUtf8(std::string_view s);

}  // namespace dirledger

#endif  // DIRLEDGER_CODECS_UTF8_H_

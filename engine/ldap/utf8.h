// UTF-8 validation for values LDAP servers send where a string is expected
// (RFC 4517 Directory String and friends are UTF-8), before they reach the
// log, the reconciler or the mail side.
//
// Thread safety: pure functions.
#ifndef DIRLEDGER_ENGINE_LDAP_UTF8_H_
#define DIRLEDGER_ENGINE_LDAP_UTF8_H_

#include <string_view>

namespace dirledger {

// Whether `s` is well-formed UTF-8 (RFC 3629): no overlong forms, no
// surrogates, nothing above U+10FFFF. NUL bytes are well-formed.
bool IsValidUtf8(std::string_view s);

}  // namespace dirledger

#endif  // DIRLEDGER_ENGINE_LDAP_UTF8_H_

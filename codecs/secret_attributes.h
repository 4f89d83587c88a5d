// Secret attributes: the LDAP attributes that hold passwords, password
// hashes and other credentials. dirledger keeps whole entries in its log
// (every user attribute the directory reports), except these: a source
// drops them unread, the log never holds them, and a rollback that creates
// an entry again cannot restore them (it says so in its plan). The list is
// docs/openldap.md's "Secret attributes"; a connector's `secret_attributes`
// key adds more.
//
// Thread safety: pure functions.
#ifndef DIRLEDGER_CODECS_SECRET_ATTRIBUTES_H_
#define DIRLEDGER_CODECS_SECRET_ATTRIBUTES_H_

#include <string>
#include <string_view>
#include <vector>

namespace dirledger {

// The built-in list, in the order the docs give it.
const std::vector<std::string_view>& BuiltinSecretAttributes();

// Whether `name` (an attribute description: options such as ";binary" are
// ignored; case-insensitive) is a built-in secret or one of `extra`.
bool IsSecretAttribute(std::string_view name,
                       const std::vector<std::string>& extra = {});

}  // namespace dirledger

#endif  // DIRLEDGER_CODECS_SECRET_ATTRIBUTES_H_

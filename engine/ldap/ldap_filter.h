// LDAP search filters as strings (RFC 4515), built from values that may hold
// any byte: every value is escaped, so a name such as "a*(b)" or a value
// with a NUL byte can never change the meaning of a filter. Used for the
// syncrepl search filter, entryUUID lookups, and RFC 4528 assertion filters
// of the LDAP writers (OpenLDAP and Active Directory alike).
//
// Thread safety: pure functions.
#ifndef DIRLEDGER_ENGINE_LDAP_LDAP_FILTER_H_
#define DIRLEDGER_ENGINE_LDAP_LDAP_FILTER_H_

#include <string>
#include <string_view>
#include <vector>

#include "codecs/attributes.h"

namespace dirledger {

// Escapes an assertion value (RFC 4515 section 3): '*', '(', ')', '\' and
// NUL become \2a \28 \29 \5c \00; so do other control bytes, and every byte
// of a value that is not valid UTF-8 (a filter string must be UTF-8).
std::string EscapeFilterValue(std::string_view value);

// "(attr=value)" with the value escaped.
std::string EqualityFilter(std::string_view attr, std::string_view value);
// "(attr=*)".
std::string PresenceFilter(std::string_view attr);

// "(&f1f2...)" / "(|f1f2...)"; a single filter is returned as is; an empty
// list gives the absolute true "(&)" / false "(|)" filters (RFC 4526).
std::string AndFilter(const std::vector<std::string>& filters);
std::string OrFilter(const std::vector<std::string>& filters);
std::string NotFilter(std::string_view filter);

// Entries of any of `classes` and none of `excluded`:
// "(&(|(objectClass=a)(objectClass=b))(!(objectClass=c)))".
std::string ObjectClassFilter(const std::vector<std::string>& classes,
                              const std::vector<std::string>& excluded = {});

// The RFC 4528 assertion that an entry still holds the prior values in
// `expect`: each listed value must be present, and an attribute listed
// without values must be absent. An empty `expect` gives "(&)" (always
// true). Matching follows each attribute's equality rule on the server
// (often case-insensitive), so callers that need a bytewise check compare
// values they read as well.
std::string AssertionFilter(const AttrList& expect);

}  // namespace dirledger

#endif  // DIRLEDGER_ENGINE_LDAP_LDAP_FILTER_H_

// LdapEntry: one search result entry decoded from libldap's message into a
// DN and attributes, checked on the way: values that must be strings are
// checked to be UTF-8, oversized values are refused, and secrets the server
// should never have sent (userPassword) are dropped unread. Invalid data does
// not fail the decode: it is described in `problem`, so the caller can report
// it for this one object and go on with the others.
//
// Thread safety: plain values and functions; the LDAP handle is used by the
// caller's thread only.
#ifndef DIRLEDGER_ENGINE_LDAP_LDAP_ENTRY_H_
#define DIRLEDGER_ENGINE_LDAP_LDAP_ENTRY_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "codecs/attributes.h"
#include "codecs/secret_attributes.h"
#include "codecs/status.h"

typedef struct ldap LDAP;
typedef struct ldapmsg LDAPMessage;

namespace dirledger {

struct EntryReadOptions {
  // Values longer than this make the entry invalid (0: no limit).
  std::size_t max_value_bytes = 0;
  // Values must be UTF-8, except those of `binary_attributes`.
  bool require_utf8 = false;
  std::vector<std::string> binary_attributes;  // case-insensitive names
  // When not empty, only these attributes (the mapped ones) are checked as
  // above; any other attribute is kept as octets, and one with a value over
  // `max_value_bytes` is left out (named in `left_out`), the entry stays
  // valid.
  std::vector<std::string> checked_attributes;
  // Secrets beyond the built-in ones (a connector's secret_attributes).
  std::vector<std::string> secret_attributes;
};

struct LdapEntry {
  std::string dn;
  AttrList attrs;       // in the order the server sent them
  std::string problem;  // "" or the first reason the data is invalid; it
                        // names the attribute, never shows a value
  std::vector<std::string> left_out;  // unchecked attributes left out
};

// Decodes the search entry `msg`. An error only when the message cannot be
// decoded at all (malformed BER).
Result<LdapEntry> ReadEntry(LDAP* ld, LDAPMessage* msg,
                            const EntryReadOptions& options);

}  // namespace dirledger

#endif  // DIRLEDGER_ENGINE_LDAP_LDAP_ENTRY_H_

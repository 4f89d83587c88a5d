// Synchronous LDAP operations on an LdapConnection, each bounded by the
// connector's timeout (an operation over it is abandoned and reported as a
// retryable Timeout naming the server), with the controls dirledger's
// writers need: an RFC 4528 assertion (the write happens only if the entry
// still matches) and an RFC 4527 post-read (the new entry's entryUUID comes
// back with the add). Errors name the operation, the DN and the server, and
// carry the server's diagnostic text.
//
// Thread safety: as LdapConnection: one thread at a time per connection.
#ifndef DIRLEDGER_ENGINE_LDAP_LDAP_OPS_H_
#define DIRLEDGER_ENGINE_LDAP_LDAP_OPS_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "codecs/status.h"
#include "engine/ldap/ldap_connection.h"
#include "engine/ldap/ldap_entry.h"
#include "engine/ldap/ldap_mods.h"

namespace dirledger {

struct WriteControls {
  std::string assertion;               // RFC 4528 filter; "" = none
  std::vector<std::string> read_back;  // RFC 4527 post-read attributes
  // OpenLDAP's Relax Rules control (1.3.6.1.4.1.4203.666.5.12), critical:
  // lets the rootdn write NO-USER-MODIFICATION attributes such as entryUUID.
  bool relax = false;
  // AD's Show Deleted control (1.2.840.113556.1.4.417), critical: the
  // write may name a tombstone (MS-ADTS 3.1.1.5.3.7, undelete).
  bool show_deleted = false;
};

struct WriteReply {
  std::string diagnostic;              // the server's words, may be ""
  std::optional<LdapEntry> post_read;  // when read_back was asked and sent
};

// A failed assertion is a Conflict whose message says so; other result codes
// map as LdapStatus does.
Result<WriteReply> AddEntry(LdapConnection& conn, const std::string& dn,
                            LdapModList& mods, const WriteControls& controls);
Result<WriteReply> ModifyEntry(LdapConnection& conn, const std::string& dn,
                               LdapModList& mods,
                               const WriteControls& controls);
Result<WriteReply> DeleteEntry(LdapConnection& conn, const std::string& dn,
                               const WriteControls& controls);
// Moves `dn` to `new_rdn` under `new_superior` ("" keeps the parent); the old
// RDN value is removed.
Result<WriteReply> RenameEntry(LdapConnection& conn, const std::string& dn,
                               const std::string& new_rdn,
                               const std::string& new_superior,
                               const WriteControls& controls);

enum class SearchScope { kBase, kOneLevel, kSubtree };

// Every entry matching `filter`; NotFound when `base` does not exist.
Result<std::vector<LdapEntry>> SearchEntries(
    LdapConnection& conn, const std::string& base, SearchScope scope,
    const std::string& filter, const std::vector<std::string>& attrs,
    const EntryReadOptions& options = {});

// The longest naming context of the server (root DSE `namingContexts`) that
// holds `base`: where an entry can go when renamed out of `base`. `base`
// itself when the root DSE names none that holds it, or this bind cannot
// read it.
std::string NamingContextOf(LdapConnection& conn, const std::string& base);

// Splits "uid=a,ou=people,dc=x" into the first RDN and the parent DN,
// honouring escaped commas. A DN with one RDN has parent "".
std::pair<std::string, std::string> SplitFirstRdn(std::string_view dn);

// The attribute values the first RDN of `dn` names, unescaped
// ("cn=Smith\, John+uid=js,..." -> cn "Smith, John", uid "js"). An error
// when `dn` is not a valid DN.
Result<AttrList> RdnAttributes(const std::string& dn);

}  // namespace dirledger

#endif  // DIRLEDGER_ENGINE_LDAP_LDAP_OPS_H_

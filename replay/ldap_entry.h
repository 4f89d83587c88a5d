// What dirledger writes on the LDAP side: the entry it creates for a mail
// account or group (DN from the connector's base DN template, object classes
// and required attributes per server type), and the translation of field
// writes into attribute writes. docs/rules.md, "Creating LDAP entries".
//
// Thread safety: pure functions.
#ifndef DIRLEDGER_REPLAY_LDAP_ENTRY_H_
#define DIRLEDGER_REPLAY_LDAP_ENTRY_H_

#include <string>
#include <string_view>
#include <vector>

#include "codecs/attributes.h"
#include "codecs/event.h"
#include "replay/rules.h"

namespace dirledger {

// An entry to create. (Not named LdapEntry: engine/ldap has a struct of
// that name for entries read from a server, and both are linked into the
// dirledger command; two types of one name break the one-definition rule.)
struct NewEntry {
  std::string dn;
  AttrList attrs;  // canonical
};

// The DN of the entry for `name`@`domain`: the kind's base DN template with
// its variables expanded; unless the template's first RDN holds the account
// (%u or %e), "<rdn attribute>=<name>," is put in front, where the RDN
// attribute is the map's name attribute (OpenLDAP) or cn (Active Directory,
// whose user and group entries are named by cn).
std::string NewEntryDn(const ConnectorRules& connector, ObjectKind kind,
                       std::string_view name, std::string_view domain);

// The entry created for the mail object `name`@`domain` whose field image is
// `image` (replay/field_image.h), with `member_dns` for groups.
NewEntry NewLdapEntry(const ConnectorRules& connector, ObjectKind kind,
                      std::string_view name, std::string_view domain,
                      const AttrList& image,
                      const std::vector<std::string>& member_dns);

// Field writes (field names; empty values remove) -> attribute replacements
// on an entry whose current attributes are `current`, and the values the
// write expects there. `members` is not handled here (it is written value by
// value). The entry's `refused` aliases (RefusedAddresses) stay in it.
void LdapWrites(const AttrList& field_writes, const ObjectMap& map,
                const AttrList& current, std::string_view own_address,
                AttrList* set, AttrList* expect,
                const std::vector<std::string>& refused = {});

// RFC 4514 escaping of an attribute value inside an RDN.
std::string EscapeRdnValue(std::string_view value);

}  // namespace dirledger

#endif  // DIRLEDGER_REPLAY_LDAP_ENTRY_H_

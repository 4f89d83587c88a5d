// Field images: the values dirledger keeps in sync for one object, in Axigen
// field names, whichever side the object lives on. Comparing the LDAP image
// of an entry with the mail image of its linked account or group is how the
// reconciler finds what changed, what differs and what the sides agree on.
//
// An image holds (canonical AttrList):
//   - each contact field the connector maps (ObjectMap::fields), with its
//     first value only: Axigen fields are single-valued, so of a multi-valued
//     LDAP attribute the smallest value (canonical order) is the one synced;
//   - `aliases` (when the map names an aliases attribute): the object's other
//     mail addresses, lower case, without its own address; on LDAP with the
//     map's aliases_prefix removed (ignoring case) and values without the
//     prefix left out (AD proxyAddresses "X500:...");
//   - `members` (groups, when the map names a members attribute): member
//     mail addresses, lower case. LDAP member DNs are resolved through the
//     projection: DN -> LDAP id -> link -> mail id; a member that cannot be
//     resolved is left out and reported to the caller.
//
// Images are built from an ImagePlan (replay/image_plan.h), the compiled
// form of the ObjectMap, into an ImageBuffer (replay/image_pool.h) whose
// storage is reused.
//
// Thread safety: functions of their arguments and the StateReader.
#ifndef DIRLEDGER_REPLAY_FIELD_IMAGE_H_
#define DIRLEDGER_REPLAY_FIELD_IMAGE_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "codecs/attributes.h"
#include "replay/attribute_map.h"
#include "replay/image_plan.h"
#include "replay/image_pool.h"
#include "replay/state_reader.h"

namespace dirledger {

// The image of a mail object (attributes in field names), into `*out`.
void MailImage(const AttrList& attrs, const ImagePlan& plan,
               std::string_view own_address, ImageBuffer* out);

// Aliases left out of an LDAP entry's image, each with the reason
// (replay/address_ownership.h), sorted.
using RefusedAliases = std::vector<std::pair<std::string, std::string>>;

// The image of an LDAP entry, into `*out`. `unresolved` (may be null)
// receives member DNs that map to no mail object; `refused` (may be null)
// the aliases the plan's AddressOwnership leaves out. `own_id` is the
// entry's id ("" while unknown).
void LdapImage(const AttrList& attrs, std::string_view own_dn,
               std::string_view own_address, const ImagePlan& plan,
               StateReader* state, std::vector<std::string>* unresolved,
               ImageBuffer* out, RefusedAliases* refused = nullptr,
               std::string_view own_id = {});

// The aliases (lower case) an LDAP entry with `attrs` lists that its image
// leaves out (none before rules version 6): a write from the mail side
// keeps them (LdapAliasValues).
std::vector<std::string> RefusedAddresses(const AttrList& attrs,
                                          std::string_view own_dn,
                                          std::string_view own_address,
                                          const ImagePlan& plan,
                                          StateReader* state,
                                          std::string_view own_id);

// The same, compiling the plan for one image (for tests and tools).
AttrList MailImage(const AttrList& attrs, const ObjectMap& map,
                   std::string_view own_address);
AttrList LdapImage(const AttrList& attrs, std::string_view own_dn,
                   std::string_view own_address, const ObjectMap& map,
                   StateReader* state, std::vector<std::string>* unresolved);

// The names of fields whose values differ between two images (canonical
// order, spelled as in whichever image has them).
std::vector<std::string> DiffFields(const AttrList& a, const AttrList& b);

// A member DN -> its mail address ("" when it cannot be resolved). In an
// LDAP group's image a DN no entry has, whose last entry's mail object was
// `A` (a gone member: GoneDnKey), stands for A while the group's mail group
// lists A and A is no other entry's.
std::string MemberAddressOfDn(std::string_view dn, StateReader* state);
// A member address -> the DN of its LDAP entry, or of the entry being
// created for it, or the DN of the gone member it was ("" when none is
// known). `linked_only` (rules version 10): an entry linked to another mail
// object is not the one of an address it maps to (a Rename to that
// address that failed, the address being another account's): that entry's
// member is its linked object's address. Before, both addresses resolved to
// the entry, and a merge adding one and removing the other wrote the DN in
// and out of the group by turns.
std::string MemberDnOfAddress(std::string_view address, StateReader* state,
                              bool linked_only);

// Rules version 9: a linked LDAP entry that left stays a member of the
// groups that keep listing its DN (a late member, a groupOfNames' only
// member, a group read after the delete, dirledger's own delete), as its
// address stays a member of mail groups: the wait keys that pair the two
// (on the LDAP side the DN's key names the address, on the mail side the
// address's key names the DN), so that either side's removal of the gone
// member reaches the other. Dropped when a new entry takes the DN.
std::string GoneDnKey(std::string_view dn);
std::string GoneAddressKey(std::string_view address);

// The LDAP value of aliases_attribute holding `aliases` for an object whose
// own address is `own_address`, keeping the current values that are not
// aliases (the primary address, values without the prefix) and those the
// entry's image leaves out (`refused`, lower case: RefusedAddresses).
std::vector<std::string> LdapAliasValues(
    const std::vector<std::string>& current,
    const std::vector<std::string>& aliases, const ObjectMap& map,
    std::string_view own_address, const std::vector<std::string>& refused = {});

}  // namespace dirledger

#endif  // DIRLEDGER_REPLAY_FIELD_IMAGE_H_

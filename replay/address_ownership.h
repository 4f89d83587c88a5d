// Address ownership as the reconciler decides it (docs/rules.md, section
// 8a): from rules version 6 an alias an LDAP entry lists is synced only when
// dirledger may give it to the entry's mail object. It may not when its
// domain is not one of the configured domains, or when it is the address of
// another object on either side (a mail account or group, or an LDAP entry
// that maps to it); from rules version 7 also when another mail object
// holds it as an alias. A refused alias is left out of the entry's field image
// (replay/field_image.h): it is never written to the mail side, and a write
// from the mail side keeps it in the entry. The entry's refusals are a
// failure record (`refused_address`) until it no longer lists them.
//
// Thread safety: functions of their arguments and the StateReader.
#ifndef DIRLEDGER_REPLAY_ADDRESS_OWNERSHIP_H_
#define DIRLEDGER_REPLAY_ADDRESS_OWNERSHIP_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "replay/state_reader.h"

namespace dirledger {

struct AddressOwnership {
  // Off under rules versions before 6: every alias is synced.
  bool enforced = false;
  // From rules version 7: an alias another mail object holds as an alias
  // (the projection's alias index) is refused too.
  bool aliases_held = false;
  // The configured domains, lower case, sorted.
  std::vector<std::string> domains;
};

// Why `alias` (lower case, without the map's prefix) may not be given to
// the mail object of the LDAP entry `own_id` (its id; "" while unknown),
// whose DN is `own_dn` and address `own_address`; "" when it may.
std::string AliasRefusal(const AddressOwnership& ownership, StateReader* state,
                         std::string_view alias, std::string_view own_id,
                         std::string_view own_dn, std::string_view own_address);

// The part of an LDAP entry's failure record saying that its account or
// group is not made at `own_address` yet (rules version 7): `reason`, e.g.
// "it is an alias of mail account a@example.com".
std::string AddressWaitMessage(std::string_view own_address,
                               std::string_view reason);
// A failure record's message without its AddressWaitMessage part: the
// refused aliases it lists ("" when none).
std::string WithoutAddressWait(std::string_view message);

// "a is ...; b is ..." from (alias, reason) pairs, for a failure record.
std::string RefusalMessage(
    std::string_view own_address,
    const std::vector<std::pair<std::string, std::string>>& refused);

}  // namespace dirledger

#endif  // DIRLEDGER_REPLAY_ADDRESS_OWNERSHIP_H_

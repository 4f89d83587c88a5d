// WritePlan: what an LDAP writer must send to bring an entry from what it
// holds now to what an intent asks for, decided from the entry as read just
// before the write: the modifications, the RFC 4528 assertion guarding them
// (the intent's expected prior values of the attributes being changed), and
// whether there is nothing left to do (already applied) or a concurrent edit
// (an attribute whose current value is neither the expected prior value nor
// the intended one). Generic over directories: OpenLDAP and Active Directory
// differ only in ValueRules.
//
// Thread safety: plain values and pure functions.
#ifndef DIRLEDGER_ENGINE_LDAP_WRITE_PLAN_H_
#define DIRLEDGER_ENGINE_LDAP_WRITE_PLAN_H_

#include <string>
#include <string_view>
#include <vector>

#include "codecs/attributes.h"
#include "codecs/event.h"
#include "engine/ldap/ldap_mods.h"

namespace dirledger {

// How values of an attribute compare (the server's matching rules, as far as
// a writer needs them). Everything else compares bytewise: a change of case
// is a change.
struct ValueRules {
  std::vector<std::string> case_insensitive = {"objectClass"};
  std::vector<std::string> dn_valued;  // compared as normalized DNs
  // An attribute that must keep a value (groupOfNames' member): emptying it
  // leaves this placeholder value, which never counts as a real value.
  std::string keep_one_attribute;
  std::string placeholder_value;
};

// Whether two value sets are the same under `rules` (order and duplicates
// do not matter; the placeholder is ignored).
bool SameValues(const ValueRules& rules, std::string_view attribute,
                const std::vector<std::string>& a,
                const std::vector<std::string>& b);

// The attributes of `expect` whose current values differ from the expected
// ones, each described as `name: expected "a", found "b"`.
std::vector<std::string> ExpectMismatches(const ValueRules& rules,
                                          const AttrList& current,
                                          const AttrList& expect);

struct WritePlan {
  LdapModList mods;
  std::string assertion;               // "" when nothing is asserted
  bool already_applied = false;        // nothing to do
  std::vector<std::string> conflicts;  // see ExpectMismatches
};

// Plans `intent`'s set / add_values / delete_values on an entry holding
// `current`. An attribute already in the intended state is left alone (and
// not asserted); one that is neither as expected nor as intended is a
// conflict.
WritePlan PlanModify(const ValueRules& rules, const AttrList& current,
                     const Intent& intent);

// The attributes of `desired` whose values `current` does not hold (for an
// add that finds the entry there already). objectClass only needs to be
// contained in the current classes.
std::vector<std::string> MissingFromEntry(const ValueRules& rules,
                                          const AttrList& current,
                                          const AttrList& desired);

}  // namespace dirledger

#endif  // DIRLEDGER_ENGINE_LDAP_WRITE_PLAN_H_

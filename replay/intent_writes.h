// How an intent changes the object it targets, as dirledger models it: the
// reconciler uses this to foresee a target's state after the intents still
// pending on it, to recognise the echo of its own writes, and to update the
// projection when an outcome reports a write done. Tests use it to simulate
// appliers faithfully.
//
// A mail Rename moves an object to a new address: its target_id and new_dn
// are the new address, its dn the current one. Seen from the new address (the
// id it is indexed and foreseen under) it behaves like an Add of the renamed
// object. An LDAP Rename keeps the entry's id and only moves its DN.
//
// Semantics: `set` replaces each named attribute (empty values remove it);
// `add_values` adds values that are not present; `delete_values` removes
// values. Value matching for add/delete ignores ASCII case (they carry member
// DNs and addresses, which LDAP and Axigen match without case).
//
// Thread safety: pure functions.
#ifndef DIRLEDGER_REPLAY_INTENT_WRITES_H_
#define DIRLEDGER_REPLAY_INTENT_WRITES_H_

#include "codecs/attributes.h"
#include "codecs/event.h"

namespace dirledger {

// Whether `intent` renames a mail object (see above).
inline bool IsMailRename(const Intent& intent) {
  return intent.op == IntentOp::kRename && intent.target == Side::kMail;
}

// Applies the writes of `intent` (any op but Delete) to canonical `attrs`.
void ApplyWrites(const Intent& intent, AttrList* attrs);

// Applies only the writes whose `expect` still holds on `attrs` (an
// attribute changed by someone else since the intent was decided keeps the
// newer value); add/delete values always apply.
void ApplyWritesWhereExpected(const Intent& intent, AttrList* attrs);

// Whether an object image (nullptr: the object is absent) already shows
// every write of `intent`: for Delete, that the object is gone; otherwise
// that it exists with every set value, added and deleted value.
bool WritesVisible(const Intent& intent, const AttrList* attrs);

// Whether `intent` can still apply to an object image (nullptr: absent): Add
// and mail Rename need the object (at the new address) absent; the others
// need it present with every `expect` attribute holding the expected values.
bool ExpectHolds(const Intent& intent, const AttrList* attrs);

// Whether `values` holds `v`, ignoring ASCII case.
bool HasValueIgnoreCase(const std::vector<std::string>& values,
                        std::string_view v);

// The values of `values` that `other` does not hold, ignoring ASCII case,
// in their order.
std::vector<std::string> ValuesNotIn(const std::vector<std::string>& values,
                                     const std::vector<std::string>& other);

}  // namespace dirledger

#endif  // DIRLEDGER_REPLAY_INTENT_WRITES_H_

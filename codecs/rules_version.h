// The version of the reconciler's rules, in a header of its own: raising it
// rebuilds the few files that name it, not everything that reads a Config.
#ifndef DIRLEDGER_CODECS_RULES_VERSION_H_
#define DIRLEDGER_CODECS_RULES_VERSION_H_

#include <cstdint>

namespace dirledger {

// The version of the reconciler's rules this build decides by. A rule change
// that would decide a recorded event differently raises it; a ConfigChange
// records the version in force, so a log replays under the rules each of its
// events was decided by (docs/rules.md, "Rules versions").
//   1: the first rules.
//   2: an echo of one step of a multi-step write is no change of its own
//      (the later steps are already applied); a domain with
//      ldap_sync = false is "domain sync off" before its connector is looked
//      up (under 1: "connector ... is not in the config" when it names none).
//   3: a rollback's Add of a deleted LDAP entry names the entry's old id
//      (target_id), so the writer can bring the entry back with it; failed
//      writes and per-object errors are kept as failure records until
//      resolved or dismissed (`dismiss`); an LDAP rename's field writes
//      travel in the mail Rename (before: a Modify of the old address first,
//      which made the old address an alias of itself); no mail write lists
//      the object's own address among its aliases; the old address's delete
//      and the group changes a mail rename reports are its echo; with
//      [mail] kind = "axigen" no Rename is asked (rename/not-renamable); a
//      delete taken with delete_delay_s waits, counted with the other
//      deletes of its source waiting: held whole over delete_threshold,
//      cancelled by a re-add, decided as a delete when due.
//   4: a rollback's Delete of an object that did not exist at the point
//      erases its link (and the link's conflict and drift).
//   5: one way from mail, an LDAP entry waiting for the address of a
//      deleted entry (a delete and re-add on LDAP, the add reported first)
//      takes it when the delete is decided, and the mail object's values;
//      one way, an object being created on the non-authoritative side
//      that is found there already (made in the same run window) meets its
//      partner, which writes its values over it.
//   7: one way, a write of the authoritative side's values that a change of
//      the target made impossible (its expect no longer holds) is planned
//      again against the target's new image: the fields the change did not
//      touch are written again (propagate/catch-up); before, the write was
//      dropped whole; a mail object deleted and added again while the
//      LDAP entry made for it is being created takes that entry's Add up
//      (the Add's outcome writes its values); before, the re-add planned a
//      second Add of the same DN.
inline constexpr std::uint32_t kReconcilerRules = 7;

}  // namespace dirledger

#endif  // DIRLEDGER_CODECS_RULES_VERSION_H_

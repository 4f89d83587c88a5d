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
//   6: an alias an LDAP entry lists that is another object's address or in
//      a domain not configured is left out of its image and listed as a
//      refused_address failure.
//   7: one way, a write of the authoritative side's values that a change of
//      the target made impossible (its expect no longer holds) is planned
//      again against the target's new image: each field it wrote that still
//      differs takes the authoritative value (propagate/catch-up); before,
//      the write was dropped whole. An alias an LDAP entry lists that
//      another mail object (not the entry's own) holds as an alias is
//      refused like the other refused addresses (docs/rules.md section 8a;
//      the projection's alias index). LDAP groups' member DNs are indexed
//      (those whose entries were known when listed); an LDAP entry deleted
//      by others (or leaving the scope) is dropped from the groups that
//      list it, as the directory's referential integrity dropped it without
//      reporting the groups, and its address from their mail groups when
//      its mail object goes (so an entry or account made again is no
//      member; the same entry moved back into the base is one again; an
//      entry created again for the mail object that won a conflict is given
//      back to the groups). A mail object deleted and added again while the
//      LDAP entry made for it is being created takes that entry's Add up
//      (the Add's outcome writes its values); before, the re-add planned a
//      second Add of the same DN.
//   8: both ways, a group's members merge against the members both sides
//      will agree on once the writes pending on its partner are applied, not
//      against the last agreed alone: a side's member edits decided while
//      an earlier one's write is in flight are each kept (before, that
//      write counted as the other side's change, and a member removed and
//      put back, or added and removed, in one run window was undone); a
//      rollback writes a group's members value by value, expecting none
//      (before, a replacement expecting the image, refused where the group
//      held a member its image leaves out); a new LDAP entry at a DN a group
//      listed while an earlier entry had it, and lists still (dirledger's
//      own delete leaves the groups), gives its address to that group's
//      mail group (before, it reached none until the group changed again);
//      both ways, an object deleted and added again on one side while the
//      delete dirledger carries to the other side is pending makes the
//      other side's object again (before: conflict/delete-modify).
//   9: an LDAP entry deleted by others that was the only member of a group
//      whose object class requires one (groupOfNames, groupOfUniqueNames)
//      stays listed in the group's image, as the directory's referential
//      integrity cannot take it out; a new entry at that DN is the group's
//      member on the mail side too (before, the image dropped it, and the
//      mail group never got the new entry's address).
//  10: a mail object reported deleted while the Rename dirledger decided
//      for it is pending, with no origin naming the Rename, was deleted by
//      its administrator: the Rename is dropped and the delete is decided
//      against the linked entry (both ways a delete against a change, one
//      way the object is created again at the new address); before, it was
//      taken for the Rename's echo, the Rename failed, and the entry went
//      back to the old address, which a new entry could take next. A
//      rollback target that names the mail object it is renamed back from
//      (planned from dirledger's own Renames since the point) is one Rename
//      back with the values at the point, its link moving along; before,
//      an Add of the old address, refused where the renamed object held
//      it as an alias. A mail Rename decided before the Add that makes the
//      object is foreseen with the Add's values (before, without them: a
//      write decided against the new address expected them absent and was
//      refused). A member address resolves to an LDAP entry by address only
//      when the entry is not linked to another mail object (before, a
//      failed Rename's target address and the entry's linked one both
//      resolved to it, and the DN went in and out of the group by turns).
//      A change of a mail object being renamed that breaks the pending
//      Rename's expect plans the Rename again against the new values, the
//      fields both sides changed decided by the conflict resolution;
//      before, the Rename was refused. A group's agreed members follow
//      value by value (before: only when the sides listed the same ones,
//      so one member apart held back every other).
//  11: an LDAP delete that names where the entry remains (it left the
//      connector's scope, not the directory: syncrepl reports a move out of
//      the base DNs as a delete, and the source looks the entry up) renames
//      the entry's DN in the image of the groups that list it, as the
//      directory's referential integrity does, the only member of a
//      groupOfNames included; back in the scope, it is renamed back in the
//      groups that list it there, read before or after it left, and only
//      those. Before, it was dropped from the groups (the only member of a
//      groupOfNames kept at its old DN), and a group read after the move
//      never listed it again when it came back. A delete that waits or is
//      held keeps where the entry remains. A rollback's writes go deletes,
//      renames back, modifies, adds, then groups (their members as they
//      will be after the renames); a mail object dirledger renamed onto the
//      address of one deleted since the point is renamed back and that one
//      added again after it. An observation of an unlinked object that is
//      exactly what the writes it consumes made of it is their echo. A mail
//      group's member renamed by a Rename moves in the link's agreed members;
//      an LDAP entry renamed is renamed in the image of the groups listing
//      it, as refint does unreported; a member a pending write takes out
//      of an LDAP group is not given to its mail group.
//  12: an LDAP group that listed a member's DN before its entry existed (a
//      late member) and gave the address to its mail group when the entry
//      came is kept listed for that DN: a new entry at the DN, after the
//      first was deleted (by a rollback, by others: refint leaves such a
//      group as it is), is the group's member on the mail side too, unless
//      the group dropped the DN meanwhile. Before, the group's wait ended
//      with the first entry, and a new entry's address reached no mail
//      group while the LDAP group listed it. A rollback that adds again an
//      LDAP entry that left the scope, not the directory (the writer moves
//      it back from where it remains, refint renaming it in its groups),
//      writes the groups naming it at the DN it comes back to; before, at
//      the DN outside, which the move had taken out of them already, so
//      the entry stayed in a group it had joined after the point.
inline constexpr std::uint32_t kReconcilerRules = 12;

}  // namespace dirledger

#endif  // DIRLEDGER_CODECS_RULES_VERSION_H_

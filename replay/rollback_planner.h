// Rollback planning: given the projection as of SEQ (a Replayer stopped at
// --until SEQ) and the current one, the objects whose image differs, as the
// targets of a Rollback operator event (each object's image as of SEQ, or
// its absence), and a readable per-object plan of what would be added,
// changed and deleted. The CLI shows the plan (--dry-run), refuses more
// deletes than the delete threshold without --yes, and appends the event;
// the reconciler turns the targets into intents (docs/rules.md, "Rollback").
//
// An LDAP entry that was deleted since SEQ is added again whole, as last
// stored (every user attribute the directory reported; secrets such as
// userPassword are never stored, so never restored, and the plan says so),
// asking back its old entryUUID/objectGUID (docs/rules.md, section 10); one
// created since is deleted. An object first *observed* since SEQ
// (replay/appearances.h) was not created then: its state at SEQ is unknown, and
// it is kept as it is (listed in the plan, never deleted). A mail object
// that renames dirledger made since SEQ took to another address is renamed
// back (its mailbox kept), not deleted and made again. Objects are compared
// by stable id, except that an LDAP entry deleted and created again under the
// same DN since SEQ (a new id) is the same entry: a modify of the one there
// now, or nothing.
//
// Thread safety: pure functions of their inputs.
#ifndef DIRLEDGER_REPLAY_ROLLBACK_PLANNER_H_
#define DIRLEDGER_REPLAY_ROLLBACK_PLANNER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "codecs/config.h"
#include "codecs/event.h"
#include "codecs/projection.h"
#include "codecs/status.h"

namespace dirledger {

// Lists a projection's objects on one side (ProjectionStore::ForEachObject,
// InMemoryProjection::ForEachObject).
using ObjectLister =
    std::function<Status(Side, const std::function<bool(const ObjectState&)>&)>;

template <typename Projection>
ObjectLister ListerOf(const Projection& p) {
  return [&p](Side side, const std::function<bool(const ObjectState&)>& fn) {
    return p.ForEachObject(side, fn);
  };
}

struct RollbackFilter {
  std::string side = "both";  // "ldap", "mail" or "both"
  std::string domain;         // "" = every domain
  // Whether an object present now and absent at SEQ was created after SEQ
  // (Appearances::Created); the others are kept. Unset: every such object
  // counts as created.
  std::function<bool(Side, std::string_view id)> created_after;
  // The address a mail object present now had at SEQ, when renames
  // dirledger made since took it from there (Appearances::RenamedFrom); ""
  // otherwise. Such an object to delete, whose old address is to be added,
  // is renamed back instead. Unset: no object is renamed back.
  std::function<std::string(Side, std::string_view id)> renamed_from;
  // Each connector's server type, for the plan's words about an LDAP entry
  // added again (which id it asks back, which password is not restored).
  // A connector not listed is taken as OpenLDAP.
  std::map<std::string, ServerType> server_types;
};

// Parses "ldap", "mail", "both"; InvalidArgument naming the value otherwise.
Status CheckRollbackSide(std::string_view side);

// kRename: a mail object renamed back to the address it had at SEQ (from
// current_dn), taking the values it had then.
enum class RollbackStep : std::uint8_t { kAdd, kModify, kDelete, kRename };

struct PlannedObject {
  ObjectTarget target;  // the image as of SEQ
  RollbackStep step = RollbackStep::kModify;
  std::string current_dn;               // "" when the object is absent now
  std::vector<std::string> attributes;  // that change (modify)
  AttrList current;                     // their current values
};

struct RollbackPlan {
  std::uint64_t to_seq = 0;
  RollbackFilter filter;
  std::vector<PlannedObject> objects;  // ldap before mail, each by kind, id
  std::size_t adds = 0, modifies = 0, deletes = 0, renames = 0;
  // Objects absent at SEQ that were first observed after it: kept.
  std::vector<ObjectState> kept;

  std::vector<ObjectTarget> Targets() const;
  // One line per object ("mail account a@x.com: modify title [Lead] ->
  // [Dev]"), one per kept object, then the counts.
  std::string ToText() const;
  // The operator event that carries it out.
  OperatorAction Action(std::string actor, std::string command) const;
};

// Plans rolling the objects back to `then` (the projection as of `to_seq`)
// from `now`. Errors are those of the listers.
Result<RollbackPlan> PlanRollback(const ObjectLister& then,
                                  const ObjectLister& now, std::uint64_t to_seq,
                                  const RollbackFilter& filter);

}  // namespace dirledger

#endif  // DIRLEDGER_REPLAY_ROLLBACK_PLANNER_H_

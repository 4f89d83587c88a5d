// RemainsFinder: where objects a source reports gone are now, when they were
// not deleted but left the source's scope. syncrepl reports an entry moved
// out of the base DNs, or one that no longer matches the search filter, as
// a delete; the directory keeps it, and its referential integrity renames
// the entry's DN in the groups that list it rather than dropping it. The
// reconciler needs to know which of the two happened (docs/rules.md
// section 8); a finder tells it, by looking each id up outside the scope.
//
// Thread safety: the thread of the source that owns the finder.
#ifndef DIRLEDGER_ENGINE_REMAINS_FINDER_H_
#define DIRLEDGER_ENGINE_REMAINS_FINDER_H_

#include <map>
#include <string>
#include <vector>

#include "codecs/event.h"
#include "codecs/status.h"

namespace dirledger {

class RemainsFinder {
 public:
  virtual ~RemainsFinder() = default;
  // For each of `ids` (stable ids, e.g. entryUUIDs) whose object still
  // exists where the finder can see it: id -> its DN now. An id not in the
  // answer is gone, or out of the finder's sight. An error (the directory
  // could not be asked) says nothing of any of them.
  virtual Result<std::map<std::string, std::string>> Find(
      const std::vector<std::string>& ids) = 0;
};

// Sets ObservedChange::remains_at on the deletes in `events` that `finder`
// finds (none when `finder` is null, or a delete names where it is already).
Status PlaceRemains(RemainsFinder* finder, std::vector<EventBody>* events);

}  // namespace dirledger

#endif  // DIRLEDGER_ENGINE_REMAINS_FINDER_H_

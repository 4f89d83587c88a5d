// DerivedRecordsCheck: `verify`'s check of every record the log keeps beside
// its events and decisions that is derived from them: the projection
// (`state`: objects with their DN, address and source indexes, pending
// intents with their by-target index, conflicts, holds, drift, waits;
// `links`: links with their by-mail index) and the object index
// (`by_object`). Fed every event while `verify` replays the log, it notes
// the object index keys intake writes for it; at the end it takes the
// projection families from the replayed projection, key for key as a store
// given every delta holds them (InMemoryProjection::ForEachStored), and
// compares each family with the stored one both ways: a key missing from
// the store, a stored key the log does not derive, a value that differs. An
// index an intruder or a tool edited (say the address index entry of one
// account, so the next entry with that address would be linked to the wrong
// object) is named by its key.
//
// Thread safety: not thread-safe.
#ifndef DIRLEDGER_TOOLS_DIRLEDGER_VERIFY_DERIVED_H_
#define DIRLEDGER_TOOLS_DIRLEDGER_VERIFY_DERIVED_H_

#include <cstdint>
#include <string>
#include <vector>

#include "replay/in_memory_projection.h"
#include "storage/event_log.h"

namespace dirledger::cli {

class DerivedRecordsCheck {
 public:
  // Notes the by_object keys of `event`. Called for each event before it is
  // replayed, with the replayed projection as it stands before it.
  void Note(const InMemoryProjection& before, const Event& event,
            const Decision* decision);

  // Compares the families derived from the log (`replayed`: the projection
  // the replay of the whole log ends with) with the stored ones. Every
  // difference is counted in *count; the first `limit` are described in
  // *out, one line each. Errors: the stored families cannot be read.
  Status Compare(const EventLog& log, const InMemoryProjection& replayed,
                 std::size_t limit, std::vector<std::string>* out,
                 std::uint64_t* count) const;

 private:
  struct IndexKey {
    std::string key;
    // False for the key of a DN its object already had: intake leaves it
    // out, an index rebuilt from the log has it. Either is right.
    bool required = true;
  };

  std::vector<IndexKey> index_keys_;
};

}  // namespace dirledger::cli

#endif  // DIRLEDGER_TOOLS_DIRLEDGER_VERIFY_DERIVED_H_

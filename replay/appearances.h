// Appearances: how each object that came to be known after a point of the
// log came to be, for rollback. A rollback undoes the changes made after
// SEQ; an object first *observed* after SEQ (in a source's initial refresh,
// a full DirSync pass, or the first poll of a mail source) existed before
// dirledger saw it, and its state at SEQ is unknown, not absent: a rollback
// must never delete it. An object *created* after SEQ (reported as an add
// by a source that was already in sync, or written by dirledger itself)
// is undone by deleting it.
//
// Feed every event of the log in order (Visit); then ask Created(side, id)
// about objects absent at SEQ and present now.
//
// Thread safety: not thread-safe; a pure function of the events visited.
#ifndef DIRLEDGER_REPLAY_APPEARANCES_H_
#define DIRLEDGER_REPLAY_APPEARANCES_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "codecs/event.h"

namespace dirledger {

// What Appearances needs to know of the events up to a record to go on
// from there: the sources with an event at or before it, and those inside a
// refresh that names every object. Kept in projection checkpoints
// (replay/projection_checkpoint.h), so a rollback starting from one does not
// read the log before it.
struct SourcePositions {
  std::set<std::string> seen;
  std::set<std::string> in_full_refresh;

  friend bool operator==(const SourcePositions&,
                         const SourcePositions&) = default;
};

class Appearances {
 public:
  explicit Appearances(std::uint64_t after_seq) : after_seq_(after_seq) {}

  // Goes on from `at`, the positions after the events up to a record at or
  // before the point (nothing visited yet): visiting the events after that
  // record then gives what visiting every event gives.
  void Resume(const SourcePositions& at) {
    sources_at_point_ = at.seen;
    in_full_refresh_ = at.in_full_refresh;
  }
  // The positions after the events visited, all at or before the point
  // (Appearances(UINT64_MAX) follows them through a whole log).
  SourcePositions Positions() const {
    return {sources_at_point_, in_full_refresh_};
  }

  // `decision`: the event's recorded decision, nullptr when none.
  void Visit(const Event& event, const Decision* decision);

  // Whether the object (side, stable id, case-insensitive) was created
  // after the point: its first event after it was an add reported by a
  // source already in sync (outside a refresh that names every object), an
  // echo of dirledger's own write, or the successful outcome of one. False
  // for objects first observed after the point (initial refresh, full
  // pass, a mail source's first poll, a modify of an object dirledger had
  // not seen) and for objects no event after the point names.
  bool Created(Side side, std::string_view id) const;

  // The address a mail object present now had at the point, when Renames
  // dirledger decided after it (each ending in a successful outcome) took
  // it from there: the object is that one, renamed. "" when none did, or
  // when the object at the new address was deleted since.
  std::string RenamedFrom(Side side, std::string_view id) const;

 private:
  enum class How : std::uint8_t { kObserved, kCreated };
  void First(Side side, std::string_view id, How how);

  std::uint64_t after_seq_;
  // Sources with an event at or before the point. A mail source with none
  // was first polled after it: its adds without an origin are what it held
  // (a first poll reports every object as an add), not creations.
  std::set<std::string> sources_at_point_;
  // Sources inside a refresh that reports every object (an initial
  // syncrepl refresh, a full DirSync pass): their adds are observations.
  std::set<std::string> in_full_refresh_;
  std::set<std::uint64_t> adds_;  // ids of Add intents decided after the point
  // Mail Renames decided after the point: intent id -> (old, new address).
  std::map<std::uint64_t, std::pair<std::string, std::string>> renames_;
  // Mail addresses now -> the address the object had at the point.
  std::map<std::string, std::string> renamed_from_;
  std::map<std::pair<Side, std::string>, How> first_;
};

}  // namespace dirledger

#endif  // DIRLEDGER_REPLAY_APPEARANCES_H_

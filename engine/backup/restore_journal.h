// Restoring a backup into the data dir as one step: after a kill at any
// point, the next command finds the data dir as it was before the restore
// or as the backup left it, never the log of one and the mail directory of
// the other.
//
// In the data dir, for each part restored (`log`, and `mail` when the
// backup has the embedded mail directory):
//   1. the backup's copy is staged as PART.restoring (same file system),
//      fsynced;
//   2. the journal `restore-journal.json` names the parts (and whether each
//      had a live copy), written and fsynced: the point of no return;
//   3. each PART is renamed to PART.replaced and PART.restoring to PART;
//   4. the journal is removed (the restore is complete), then the
//      PART.replaced copies.
// RecoverInterruptedRestore, run before any command touches the data dir,
// finishes a restore whose journal is there (every part staged or already
// swapped), or else undoes it, and removes what a stopped restore left.
// A lock file (`restore.lock`, flock) keeps a restore apart from a recovery
// and from every command that writes: a restore holds it exclusively from
// its first check to its last rename, a writer holds it shared while it
// runs (DataDirLock), so neither starts inside the other.
//
// Thread safety: plain functions; the flock serializes processes.
#ifndef DIRLEDGER_ENGINE_BACKUP_RESTORE_JOURNAL_H_
#define DIRLEDGER_ENGINE_BACKUP_RESTORE_JOURNAL_H_

#include <string>
#include <vector>

#include "codecs/status.h"

namespace dirledger {

struct RestorePart {
  std::string name;  // "log" or "mail": the directory in the data dir
  std::string from;  // its copy in the backup
};

// The data dir's restore lock, held until destroyed.
class DataDirLock {
 public:
  DataDirLock() = default;
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;
  ~DataDirLock();
  // Takes the lock of `data_dir` shared (a command that writes) or
  // exclusive (a restore) without waiting: Unavailable, naming the data
  // dir, when another process holds it the other way.
  Status TryAcquire(const std::string& data_dir, bool exclusive);
  bool exclusive() const { return fd_ >= 0 && exclusive_; }

 private:
  int fd_ = -1;
  bool exclusive_ = false;
};

// Replaces the parts of `data_dir` with the backup's copies, as above.
// Crash points (crash_point.h): restore.after_stage_PART,
// restore.after_journal, restore.after_PART_aside, restore.after_PART_swap,
// restore.after_commit. REQUIRES: `held` is the data dir's lock, taken
// exclusively before the restore's first check.
Status RestoreParts(const std::string& data_dir,
                    const std::vector<RestorePart>& parts,
                    const DataDirLock& held);

// Finishes or undoes a restore of `data_dir` that was stopped, and removes
// its leftovers. `*note` says what was done ("" when nothing was needed).
Status RecoverInterruptedRestore(const std::string& data_dir,
                                 std::string* note);

}  // namespace dirledger

#endif  // DIRLEDGER_ENGINE_BACKUP_RESTORE_JOURNAL_H_

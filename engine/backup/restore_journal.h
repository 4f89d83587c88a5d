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
// A lock file (`restore.lock`, flock) keeps a restore and a recovery apart.
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

// Replaces the parts of `data_dir` with the backup's copies, as above.
// Crash points (crash_point.h): restore.after_stage_PART,
// restore.after_journal, restore.after_PART_aside, restore.after_PART_swap,
// restore.after_commit.
Status RestoreParts(const std::string& data_dir,
                    const std::vector<RestorePart>& parts);

// Finishes or undoes a restore of `data_dir` that was stopped, and removes
// its leftovers. `*note` says what was done ("" when nothing was needed).
Status RecoverInterruptedRestore(const std::string& data_dir,
                                 std::string* note);

}  // namespace dirledger

#endif  // DIRLEDGER_ENGINE_BACKUP_RESTORE_JOURNAL_H_

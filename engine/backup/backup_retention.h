// The automatic backups in DATA/backups: listing them, finding one already
// made for a step at the same log head (so a step retried after a failure
// does not make another), removing unfinished ones, and pruning to
// `backup_keep` (docs/configuration.md). Only backups whose manifest says
// "automatic" are ever pruned; a backup made with `dirledger backup DIR`
// is never removed, wherever it is.
//
// Thread safety: plain functions; one process owns the data dir.
#ifndef DIRLEDGER_ENGINE_BACKUP_BACKUP_RETENTION_H_
#define DIRLEDGER_ENGINE_BACKUP_BACKUP_RETENTION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "codecs/status.h"
#include "engine/backup/backup_manifest.h"

namespace dirledger {

struct StoredBackup {
  std::string dir;
  BackupManifest manifest;
};

// Complete automatic backups directly under `backups_dir`, oldest first
// (by creation time, then name).
Result<std::vector<StoredBackup>> ListAutomaticBackups(
    const std::string& backups_dir);

// Removes every NAME.partial under `backups_dir` (backups stopped before
// they were complete); their paths go to `*removed`.
Status RemoveUnfinishedBackups(const std::string& backups_dir,
                               std::vector<std::string>* removed);

// Removes the oldest automatic backups beyond the newest `keep` (0: none
// removed). `just_made` (a backup directory, "" for none) is always among
// those kept, whatever the clock said when it was made. Each removed one
// is first renamed to NAME.partial, so one stopped halfway is unfinished,
// never a damaged backup that looks complete.
Status PruneAutomaticBackups(const std::string& backups_dir, std::uint32_t keep,
                             const std::string& just_made,
                             std::vector<std::string>* removed);

}  // namespace dirledger

#endif  // DIRLEDGER_ENGINE_BACKUP_BACKUP_RETENTION_H_

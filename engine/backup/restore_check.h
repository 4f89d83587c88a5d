// Checks that a directory is a complete dirledger backup before `restore`
// touches the data dir: it is not an unfinished NAME.partial, its manifest
// is there and readable, every part it
// lists is there, and the log's last sequence and head hash are the ones
// the manifest recorded. Anything else is InvalidArgument naming the backup
// and what is missing or wrong (the command exits 2).
//
// Thread safety: plain functions.
#ifndef DIRLEDGER_ENGINE_BACKUP_RESTORE_CHECK_H_
#define DIRLEDGER_ENGINE_BACKUP_RESTORE_CHECK_H_

#include <string>

#include "codecs/status.h"
#include "engine/backup/backup_manifest.h"

namespace dirledger {

Result<BackupManifest> CheckBackupComplete(const std::string& backup_dir);

}  // namespace dirledger

#endif  // DIRLEDGER_ENGINE_BACKUP_RESTORE_CHECK_H_

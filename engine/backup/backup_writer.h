// WriteBackup: one backup of the data dir, whole or not at all. It is made
// in DIR.partial (a checkpoint of the log, one of the embedded mail
// directory when there is one, then the manifest, all fsynced) and renamed
// to DIR once complete, the parent fsynced: a process killed while making it
// leaves DIR.partial, never a DIR that looks complete. Both `dirledger
// backup DIR` and the automatic backups go through here.
//
// Thread safety: as the log and the mail directory it reads.
#ifndef DIRLEDGER_ENGINE_BACKUP_BACKUP_WRITER_H_
#define DIRLEDGER_ENGINE_BACKUP_BACKUP_WRITER_H_

#include <string>

#include "codecs/status.h"
#include "engine/backup/backup_manifest.h"

namespace dirledger {

class EventLog;
class EmbeddedMailDirectory;

struct BackupRequest {
  std::string dir;  // must not exist
  bool automatic = false;
  std::string why;  // automatic backups: the step it comes before
};

// Backs up `log` (and `mail`, when not null) into `request.dir`; fills
// `*manifest` with what was written. A DIR.partial left by an earlier
// attempt is removed first. InvalidArgument when DIR exists.
// Crash points (crash_point.h): backup.after_log, backup.after_mail,
// backup.before_rename.
Status WriteBackup(const EventLog& log, const EmbeddedMailDirectory* mail,
                   const BackupRequest& request, BackupManifest* manifest);

}  // namespace dirledger

#endif  // DIRLEDGER_ENGINE_BACKUP_BACKUP_WRITER_H_

// The automatic backups in DATA/backups/<time>-<why>, made before risky
// steps (the first sync of a connector, a rollback): whole or not at all,
// at most one per step and log head when asked, and pruned to the
// config's backup_keep once the new one is complete.
#ifndef DIRLEDGER_TOOLS_DIRLEDGER_AUTO_BACKUP_H_
#define DIRLEDGER_TOOLS_DIRLEDGER_AUTO_BACKUP_H_

#include <string>
#include <vector>

#include "codecs/status.h"
#include "tools/dirledger/cli_context.h"

namespace dirledger {
class EmbeddedMailDirectory;
}

namespace dirledger::cli {

struct AutoBackupResult {
  std::string where;    // the backup made, or the one found
  bool reused = false;  // an earlier backup for the same step and head
  std::vector<std::string> pruned;  // older backups removed (backup_keep)
};

// Backs up before the step `why`. With `once_per_head`, a complete
// automatic backup for the same step whose log head and mail directory
// change are the current ones is reused instead of making another (a
// step retried after a failure). Unfinished backups are removed first
// (said on stderr).
Status AutoBackup(CliContext& ctx, const EventLog& log,
                  const EmbeddedMailDirectory* embedded, const std::string& why,
                  bool once_per_head, AutoBackupResult* out);

}  // namespace dirledger::cli

#endif  // DIRLEDGER_TOOLS_DIRLEDGER_AUTO_BACKUP_H_

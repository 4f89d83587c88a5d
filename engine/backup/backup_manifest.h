// BackupManifest: what a backup holds, written last into every backup
// (`dirledger backup DIR` and the automatic ones of `run` and `rollback`)
// as DIR/dirledger-backup.json. A backup without one is incomplete: it was
// stopped before it finished, or it is not a dirledger backup.
//
// {"format": 1, "installation_id": "...", "created_us": N,
//  "automatic": true|false, "why": "before-first-sync-corp-syncrepl",
//  "log": {"dir": "log", "last_seq": N, "head_sha256": "hex",
//          "log_format": 1},
//  "mail": {"dir": "mail", "last_change": N} | null}
//
// Thread safety: plain values.
#ifndef DIRLEDGER_ENGINE_BACKUP_BACKUP_MANIFEST_H_
#define DIRLEDGER_ENGINE_BACKUP_BACKUP_MANIFEST_H_

#include <cstdint>
#include <string>

#include "codecs/status.h"

namespace dirledger {

inline constexpr int kBackupFormat = 1;
inline constexpr char kBackupManifestName[] = "dirledger-backup.json";

struct BackupManifest {
  int format = kBackupFormat;
  std::string installation_id;
  std::int64_t created_us = 0;
  bool automatic = false;
  std::string why;  // automatic backups: the step it was made before
  std::uint64_t last_seq = 0;
  std::string head_sha256;  // hex
  int log_format = 0;
  bool has_mail = false;  // holds the embedded mail directory in "mail"
  std::uint64_t mail_last_change = 0;
};

std::string EncodeManifest(const BackupManifest& m);
// Reads DIR/dirledger-backup.json. NotFound when there is none;
// Corruption naming the file when it does not parse.
Result<BackupManifest> ReadManifest(const std::string& backup_dir);
Status WriteManifest(const std::string& backup_dir, const BackupManifest& m);

}  // namespace dirledger

#endif  // DIRLEDGER_ENGINE_BACKUP_BACKUP_MANIFEST_H_

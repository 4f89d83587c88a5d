// Durable file-system steps for the databases' creation, backups and
// restores: a file written and fsynced, a directory tree fsynced, a rename
// followed by an fsync of the parent, so that what a step made survives a
// power cut before the next step relies on it.
//
// Thread safety: plain functions.
#ifndef DIRLEDGER_STORAGE_DURABLE_FS_H_
#define DIRLEDGER_STORAGE_DURABLE_FS_H_

#include <functional>
#include <string>

#include "codecs/status.h"

namespace dirledger {

// Writes `text` to `path` through `path`.tmp (0600), fsynced, renamed; on
// failure the temporary file is removed. `halfway`, when set, runs once half
// of `text` is written (tests stop the process there: engine/crash_point.h).
Status WriteFileDurably(const std::string& path, const std::string& text,
                        const std::function<void()>& halfway = {});
// fsyncs every file and directory under `dir`, and `dir` itself.
Status SyncTree(const std::string& dir);
// fsyncs the directory `dir`.
Status SyncDir(const std::string& dir);
// Renames `from` to `to` and fsyncs the parent of `to`.
Status RenameDurably(const std::string& from, const std::string& to);
// Copies the tree `from` into `to` (must not exist), 0700/0600, fsynced.
Status CopyTreeDurably(const std::string& from, const std::string& to);

}  // namespace dirledger

#endif  // DIRLEDGER_STORAGE_DURABLE_FS_H_

// IoHint: what an operator should know about a storage error that is not a
// fault of dirledger's data: the disk under a directory is full (ENOSPC),
// or a file reached the process's file size limit (EFBIG, `ulimit -f`). The
// text is appended to the error's message; a failed RocksDB write writes
// nothing, so the hint says so. LockHeld tells a RocksDB LOCK that another
// process holds from a LOCK file that cannot be opened (a read-only mount,
// no permission), whose cause the error itself names.
//
// Thread safety: pure functions.
#ifndef DIRLEDGER_STORAGE_IO_HINTS_H_
#define DIRLEDGER_STORAGE_IO_HINTS_H_

#include <string>
#include <string_view>

namespace dirledger {

// " (the disk under <where> is full; ...)" for a message that says "No
// space left on device", " (a file under <where> reached ...)" for "File
// too large", else "". `where` names the directory written to: the data
// dir, or a backup's target.
inline std::string IoHint(std::string_view message,
                          std::string_view where = "the data dir") {
  if (message.find("No space left") != std::string_view::npos)
    return " (the disk under " + std::string(where) +
           " is full; free space and run again, nothing was written)";
  if (message.find("File too large") != std::string_view::npos)
    return " (a file under " + std::string(where) +
           " reached the file size limit of this process, `ulimit -f`; raise "
           "it and run again, nothing was written)";
  return "";
}

// True when RocksDB's open failed because another process (or another
// open in this one) holds the database's LOCK: fcntl's EAGAIN, or RocksDB's
// own "lock hold by current process". Not when the LOCK file could not be
// opened at all (EROFS, EACCES: the message names that cause).
inline bool LockHeld(std::string_view rocks_message) {
  return rocks_message.find("Resource temporarily unavailable") !=
             std::string_view::npos ||
         rocks_message.find("lock hold by current process") !=
             std::string_view::npos;
}

}  // namespace dirledger

#endif  // DIRLEDGER_STORAGE_IO_HINTS_H_

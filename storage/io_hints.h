// IoHint: what an operator should know about a storage error that is not a
// fault of dirledger's data: the disk under the data dir is full (ENOSPC),
// or a file reached the process's file size limit (EFBIG, `ulimit -f`). The
// text is appended to the error's message; a failed RocksDB write writes
// nothing, so the hint says so.
//
// Thread safety: a pure function.
#ifndef DIRLEDGER_STORAGE_IO_HINTS_H_
#define DIRLEDGER_STORAGE_IO_HINTS_H_

#include <string>
#include <string_view>

namespace dirledger {

// " (the disk under the data dir is full; ...)" for a message that says "No
// space left on device", " (a file under the data dir reached ...)" for
// "File too large", else "".
inline std::string IoHint(std::string_view message) {
  if (message.find("No space left") != std::string_view::npos)
    return " (the disk under the data dir is full; free space and run "
           "again, nothing was written)";
  if (message.find("File too large") != std::string_view::npos)
    return " (a file under the data dir reached the file size limit of this "
           "process, `ulimit -f`; raise it and run again, nothing was "
           "written)";
  return "";
}

}  // namespace dirledger

#endif  // DIRLEDGER_STORAGE_IO_HINTS_H_

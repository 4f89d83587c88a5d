// Where the dirledger command's log lines go and how they look. They go to
// standard error. On a terminal or into a file each line carries its time
// and level; when standard error is the systemd journal (JOURNAL_STREAM
// holds "DEVICE:INODE" of the stream, and fstat of standard error says the
// same: systemd.exec(5)) each line starts with its syslog priority instead
// (<3> error, <4> warning, <6> info, <7> debug; sd-daemon(3)) and carries
// no time of its own, so `journalctl -p err -u dirledger@corp` shows the
// errors.
//
// Thread safety: SetUpLogging once, before other threads log.
#ifndef DIRLEDGER_TOOLS_DIRLEDGER_JOURNAL_LOG_H_
#define DIRLEDGER_TOOLS_DIRLEDGER_JOURNAL_LOG_H_

#include <spdlog/formatter.h>

#include <memory>

namespace dirledger::cli {

// Whether `fd` is the stream JOURNAL_STREAM names.
bool IsJournalStream(int fd);

// The line format: with `journal`, "<PRIORITY>message"; without,
// "2024-05-01T12:00:00.000Z level message" (UTC).
std::unique_ptr<spdlog::formatter> MakeLogFormatter(bool journal);

// Makes the default logger write to standard error in the format its
// destination needs.
void SetUpLogging();

}  // namespace dirledger::cli

#endif  // DIRLEDGER_TOOLS_DIRLEDGER_JOURNAL_LOG_H_

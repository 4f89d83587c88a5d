// `verify`'s check of the embedded mail directory against the log: every
// account and group the log's projection holds on the mail side must be in
// the directory with the same fields, and the directory must hold nothing
// the log does not know. Objects the directory changed after the log last
// read its change feed are not compared (the next run takes them in), but
// such a change made by a write of a log record this log does not have,
// or a directory behind the log's cursor, means the directory and the log
// are of different times (a restore of one without the other): a
// difference.
#ifndef DIRLEDGER_TOOLS_DIRLEDGER_VERIFY_MAIL_DIRECTORY_H_
#define DIRLEDGER_TOOLS_DIRLEDGER_VERIFY_MAIL_DIRECTORY_H_

#include <cstddef>
#include <string>
#include <vector>

#include "codecs/status.h"
#include "tools/dirledger/cli_context.h"

namespace dirledger {
class EventLog;
class EmbeddedMailDirectory;
}  // namespace dirledger

namespace dirledger::cli {

struct MailDirectoryReport {
  std::size_t compared = 0;      // objects compared field by field
  std::size_t not_yet_read = 0;  // changed after the log's cursor
  // Each difference, naming the object and the field.
  std::vector<std::string> differences;
};

Status CompareMailDirectory(const EventLog& log,
                            const EmbeddedMailDirectory& mail,
                            MailDirectoryReport* report);

// verify's step: with [mail] kind = "embedded", opens the directory
// read-only, compares and prints the result ("verify: mail directory OK"
// or "verify: FAILED: mail directory: ..." with every difference). Returns
// the exit code (0 when nothing differs, 1 otherwise).
int VerifyMailDirectory(CliContext& ctx, const EventLog& log);

}  // namespace dirledger::cli

#endif  // DIRLEDGER_TOOLS_DIRLEDGER_VERIFY_MAIL_DIRECTORY_H_

// `dirledger verify`: the hash chain, FlatBuffers verification of every
// record, and (with the reconciler) replay determinism. Exit 1 naming the
// first bad sequence.
#include <iostream>

#include "codecs/sha256.h"
#include "tools/dirledger/commands.h"

namespace dirledger::cli {

int RunVerify(CliContext& ctx, const VerifyOptions& o) {
  EventLog* log = ctx.OpenLog(/*read_only=*/true);
  if (!log) return kExitFailure;
  ChainReport report;
  Status s = log->VerifyChain(&report, [](std::uint64_t seq) {
    std::cerr << "verify: " << seq << " records checked\n";
  });
  if (!s.ok()) {
    std::cout << "verify: FAILED at sequence " << report.first_bad_seq << ": "
              << s.message() << "\n";
    return kExitFailure;
  }
  if (!o.expect_head.empty() && AsciiLower(o.expect_head) != report.head_hash) {
    std::cout << "verify: FAILED: the log head is " << report.head_hash
              << ", not the expected " << o.expect_head
              << " (the log was rewritten or is not the one recorded)\n";
    return kExitFailure;
  }
  std::cout << "verify: hash chain OK, " << report.records
            << " records, head sha256 " << report.head_hash << "\n";
  return kExitOk;
}

}  // namespace dirledger::cli

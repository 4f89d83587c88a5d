// Checks shared by the fault tests, over what the dirledger command prints:
// the mail side as `mail list --json` (or, while `run` holds the data dir,
// `export --side mail --format json`) shows it, and the log as
// `log --json` shows it.
//
// Thread safety: plain functions.
#ifndef DIRLEDGER_TESTS_FAULTS_FAULT_UTIL_H_
#define DIRLEDGER_TESTS_FAULTS_FAULT_UTIL_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "tests/faults/dirledger_cli.h"

namespace dirledger::test {

// The addresses `mail list --json` shows (REQUIRE: it succeeds).
std::set<std::string> MailAddresses(const DirledgerCli& cli);
// address -> the object's JSON, from `mail list --json`.
std::map<std::string, nlohmann::json> MailObjects(const DirledgerCli& cli);
// The same without asserting: empty while there is no mail directory yet
// (for polling).
std::map<std::string, nlohmann::json> MailObjectsSoFar(const DirledgerCli& cli);

// What `dirledger log --json` says about writes.
struct LogFigures {
  std::size_t events = 0;
  std::size_t intents = 0;
  std::size_t outcomes = 0;
  std::size_t failed_outcomes = 0;
  std::size_t errors = 0;                       // ObjectError events
  std::vector<std::string> duplicate_outcomes;  // intents with > 1 outcome
  // Intents with none: applied ones whose outcome a lost connection or a
  // crash kept from the log are consumed by their echo instead (decision
  // echo/values), so this is a figure, not a failure; PendingIntents() says
  // whether any is still to be applied.
  std::vector<std::string> without_outcome;
  std::vector<nlohmann::json> lines;
};
LogFigures ReadLog(const DirledgerCli& cli);

// `dirledger verify` exits 0 (its output in *out).
bool VerifyClean(const DirledgerCli& cli, std::string* out = nullptr);

// The intents `status --json` lists as not yet applied.
std::size_t PendingIntents(const DirledgerCli& cli);

// The `last_seq` `status --json` shows (0 when it fails).
std::uint64_t LastSeq(const DirledgerCli& cli);

// The uid and DN of person number i of `slapd.sh people`.
std::string PersonDn(int i);
std::string PersonUid(int i);

}  // namespace dirledger::test

#endif  // DIRLEDGER_TESTS_FAULTS_FAULT_UTIL_H_

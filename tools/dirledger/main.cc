// dirledger: the command operators and auditors use (docs/operations.md).
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "codecs/config.h"
#include "codecs/sha256.h"
#include "storage/event_log.h"

namespace dirledger {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

int Verify(const std::string& config_path) {
  auto cfg = LoadConfigFile(config_path);
  if (!cfg.ok()) {
    std::cerr << "dirledger: " << cfg.status().message() << "\n";
    return kExitUsage;
  }
  LogOptions o;
  o.read_only = true;
  auto log = EventLog::Open(cfg->Resolve(cfg->data_dir), o);
  if (!log.ok()) {
    std::cerr << "dirledger: " << log.status().message() << "\n";
    return kExitFailure;
  }
  ChainReport report;
  Status s = (*log)->VerifyChain(&report);
  if (!s.ok()) {
    std::cout << "verify: FAILED at sequence " << report.first_bad_seq << ": "
              << s.message() << "\n";
    return kExitFailure;
  }
  std::cout << "verify: OK, " << report.records << " records, head "
            << report.head_hash << "\n";
  return kExitOk;
}

}  // namespace
}  // namespace dirledger

int main(int argc, char** argv) {
  ::umask(077);  // everything dirledger writes is private to its user
  CLI::App app{"dirledger: event-sourced sync between LDAP and Axigen"};
  app.require_subcommand(1);
  std::string config = "./dirledger.toml";
  app.add_option("--config", config, "config file")->capture_default_str();
  auto* verify = app.add_subcommand("verify", "check the log's hash chain");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : dirledger::kExitUsage;
  }
  if (*verify) return dirledger::Verify(config);
  return dirledger::kExitUsage;
}

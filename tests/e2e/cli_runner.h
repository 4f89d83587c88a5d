// CliRunner: drives the built `dirledger` binary as an operator would, for
// the end-to-end tests: one command at a time (its exit code, stdout and
// stderr), or `run` as a service (a child process stopped by SIGTERM).
// Commands run in the work directory with `--config <work>/dirledger.toml`
// unless told otherwise; nothing goes through a shell, so arguments need no
// quoting.
//
// Thread safety: one runner per test; not thread-safe.
#ifndef DIRLEDGER_TESTS_E2E_CLI_RUNNER_H_
#define DIRLEDGER_TESTS_E2E_CLI_RUNNER_H_

#include <sys/types.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace dirledger::test {

// The dirledger binary under test (set by CMake).
std::string DirledgerBinary();

struct CliResult {
  int exit_code = -1;  // 128 + signal when killed
  std::string out;
  std::string err;

  // For failure messages: the command's exit code and both streams.
  std::string Describe() const;
  // stdout as JSON Lines. REQUIRES: every line parses (a test failure
  // otherwise, naming the line).
  std::vector<nlohmann::json> Json() const;
};

class CliRunner {
 public:
  // `work_dir` holds dirledger.toml (written by the test) and is the
  // working directory of every command.
  explicit CliRunner(std::string work_dir);
  ~CliRunner();  // stops a service still running (SIGTERM, then waits)
  CliRunner(const CliRunner&) = delete;
  CliRunner& operator=(const CliRunner&) = delete;

  const std::string& work_dir() const { return work_dir_; }
  std::string config_path() const { return work_dir_ + "/dirledger.toml"; }
  void WriteConfig(const std::string& text) const;

  // dirledger --config <config_path()> ARGS...
  CliResult Run(const std::vector<std::string>& args) const;
  // dirledger ARGS... (no --config added).
  CliResult RunRaw(const std::vector<std::string>& args) const;
  // With extra environment variables.
  CliResult RunWithEnv(const std::vector<std::string>& args,
                       const std::map<std::string, std::string>& env) const;

  // Starts `dirledger --config ... ARGS...` in the background (one at a
  // time), with extra environment variables; its output goes to files read
  // by StopService.
  void StartService(const std::vector<std::string>& args,
                    const std::map<std::string, std::string>& env = {});
  bool service_running() const { return service_pid_ > 0; }
  // Sends SIGTERM and waits for the process to exit.
  CliResult StopService();

 private:
  // Forks and execs the binary with stdout/stderr into files; returns the
  // child's pid.
  pid_t Spawn(const std::vector<std::string>& argv,
              const std::map<std::string, std::string>& env,
              const std::string& out_file, const std::string& err_file) const;

  std::string work_dir_;
  mutable int counter_ = 0;
  pid_t service_pid_ = -1;
  std::string service_out_;
  std::string service_err_;
};

// Reads a whole file ("" when it cannot be read).
std::string ReadFile(const std::string& path);
void WriteFile(const std::string& path, const std::string& text);

}  // namespace dirledger::test

#endif  // DIRLEDGER_TESTS_E2E_CLI_RUNNER_H_

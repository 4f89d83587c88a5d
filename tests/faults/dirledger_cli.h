// DirledgerCli: the fault and security tests drive dirledger the way an
// operator does: the `dirledger` binary run as a child process in a working
// dir that holds its config, with its exit code, stdout and stderr kept.
// Also a child that runs in the background (`dirledger run` without
// --once), to be stopped by its PID, and the config text these tests use.
//
// Thread safety: a DirledgerCli may be used from one thread; a
// BackgroundRun belongs to the thread that started it.
#ifndef DIRLEDGER_TESTS_FAULTS_DIRLEDGER_CLI_H_
#define DIRLEDGER_TESTS_FAULTS_DIRLEDGER_CLI_H_

#include <sys/types.h>

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/slapd_server.h"

namespace dirledger::test {

// The dirledger binary of this build (set by CMake).
std::string DirledgerBinary();

struct CliResult {
  int exit_code = -1;  // the exit status, or 128 + signal
  std::string out;
  std::string err;
  std::string text() const { return out + err; }  // for INFO()
};

// Extra settings for one child.
struct CliOptions {
  std::map<std::string, std::string> env;  // set in the child
  // Called in the child after fork, before exec (setrlimit, signals).
  std::function<void()> in_child;
};

class BackgroundRun;

class DirledgerCli {
 public:
  // `workdir` holds dirledger.toml; the child runs there.
  explicit DirledgerCli(std::string workdir) : workdir_(std::move(workdir)) {}

  const std::string& workdir() const { return workdir_; }
  std::string config_path() const { return workdir_ + "/dirledger.toml"; }
  void WriteConfig(const std::string& toml) const;

  // Runs `dirledger --config dirledger.toml ARGS...` to its end.
  CliResult Run(const std::vector<std::string>& args,
                const CliOptions& options = {}) const;
  // Starts it; the caller stops it.
  BackgroundRun Start(const std::vector<std::string>& args,
                      const CliOptions& options = {}) const;

 private:
  std::string workdir_;
};

class BackgroundRun {
 public:
  BackgroundRun(pid_t pid, std::string out_file, std::string err_file)
      : pid_(pid),
        out_file_(std::move(out_file)),
        err_file_(std::move(err_file)) {}
  ~BackgroundRun();  // SIGKILL and reap, if still running
  BackgroundRun(BackgroundRun&& o) noexcept;
  BackgroundRun(const BackgroundRun&) = delete;
  BackgroundRun& operator=(const BackgroundRun&) = delete;

  pid_t pid() const { return pid_; }
  bool Running();
  void Signal(int sig);
  // Waits for the end (at most `timeout_s`, then SIGKILL).
  CliResult Wait(double timeout_s = 300);
  std::string err_so_far() const;

 private:
  pid_t pid_;
  std::string out_file_;
  std::string err_file_;
  bool reaped_ = false;
  int status_ = 0;
};

// Polls `pred` every 50 ms for at most `timeout_s`; true when it held. A
// test waits with it for something that must happen, never to measure time.
bool WaitFor(const std::function<bool()>& pred, double timeout_s = 120);

// Reads a whole file ("" when it cannot be read).
std::string ReadFile(const std::string& path);

// The config the fault tests use: one OpenLDAP connector on `uri` with its
// password in `password_file`, domain example.com, and `extra` lines added
// to the connector table; `mail` replaces the [mail] table.
struct TestConfig {
  std::string uri;
  std::string bind_dn = "cn=admin,dc=example,dc=com";
  std::string password_file;
  std::string direction = "ldap_to_axigen";
  std::string conflict_resolution;  // only with both_ways
  std::string connector_extra;      // more `key = value` lines
  std::string top_extra;            // lines before any table
  std::string mail = "[mail]\nkind = \"embedded\"\n";
  int delete_threshold = 100000;
  int timeout_s = 4;
  std::string server_type = "openldap";
  std::string account_base_dn = "ou=people,%D";
  std::string group_base_dn = "ou=groups,%D";
  std::string domain = "example.com";
  std::string ToToml() const;

  // The defaults, on `slapd`'s URL with its admin password file.
  static TestConfig For(const SlapdServer& slapd);
};

// The JSON Lines of `text` (`--json` output); a line that is not JSON is
// returned as a JSON string, so a test sees it.
std::vector<nlohmann::json> JsonLines(const std::string& text);

}  // namespace dirledger::test

#endif  // DIRLEDGER_TESTS_FAULTS_DIRLEDGER_CLI_H_

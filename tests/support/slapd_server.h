// SlapdServer: a real OpenLDAP slapd for one test, started by
// tests/harness/slapd.sh on 127.0.0.1 in the test's temp dir and stopped by
// its PID when the object goes away. Also runs ldapmodify/ldapsearch against
// it, as an administrator would.
#ifndef DIRLEDGER_TESTS_SUPPORT_SLAPD_SERVER_H_
#define DIRLEDGER_TESTS_SUPPORT_SLAPD_SERVER_H_

#include <string>

namespace dirledger::test {

// The source tree root (set by CMake as DIRLEDGER_SOURCE_DIR).
std::string SourceDir();

// Runs a shell command; returns its exit status, stdout in *out (if given).
int RunCommand(const std::string& cmd, std::string* out = nullptr);

struct SlapdOptions {
  int people = 0;            // generated inetOrgPerson entries, slapadd'ed
  bool tls = false;          // test CA; ldaps:// on port + 1, StartTLS
  int sessionlog = 100000;   // syncprov-sessionlog size; 0 = none
  bool reload_hint = false;  // syncprov-reloadhint TRUE
};

class SlapdServer {
 public:
  // REQUIRES: `dir` is private to this server. `port` on 127.0.0.1 is free
  // (and port + 1 with tls).
  SlapdServer(std::string dir, int port, int people = 0);
  SlapdServer(std::string dir, int port, const SlapdOptions& options);
  ~SlapdServer();
  SlapdServer(const SlapdServer&) = delete;
  SlapdServer& operator=(const SlapdServer&) = delete;

  void Start();  // (again, after Stop: same data; the session log is empty)
  void Stop();
  // SIGSTOP / SIGCONT by PID: the server accepts TCP connections but never
  // answers, as a hung server does.
  void Pause();
  void Resume();
  int pid() const;

  const std::string& url() const { return url_; }
  std::string ldaps_url() const;
  std::string ca_file() const { return dir_ + "/tls/ca.pem"; }
  const std::string& dir() const { return dir_; }
  int port() const { return port_; }
  SlapdOptions& options() { return options_; }  // takes effect on Start()
  static constexpr const char* kBase = "dc=example,dc=com";
  static constexpr const char* kAdminDn = "cn=admin,dc=example,dc=com";
  std::string password_file() const { return dir_ + "/admin.pw"; }

  // ldapmodify -f <ldif>; returns the exit status (0 ok).
  int Modify(const std::string& ldif) const;
  // ldapsearch -LLL output for `filter` under the base.
  std::string Search(const std::string& filter,
                     const std::string& attrs = "") const;
  // The entryUUID of `dn`, or "" when there is no such entry.
  std::string EntryUuid(const std::string& dn) const;

 private:
  std::string dir_;
  int port_;
  SlapdOptions options_;
  std::string url_;
  bool running_ = false;
  bool paused_ = false;
};

}  // namespace dirledger::test

#endif  // DIRLEDGER_TESTS_SUPPORT_SLAPD_SERVER_H_

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

class SlapdServer {
 public:
  // REQUIRES: `dir` is private to this server. `port` on 127.0.0.1 is free.
  // `people` > 0 slapadds that many generated inetOrgPerson entries.
  SlapdServer(std::string dir, int port, int people = 0);
  ~SlapdServer();
  SlapdServer(const SlapdServer&) = delete;
  SlapdServer& operator=(const SlapdServer&) = delete;

  void Start();  // (again, after Stop: same data)
  void Stop();

  const std::string& url() const { return url_; }
  const std::string& dir() const { return dir_; }
  int port() const { return port_; }
  static constexpr const char* kBase = "dc=example,dc=com";
  static constexpr const char* kAdminDn = "cn=admin,dc=example,dc=com";
  std::string password_file() const { return dir_ + "/admin.pw"; }

  // ldapmodify -f <ldif>; returns the exit status (0 ok).
  int Modify(const std::string& ldif) const;
  // ldapsearch -LLL output for `filter` under the base.
  std::string Search(const std::string& filter,
                     const std::string& attrs = "") const;

 private:
  std::string dir_;
  int port_;
  int people_;
  std::string url_;
  bool running_ = false;
};

}  // namespace dirledger::test

#endif  // DIRLEDGER_TESTS_SUPPORT_SLAPD_SERVER_H_

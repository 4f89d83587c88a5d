// SambaDc: a real Samba Active Directory domain controller for one test
// binary, started by tests/harness/samba.sh in its own directory on one
// loopback address (other than 127.0.0.1; Samba's LDAP port 389 cannot move)
// and stopped by its PID when the object goes away. Provisioning takes
// seconds, so tests share one DC per binary (a function-local static). The
// directory is removed afterwards unless DIRLEDGER_KEEP_TEMP is set. Also
// runs ldapadd / ldapmodify / ldapsearch against it, as an administrator
// would.
#ifndef DIRLEDGER_TESTS_SUPPORT_SAMBA_DC_H_
#define DIRLEDGER_TESTS_SUPPORT_SAMBA_DC_H_

#include <string>

namespace dirledger::test {

class SambaDc {
 public:
  // Provisions `realm` into `dir` (stopping and wiping a DC a crashed run
  // left there) and starts it on `addr`. Throws when it does not come up.
  SambaDc(std::string dir, std::string addr,
          std::string realm = "EXAMPLE.TEST");
  ~SambaDc();
  SambaDc(const SambaDc&) = delete;
  SambaDc& operator=(const SambaDc&) = delete;

  void Start();  // again after Stop: same data
  void Stop();

  const std::string& dir() const { return dir_; }
  const std::string& addr() const { return addr_; }
  const std::string& realm() const { return realm_; }
  std::string url() const { return "ldap://" + addr_; }
  std::string ldaps_url() const { return "ldaps://" + addr_ + ":636"; }
  std::string base() const { return base_; }  // DC=example,DC=test
  std::string admin() const { return "Administrator@" + realm_; }
  std::string admin_dn() const { return "CN=Administrator,CN=Users," + base_; }
  std::string password_file() const { return dir_ + "/admin.pw"; }
  std::string ca_file() const { return dir_ + "/tls/ca.pem"; }

  // ldapadd / ldapmodify of `ldif` as the administrator (or as `bind_dn`
  // with `password_file`); returns the exit status, output in *out.
  int Add(const std::string& ldif, std::string* out = nullptr) const;
  int Modify(const std::string& ldif, std::string* out = nullptr) const;
  // ldapsearch -LLL (no line wrapping) under `base` ("" = the domain).
  std::string Search(const std::string& filter, const std::string& attrs = "",
                     const std::string& base = "",
                     const std::string& extra = "") const;
  // The one attribute value of the entry at `dn` ("" when none). Base64
  // values are returned as printed (name:: value).
  std::string Value(const std::string& dn, const std::string& attr) const;

  // ldapadd of `n` generated users PREFIX000001... under `ou`.
  void AddUsers(int n, const std::string& ou, const std::string& prefix,
                int from = 1) const;

 private:
  int Run(const std::string& tool, const std::string& ldif,
          std::string* out) const;

  std::string dir_;
  std::string addr_;
  std::string realm_;
  std::string base_;
  bool running_ = false;
};

}  // namespace dirledger::test

#endif  // DIRLEDGER_TESTS_SUPPORT_SAMBA_DC_H_

// LdapConnection: one bound libldap session to the first reachable of a
// connector's URIs (up to 5, tried in order), with the connector's timeout on
// every operation, ldaps:// or StartTLS with certificate verification, and a
// simple bind whose password never leaves this object. Used by the syncrepl
// and DirSync sources and the LDAP writers.
//
// Thread safety: a connection is used by one thread at a time.
#ifndef DIRLEDGER_ENGINE_LDAP_LDAP_CONNECTION_H_
#define DIRLEDGER_ENGINE_LDAP_LDAP_CONNECTION_H_

#include <memory>
#include <string>
#include <vector>

#include "codecs/status.h"
#include "engine/secrets.h"

typedef struct ldap LDAP;

namespace dirledger {

struct LdapConnectOptions {
  std::vector<std::string> uris;
  std::string bind_dn;
  Secret password;
  double timeout_s = 4;  // per operation and for connecting
  bool start_tls = false;
  std::string ca_file;     // "" = system CAs
  bool tls_verify = true;  // false only when explicitly configured
  std::string what;        // "connector \"corp\"", for messages
};

class LdapConnection {
 public:
  ~LdapConnection();
  LdapConnection(const LdapConnection&) = delete;
  LdapConnection& operator=(const LdapConnection&) = delete;

  // Tries each URI in order; the error names every URI and why it failed.
  static Result<std::unique_ptr<LdapConnection>> Connect(
      const LdapConnectOptions& options);

  LDAP* handle() const { return ld_; }
  const std::string& uri() const { return uri_; }
  const LdapConnectOptions& options() const { return options_; }

  // An LDAP result code as a Status: server down / connect errors are
  // Unavailable (retryable), timeouts are Timeout, others name the code and
  // the server's diagnostic message.
  Status Error(int rc, std::string_view what) const;

 private:
  LdapConnection() = default;
  LDAP* ld_ = nullptr;
  std::string uri_;
  LdapConnectOptions options_;
};

// "ldap_result: Can't contact LDAP server (-1)".
Status LdapStatus(int rc, std::string_view what,
                  std::string_view diagnostic = {});

}  // namespace dirledger

#endif  // DIRLEDGER_ENGINE_LDAP_LDAP_CONNECTION_H_

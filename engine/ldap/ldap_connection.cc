#include "engine/ldap/ldap_connection.h"

#include <ldap.h>

#include <cmath>
#include <csignal>
#include <mutex>

namespace dirledger {
namespace {

timeval ToTimeval(double s) {
  timeval tv;
  tv.tv_sec = static_cast<time_t>(std::floor(s));
  tv.tv_usec = static_cast<suseconds_t>((s - std::floor(s)) * 1e6);
  return tv;
}

// libldap writes TLS records with plain write(2): a DC that closed the
// connection (idle timeout, restart) would kill the process with SIGPIPE
// instead of failing the operation. Ignored once, unless the program set its
// own handler.
void IgnoreSigpipe() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction current;
    if (sigaction(SIGPIPE, nullptr, &current) == 0 &&
        current.sa_handler == SIG_DFL)
      std::signal(SIGPIPE, SIG_IGN);
  });
}

std::string Diagnostic(LDAP* ld) {
  char* msg = nullptr;
  if (ld && ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &msg) == 0 &&
      msg) {
    std::string out(msg);
    ldap_memfree(msg);
    return out;
  }
  return {};
}

}  // namespace

Status LdapStatus(int rc, std::string_view what, std::string_view diagnostic) {
  if (rc == LDAP_SUCCESS) return Status::Ok();
  std::string msg = std::string(what) + ": " + ldap_err2string(rc) + " (" +
                    std::to_string(rc) + ")";
  if (!diagnostic.empty()) msg += ": " + std::string(diagnostic);
  switch (rc) {
    case LDAP_SERVER_DOWN:
    case LDAP_CONNECT_ERROR:
    case LDAP_UNAVAILABLE:
    case LDAP_BUSY:
      return Status::Unavailable(std::move(msg));
    case LDAP_TIMEOUT:
    case LDAP_TIMELIMIT_EXCEEDED:
      return Status::Timeout(std::move(msg));
    case LDAP_NO_SUCH_OBJECT:
      return Status::NotFound(std::move(msg));
    case LDAP_ALREADY_EXISTS:
    case LDAP_ASSERTION_FAILED:
    case LDAP_NOT_ALLOWED_ON_NONLEAF:
      return Status::Conflict(std::move(msg));
    case LDAP_INVALID_CREDENTIALS:
    case LDAP_INSUFFICIENT_ACCESS:
    case LDAP_STRONG_AUTH_REQUIRED:
    case LDAP_CONFIDENTIALITY_REQUIRED:
      return Status::InvalidArgument(std::move(msg));
    default:
      return Status(StatusCode::kIOError, std::move(msg));
  }
}

LdapConnection::~LdapConnection() {
  if (ld_) ldap_unbind_ext_s(ld_, nullptr, nullptr);
}

Status LdapConnection::Error(int rc, std::string_view what) const {
  return LdapStatus(rc, std::string(what) + " on " + uri_, Diagnostic(ld_));
}

Result<std::unique_ptr<LdapConnection>> LdapConnection::Connect(
    const LdapConnectOptions& options) {
  IgnoreSigpipe();
  if (options.uris.empty())
    return Status::InvalidArgument(options.what + ": no LDAP URIs configured");
  std::string failures;
  bool all_unavailable = true;
  for (const std::string& uri : options.uris) {
    std::unique_ptr<LdapConnection> c(new LdapConnection());
    c->uri_ = uri;
    c->options_ = options;
    auto fail = [&](Status s) {
      if (s.code() != StatusCode::kUnavailable &&
          s.code() != StatusCode::kTimeout)
        all_unavailable = false;
      if (!failures.empty()) failures += "; ";
      failures += s.message();
    };
    int rc = ldap_initialize(&c->ld_, uri.c_str());
    if (rc != LDAP_SUCCESS) {
      fail(LdapStatus(rc, "connecting to " + uri));
      continue;
    }
    const int version = LDAP_VERSION3;
    ldap_set_option(c->ld_, LDAP_OPT_PROTOCOL_VERSION, &version);
    ldap_set_option(c->ld_, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
    timeval tv = ToTimeval(options.timeout_s);
    ldap_set_option(c->ld_, LDAP_OPT_NETWORK_TIMEOUT, &tv);
    ldap_set_option(c->ld_, LDAP_OPT_TIMEOUT, &tv);
    const int require =
        options.tls_verify ? LDAP_OPT_X_TLS_DEMAND : LDAP_OPT_X_TLS_NEVER;
    ldap_set_option(c->ld_, LDAP_OPT_X_TLS_REQUIRE_CERT, &require);
    if (!options.ca_file.empty())
      ldap_set_option(c->ld_, LDAP_OPT_X_TLS_CACERTFILE,
                      options.ca_file.c_str());
    const int newctx = 0;
    ldap_set_option(c->ld_, LDAP_OPT_X_TLS_NEWCTX, &newctx);
    if (options.start_tls && uri.rfind("ldaps://", 0) != 0) {
      rc = ldap_start_tls_s(c->ld_, nullptr, nullptr);
      if (rc != LDAP_SUCCESS) {
        fail(LdapStatus(rc, "StartTLS with " + uri, Diagnostic(c->ld_)));
        continue;
      }
    }
    berval cred;
    cred.bv_val = const_cast<char*>(options.password.reveal().data());
    cred.bv_len = options.password.reveal().size();
    rc = ldap_sasl_bind_s(
        c->ld_, options.bind_dn.empty() ? nullptr : options.bind_dn.c_str(),
        LDAP_SASL_SIMPLE, &cred, nullptr, nullptr, nullptr);
    if (rc != LDAP_SUCCESS) {
      std::string diagnostic = Diagnostic(c->ld_);
      // libldap reports a failed TLS handshake (an unverifiable server
      // certificate) as "Can't contact LDAP server", with no useful detail.
      if (uri.rfind("ldaps://", 0) == 0 &&
          (rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR))
        diagnostic += std::string(diagnostic.empty() ? "" : "; ") +
                      "over ldaps:// this is also how a server certificate "
                      "that does not verify against ca_file or the system "
                      "CAs shows";
      fail(LdapStatus(rc, "bind to " + uri + " as \"" + options.bind_dn + "\"",
                      diagnostic));
      continue;
    }
    return c;
  }
  Status s(
      all_unavailable ? StatusCode::kUnavailable : StatusCode::kInvalidArgument,
      options.what + ": no LDAP server could be used: " + failures,
      all_unavailable);
  return s;
}

}  // namespace dirledger

#include "engine/ldap/ldap_connection.h"

#include <arpa/inet.h>
#include <ldap.h>
#include <netdb.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <mutex>
#include <utility>

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

std::string Seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", s);
  return buf;
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

// Whether a TCP connection to the host and port of `uri` can be opened
// within `timeout_s`: tells a failed TLS handshake from a server that is not
// there at all.
bool TcpReachable(const std::string& uri, double timeout_s) {
  LDAPURLDesc* url = nullptr;
  if (ldap_url_parse(uri.c_str(), &url) != LDAP_URL_SUCCESS) return false;
  const std::string host = url->lud_host ? url->lud_host : "localhost";
  const int port = url->lud_port
                       ? url->lud_port
                       : (std::string(url->lud_scheme) == "ldaps" ? 636 : 389);
  ldap_free_urldesc(url);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) !=
      0)
    return false;
  bool ok = false;
  for (addrinfo* a = res; a && !ok; a = a->ai_next) {
    const int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK, 0);
    if (fd < 0) continue;
    if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
      ok = true;
    } else if (errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      if (poll(&p, 1, static_cast<int>(timeout_s * 1000)) == 1) {
        int err = 0;
        socklen_t len = sizeof(err);
        ok = getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0;
      }
    }
    close(fd);
  }
  freeaddrinfo(res);
  return ok;
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
  // Each URI that failed and why (the password is never part of a message).
  std::vector<std::pair<std::string, std::string>> failed;
  bool all_unavailable = true;
  for (const std::string& uri : options.uris) {
    std::unique_ptr<LdapConnection> c(new LdapConnection());
    c->uri_ = uri;
    c->options_ = options;
    const bool tls = options.start_tls || uri.rfind("ldaps://", 0) == 0;
    // libldap reports a refused certificate as "Can't contact LDAP server" or
    // "Connect error"; say what it most likely is.
    const auto started = std::chrono::steady_clock::now();
    auto tls_hint = [&](int rc) -> std::string {
      if (!tls || (rc != LDAP_SERVER_DOWN && rc != LDAP_CONNECT_ERROR))
        return {};
      const std::chrono::duration<double> took =
          std::chrono::steady_clock::now() - started;
      if (took.count() >= options.timeout_s * 0.9)
        return "no reply within " + Seconds(options.timeout_s) +
               " s (timeout_s)";
      if (!TcpReachable(uri, options.timeout_s)) return {};
      return "TLS handshake failed: the server certificate is not trusted "
             "by " +
             (options.ca_file.empty() ? std::string("the system CAs")
                                      : "ca_file \"" + options.ca_file + "\"") +
             ", or does not name the host";
    };
    auto fail = [&](Status s) {
      if (s.code() != StatusCode::kUnavailable &&
          s.code() != StatusCode::kTimeout)
        all_unavailable = false;
      if (!failures.empty()) failures += "; ";
      failures += s.message();
      failed.emplace_back(uri, s.message());
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
    // Notice a peer that vanished without closing the connection (a long
    // syncrepl persist phase is otherwise silent).
    const int idle = 60, probes = 3, interval = 10;
    ldap_set_option(c->ld_, LDAP_OPT_X_KEEPALIVE_IDLE, &idle);
    ldap_set_option(c->ld_, LDAP_OPT_X_KEEPALIVE_PROBES, &probes);
    ldap_set_option(c->ld_, LDAP_OPT_X_KEEPALIVE_INTERVAL, &interval);
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
        std::string hint = tls_hint(rc);
        fail(LdapStatus(rc, "StartTLS with " + uri,
                        hint.empty() ? Diagnostic(c->ld_) : hint));
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
      std::string hint = tls_hint(rc);
      if (hint.empty() && rc == LDAP_TIMEOUT)
        hint =
            "no reply within " + Seconds(options.timeout_s) + " s (timeout_s)";
      fail(LdapStatus(rc, "bind to " + uri + " as \"" + options.bind_dn + "\"",
                      hint.empty() ? Diagnostic(c->ld_) : hint));
      continue;
    }
    // The URIs before this one are down or refuse us: say so, though the
    // connection works, so an operator learns of it before the last fails.
    for (const auto& [dead, why] : failed)
      spdlog::warn("{}: {} failed ({}); using {}", options.what, dead, why,
                   uri);
    return c;
  }
  for (const auto& [dead, why] : failed)
    spdlog::debug("{}: {} failed ({})", options.what, dead, why);
  Status s(
      all_unavailable ? StatusCode::kUnavailable : StatusCode::kInvalidArgument,
      options.what + ": no LDAP server could be used: " + failures,
      all_unavailable);
  return s;
}

}  // namespace dirledger

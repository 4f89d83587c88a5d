#include "engine/axigen/cli_transport.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace dirledger {
namespace {

std::string OpenSslError() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown TLS error" : out;
}

}  // namespace

CliTransport::~CliTransport() { Close(); }

void CliTransport::Close() {
  if (ssl_) {
    SSL_free(ssl_);
    ssl_ = nullptr;
  }
  if (ctx_) {
    SSL_CTX_free(ctx_);
    ctx_ = nullptr;
  }
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

Status CliTransport::WaitFor(bool write) {
  pollfd p{fd_, static_cast<short>(write ? POLLOUT : POLLIN), 0};
  while (true) {
    const int r = ::poll(&p, 1, static_cast<int>(timeout_.count()));
    if (r > 0) return Status::Ok();
    if (r == 0)
      return Status::Timeout("Axigen CLI at " + peer_ + ": no answer within " +
                             std::to_string(timeout_.count()) + " ms");
    if (errno != EINTR)
      return Status::Unavailable("Axigen CLI at " + peer_ +
                                 ": poll: " + std::strerror(errno));
  }
}

Result<std::unique_ptr<CliTransport>> CliTransport::Connect(
    const TransportOptions& o) {
  std::unique_ptr<CliTransport> t(new CliTransport());
  t->peer_ = o.host + ":" + std::to_string(o.port);
  t->timeout_ = std::chrono::milliseconds(
      static_cast<long long>(o.timeout_s * 1000 > 1 ? o.timeout_s * 1000 : 1));

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const std::string port = std::to_string(o.port);
  const int gai = ::getaddrinfo(o.host.c_str(), port.c_str(), &hints, &res);
  if (gai != 0)
    return Status::Unavailable("Axigen CLI at " + t->peer_ +
                               ": cannot resolve host: " + gai_strerror(gai));
  std::string last_error = "no address";
  for (addrinfo* a = res; a; a = a->ai_next) {
    int fd =
        ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    int rc = ::connect(fd, a->ai_addr, a->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      t->fd_ = fd;
      Status w = t->WaitFor(true);
      t->fd_ = -1;
      int err = 0;
      socklen_t len = sizeof(err);
      if (w.ok()) {
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        rc = err == 0 ? 0 : -1;
        if (err) last_error = std::strerror(err);
      } else {
        last_error = w.message();
        rc = -1;
      }
    } else if (rc != 0) {
      last_error = std::strerror(errno);
    }
    if (rc == 0) {
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      t->fd_ = fd;
      break;
    }
    ::close(fd);
  }
  ::freeaddrinfo(res);
  if (t->fd_ < 0)
    return Status::Unavailable("Axigen CLI at " + t->peer_ +
                               ": cannot connect: " + last_error);
  if (!o.tls) return t;

  t->ctx_ = SSL_CTX_new(TLS_client_method());
  if (!t->ctx_)
    return Status::Unavailable("Axigen CLI at " + t->peer_ + ": " +
                               OpenSslError());
  SSL_CTX_set_min_proto_version(t->ctx_, TLS1_2_VERSION);
  if (o.tls_verify) {
    SSL_CTX_set_verify(t->ctx_, SSL_VERIFY_PEER, nullptr);
    const int loaded = o.ca_file.empty()
                           ? SSL_CTX_set_default_verify_paths(t->ctx_)
                           : SSL_CTX_load_verify_locations(
                                 t->ctx_, o.ca_file.c_str(), nullptr);
    if (loaded != 1)
      return Status::InvalidArgument(
          "Axigen CLI at " + t->peer_ + ": cannot load CA certificates" +
          (o.ca_file.empty() ? std::string() : " from " + o.ca_file) + ": " +
          OpenSslError());
  } else {
    SSL_CTX_set_verify(t->ctx_, SSL_VERIFY_NONE, nullptr);
  }
  t->ssl_ = SSL_new(t->ctx_);
  SSL_set_fd(t->ssl_, t->fd_);
  SSL_set_tlsext_host_name(t->ssl_, o.host.c_str());
  if (o.tls_verify) {
    X509_VERIFY_PARAM* param = SSL_get0_param(t->ssl_);
    X509_VERIFY_PARAM_set_hostflags(param, 0);
    // An IP address is checked against the certificate's IP SANs, a name
    // against its DNS names.
    if (X509_VERIFY_PARAM_set1_ip_asc(param, o.host.c_str()) != 1)
      SSL_set1_host(t->ssl_, o.host.c_str());
  }
  while (true) {
    ERR_clear_error();
    const int r = SSL_connect(t->ssl_);
    if (r == 1) break;
    const int e = SSL_get_error(t->ssl_, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
      DIRLEDGER_RETURN_IF_ERROR(t->WaitFor(e == SSL_ERROR_WANT_WRITE));
      continue;
    }
    const long verify = SSL_get_verify_result(t->ssl_);
    if (verify != X509_V_OK)
      return Status::InvalidArgument(
          "Axigen CLI at " + t->peer_ +
          ": the server's TLS certificate is not trusted: " +
          X509_verify_cert_error_string(verify) +
          " (set [mail] ca_file to the CA that signed it)");
    return Status::Unavailable("Axigen CLI at " + t->peer_ +
                               ": TLS handshake failed: " + OpenSslError());
  }
  return t;
}

Status CliTransport::Write(std::string_view data) {
  std::size_t done = 0;
  while (done < data.size()) {
    if (ssl_) {
      ERR_clear_error();
      const int r = SSL_write(ssl_, data.data() + done,
                              static_cast<int>(data.size() - done));
      if (r > 0) {
        done += static_cast<std::size_t>(r);
        continue;
      }
      const int e = SSL_get_error(ssl_, r);
      if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        DIRLEDGER_RETURN_IF_ERROR(WaitFor(e == SSL_ERROR_WANT_WRITE));
        continue;
      }
      return Status::Unavailable("Axigen CLI at " + peer_ +
                                 ": the connection was lost while sending");
    }
    const ssize_t r =
        ::send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (r > 0) {
      done += static_cast<std::size_t>(r);
      continue;
    }
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      DIRLEDGER_RETURN_IF_ERROR(WaitFor(true));
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    return Status::Unavailable(
        "Axigen CLI at " + peer_ +
        ": the connection was lost while sending: " + std::strerror(errno));
  }
  return Status::Ok();
}

Status CliTransport::ReadSome(std::string* out) {
  char buf[16384];
  while (true) {
    if (ssl_) {
      ERR_clear_error();
      const int r = SSL_read(ssl_, buf, sizeof(buf));
      if (r > 0) {
        out->append(buf, static_cast<std::size_t>(r));
        return Status::Ok();
      }
      const int e = SSL_get_error(ssl_, r);
      if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        DIRLEDGER_RETURN_IF_ERROR(WaitFor(e == SSL_ERROR_WANT_WRITE));
        continue;
      }
      return Status::Unavailable("Axigen CLI at " + peer_ +
                                 ": the server closed the connection");
    }
    const ssize_t r = ::recv(fd_, buf, sizeof(buf), 0);
    if (r > 0) {
      out->append(buf, static_cast<std::size_t>(r));
      return Status::Ok();
    }
    if (r == 0)
      return Status::Unavailable("Axigen CLI at " + peer_ +
                                 ": the server closed the connection");
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      DIRLEDGER_RETURN_IF_ERROR(WaitFor(false));
      continue;
    }
    if (errno == EINTR) continue;
    return Status::Unavailable("Axigen CLI at " + peer_ + ": " +
                               std::strerror(errno));
  }
}

}  // namespace dirledger

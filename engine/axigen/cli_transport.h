// CliTransport: one TCP connection to the Axigen CLI listener, plain or TLS
// (OpenSSL), with a deadline on every read and write. TLS verifies the
// server's certificate chain (against `ca_file`, or the system's CAs) and its
// name (`host`) unless verification is turned off explicitly.
//
// Thread safety: one thread at a time.
#ifndef DIRLEDGER_ENGINE_AXIGEN_CLI_TRANSPORT_H_
#define DIRLEDGER_ENGINE_AXIGEN_CLI_TRANSPORT_H_

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "codecs/status.h"

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace dirledger {

struct TransportOptions {
  std::string host = "127.0.0.1";
  int port = 7000;
  double timeout_s = 10;  // connect, and each read or write
  bool tls = false;
  std::string ca_file;  // "" = the system's default CAs
  bool tls_verify = true;
};

class CliTransport {
 public:
  ~CliTransport();
  CliTransport(const CliTransport&) = delete;
  CliTransport& operator=(const CliTransport&) = delete;

  // Connects (and completes the TLS handshake). Unavailable when the peer
  // cannot be reached; InvalidArgument for a failed certificate check.
  static Result<std::unique_ptr<CliTransport>> Connect(
      const TransportOptions& options);

  // Sends all of `data`.
  Status Write(std::string_view data);
  // Appends what arrives (at least one byte) to `*out`. Unavailable when
  // the peer closed the connection; Timeout after timeout_s of silence.
  Status ReadSome(std::string* out);

  void Close();
  const std::string& peer() const { return peer_; }

 private:
  CliTransport() = default;
  Status WaitFor(bool write);

  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  std::string peer_;  // "host:port", for messages
  std::chrono::milliseconds timeout_{10000};
};

}  // namespace dirledger

#endif  // DIRLEDGER_ENGINE_AXIGEN_CLI_TRANSPORT_H_

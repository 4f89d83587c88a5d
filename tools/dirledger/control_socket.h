// The service's control socket: a Unix stream socket in the data dir
// (DATA/control.sock, mode 0600) through which commands that write
// (`approve`, `reject`, `dismiss`, `rollback`, `mail add|set|remove`,
// `backup`) ask a running `dirledger run` to carry them out with its open
// log (docs/operations.md). No TCP: only the service's user and root can
// open the socket; each request's peer is read with SO_PEERCRED.
//
// ControlServer (the service) accepts connections on a thread of its own
// and reads each request on a thread per connection, with a deadline and
// the size limit of control_wire.h: a malformed, oversized or slow request
// gets an error answer (or its connection closed) and never stops the
// service. The handler decides what is done and may send notes before the
// reply. ConnectControl / ExchangeControl are the asking command's side.
//
// Thread safety: a ControlServer's handler is called from several threads
// at once; the destructor stops accepting, waits for every connection
// thread, and removes the socket file.
#ifndef DIRLEDGER_TOOLS_DIRLEDGER_CONTROL_SOCKET_H_
#define DIRLEDGER_TOOLS_DIRLEDGER_CONTROL_SOCKET_H_

#include <sys/types.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "codecs/mutex.h"
#include "codecs/status.h"
#include "tools/dirledger/control_wire.h"

namespace dirledger::cli {

// The control socket of a data dir.
std::string ControlSocketPath(const std::string& data_dir);

// Who sent a request (SO_PEERCRED).
struct PeerCredentials {
  uid_t uid = 0;
  gid_t gid = 0;
  pid_t pid = 0;
};

class ControlServer {
 public:
  // Sends one note line to the asking command (never after the reply).
  using NoteFn = std::function<void(const std::string&)>;
  using Handler = std::function<ControlReply(
      const ControlRequest&, const PeerCredentials&, const NoteFn&)>;

  // Creates the socket at `path` (mode 0600) and starts accepting. A socket
  // file left by a service that was killed (nothing answers on it) is
  // removed first; one that answers means another service uses it
  // (Unavailable).
  static Result<std::unique_ptr<ControlServer>> Start(const std::string& path,
                                                      Handler handler);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  const std::string& path() const { return path_; }

 private:
  ControlServer(std::string path, int listen_fd, int wake_fd[2],
                Handler handler);
  void AcceptLoop();
  void Serve(int fd);

  const std::string path_;
  const int listen_fd_;
  const int wake_read_;  // a byte here ends AcceptLoop
  const int wake_write_;
  const Handler handler_;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  Mutex mu_;
  struct Connection {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;  // Serve returned
  };
  std::vector<Connection> connections_ GUARDED_BY(mu_);
  int active_ GUARDED_BY(mu_) = 0;
};

// Connects to the control socket at `path`. Returns the descriptor, or -1
// when no service answers there (no socket, or one a killed service left);
// an error when one may answer but cannot be used (permission denied: the
// socket is the service user's).
Result<int> ConnectControl(const std::string& path);

// Sends `request` on `fd` (from ConnectControl, closed here) and reads the
// service's reply; each note is passed to `on_note` as it arrives.
Result<ControlReply> ExchangeControl(
    int fd, const ControlRequest& request,
    const std::function<void(const std::string&)>& on_note);

}  // namespace dirledger::cli

#endif  // DIRLEDGER_TOOLS_DIRLEDGER_CONTROL_SOCKET_H_

#include "tools/dirledger/control_socket.h"

#include <fcntl.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace dirledger::cli {
namespace {

// A request must arrive whole within this time of the connection.
constexpr auto kReadDeadline = std::chrono::seconds(10);
// A reply that cannot be written for this long is given up (the asking
// command stopped reading).
constexpr int kWriteTimeoutS = 30;
// Connections served at once; more are answered "busy".
constexpr int kMaxConnections = 8;

std::string Errno(int e) { return std::strerror(e); }

bool FillAddress(const std::string& path, sockaddr_un* addr) {
  std::memset(addr, 0, sizeof *addr);
  addr->sun_family = AF_UNIX;
  if (path.size() >= sizeof addr->sun_path) return false;
  std::memcpy(addr->sun_path, path.data(), path.size());
  return true;
}

// Writes all of `data`; false when the peer is gone or stopped reading.
bool WriteAll(int fd, const std::string& data) {
  const char* p = data.data();
  std::size_t n = data.size();
  while (n > 0) {
    const ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

ControlReply ErrorReply(int exit, const std::string& message) {
  ControlReply r;
  r.exit = exit;
  r.err = "dirledger: " + message + "\n";
  return r;
}

}  // namespace

std::string ControlSocketPath(const std::string& data_dir) {
  return data_dir + "/control.sock";
}

Result<std::unique_ptr<ControlServer>> ControlServer::Start(
    const std::string& path, Handler handler) {
  sockaddr_un addr;
  if (!FillAddress(path, &addr))
    return Status::InvalidArgument("the control socket path " + path + " is " +
                                   std::to_string(path.size()) +
                                   " bytes long, more than a Unix socket "
                                   "takes (" +
                                   std::to_string(sizeof addr.sun_path - 1) +
                                   ")");
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode))
      return Status::InvalidArgument(path +
                                     " exists and is not a socket; remove it");
    auto fd = ConnectControl(path);
    if (!fd.ok()) return fd.status();
    if (*fd >= 0) {
      ::close(*fd);
      return Status::Unavailable("another dirledger service answers on " +
                                 path);
    }
    // Left by a service that was killed: nothing answers on it.
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
      return Status::IOError("cannot remove the stale control socket " + path +
                             ": " + Errno(errno));
    spdlog::info("removed the stale control socket {}", path);
  }
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::IOError("socket: " + Errno(errno));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const int e = errno;
    ::close(fd);
    return Status::IOError("cannot create the control socket " + path + ": " +
                           Errno(e));
  }
  // bind made it under the umask; the mode is set before anyone is let in.
  if (::chmod(path.c_str(), 0600) != 0 || ::listen(fd, 16) != 0) {
    const int e = errno;
    ::close(fd);
    ::unlink(path.c_str());
    return Status::IOError("cannot set up the control socket " + path + ": " +
                           Errno(e));
  }
  int wake[2];
  if (::pipe2(wake, O_CLOEXEC) != 0) {
    const int e = errno;
    ::close(fd);
    ::unlink(path.c_str());
    return Status::IOError("pipe: " + Errno(e));
  }
  return std::unique_ptr<ControlServer>(
      new ControlServer(path, fd, wake, std::move(handler)));
}

ControlServer::ControlServer(std::string path, int listen_fd, int wake_fd[2],
                             Handler handler)
    : path_(std::move(path)),
      listen_fd_(listen_fd),
      wake_read_(wake_fd[0]),
      wake_write_(wake_fd[1]),
      handler_(std::move(handler)) {
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

ControlServer::~ControlServer() {
  stopping_.store(true);
  const char byte = 0;
  const ssize_t n = ::write(wake_write_, &byte, 1);
  (void)n;  // the acceptor also sees stopping_ within its poll period
  acceptor_.join();
  std::vector<Connection> connections;
  {
    MutexLock l(&mu_);
    connections.swap(connections_);
  }
  for (Connection& c : connections) c.thread.join();
  ::close(listen_fd_);
  ::close(wake_read_);
  ::close(wake_write_);
  ::unlink(path_.c_str());
}

void ControlServer::AcceptLoop() {
  while (!stopping_.load()) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_read_, POLLIN, 0}};
    const int n = ::poll(fds, 2, 1000);
    if (n < 0 && errno != EINTR) {
      spdlog::error("control socket {}: poll: {}", path_, Errno(errno));
      return;
    }
    if (n <= 0 || !(fds[0].revents & POLLIN)) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    timeval tv{kWriteTimeoutS, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    MutexLock l(&mu_);
    if (active_ >= kMaxConnections) {
      WriteAll(fd, EncodeReply(ErrorReply(
                       1,
                       "the service is busy with other requests on its "
                       "control socket; try again")));
      ::close(fd);
      continue;
    }
    // Threads of connections served already are joined here.
    for (auto it = connections_.begin(); it != connections_.end();) {
      if (it->done->load()) {
        it->thread.join();
        it = connections_.erase(it);
      } else {
        ++it;
      }
    }
    ++active_;
    auto done = std::make_shared<std::atomic<bool>>(false);
    connections_.push_back(Connection{std::thread([this, fd, done] {
                                        Serve(fd);
                                        ::close(fd);
                                        MutexLock l(&mu_);
                                        --active_;
                                        done->store(true);
                                      }),
                                      done});
  }
}

void ControlServer::Serve(int fd) {
  PeerCredentials peer;
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    spdlog::warn("control socket: cannot read the peer's credentials: {}",
                 Errno(errno));
    return;
  }
  peer.uid = cred.uid;
  peer.gid = cred.gid;
  peer.pid = cred.pid;
  // The request: one line, whole within the deadline, within the limit.
  std::string line;
  const auto deadline = std::chrono::steady_clock::now() + kReadDeadline;
  char buf[4096];
  bool complete = false;
  while (!complete) {
    if (stopping_.load()) return;
    if (std::chrono::steady_clock::now() >= deadline) {
      spdlog::warn(
          "control socket: request from uid {} not complete after "
          "{} s; dropped",
          peer.uid, kReadDeadline.count());
      WriteAll(fd, EncodeReply(ErrorReply(
                       2, "the request did not arrive whole within " +
                              std::to_string(kReadDeadline.count()) + " s")));
      return;
    }
    pollfd p{fd, POLLIN, 0};
    const int n = ::poll(&p, 1, 250);
    if (n < 0 && errno != EINTR) return;
    if (n <= 0) continue;
    const ssize_t r = ::recv(fd, buf, sizeof buf, 0);
    if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (r <= 0) {
      if (!line.empty())
        spdlog::warn(
            "control socket: uid {} disconnected in the middle of "
            "its request",
            peer.uid);
      return;
    }
    const char* end = static_cast<const char*>(
        std::memchr(buf, '\n', static_cast<std::size_t>(r)));
    const std::size_t take = end ? static_cast<std::size_t>(end - buf) + 1
                                 : static_cast<std::size_t>(r);
    line.append(buf, take);
    complete = end != nullptr;
    if (line.size() > kMaxRequestBytes) {
      spdlog::warn(
          "control socket: request from uid {} longer than {} "
          "bytes; refused",
          peer.uid, kMaxRequestBytes);
      WriteAll(fd, EncodeReply(ErrorReply(
                       2,
                       "the request is longer than the control socket "
                       "takes (" +
                           std::to_string(kMaxRequestBytes) + " bytes)")));
      return;
    }
  }
  auto request = DecodeRequest(line);
  if (!request.ok()) {
    spdlog::warn("control socket: malformed request from uid {}: {}", peer.uid,
                 request.status().message());
    WriteAll(fd, EncodeReply(
                     ErrorReply(2, "malformed request on the control socket: " +
                                       request.status().message())));
    return;
  }
  bool replied = false;
  const NoteFn note = [&](const std::string& text) {
    if (!replied) WriteAll(fd, EncodeNote(text));
  };
  ControlReply reply;
  try {
    reply = handler_(*request, peer, note);
  } catch (const std::exception& e) {
    spdlog::error("control socket: request from uid {} failed: {}", peer.uid,
                  e.what());
    reply = ErrorReply(1, std::string("the service failed to carry out the "
                                      "request: ") +
                              e.what());
  }
  replied = true;
  if (!WriteAll(fd, EncodeReply(reply)))
    spdlog::warn("control socket: uid {} left before its answer (exit {})",
                 peer.uid, reply.exit);
}

Result<int> ConnectControl(const std::string& path) {
  sockaddr_un addr;
  if (!FillAddress(path, &addr)) return -1;  // no service can listen there
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::IOError("socket: " + Errno(errno));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0)
    return fd;
  const int e = errno;
  ::close(fd);
  if (e == ENOENT || e == ECONNREFUSED || e == ENOTDIR) return -1;
  if (e == EACCES || e == EPERM)
    return Status::IOError(
        "cannot use the service's control socket " + path + ": " + Errno(e) +
        " (it is for the user the service runs as, and root)");
  return Status::IOError("cannot connect to the service's control socket " +
                         path + ": " + Errno(e));
}

Result<ControlReply> ExchangeControl(
    int fd, const ControlRequest& request,
    const std::function<void(const std::string&)>& on_note) {
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  auto line = EncodeRequest(request);
  if (!line.ok()) return line.status();
  if (!WriteAll(fd, *line))
    return Status::IOError(
        "the service closed its control socket before taking the request: " +
        Errno(errno));
  std::string pending;
  char buf[65536];
  for (;;) {
    std::size_t nl;
    while ((nl = pending.find('\n')) != std::string::npos) {
      ControlReply reply;
      std::string note;
      Status s = DecodeServiceLine(std::string_view(pending).substr(0, nl + 1),
                                   &reply, &note);
      if (!s.ok()) return s;
      pending.erase(0, nl + 1);
      if (note.empty()) return reply;
      on_note(note);
    }
    if (pending.size() > kMaxReplyBytes)
      return Status::IOError("the service's answer is longer than " +
                             std::to_string(kMaxReplyBytes) + " bytes");
    const ssize_t r = ::recv(fd, buf, sizeof buf, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0)
      return Status::IOError("reading the service's answer: " + Errno(errno));
    if (r == 0)
      return Status::IOError(
          "the service closed its control socket before answering (it may "
          "have stopped: see its log, and `dirledger status`)");
    pending.append(buf, static_cast<std::size_t>(r));
  }
}

}  // namespace dirledger::cli

#include "engine/hooks/hook_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

extern char** environ;

namespace dirledger {
namespace {

using Clock = std::chrono::steady_clock;

std::string Errno(int e) { return std::strerror(e); }

// The environment a hook gets: ours, less the variables holding passwords
// and those addressed to dirledger alone (systemd's notify socket).
std::vector<std::string> HookEnvironment(
    const std::vector<std::string>& hidden) {
  std::vector<std::string> out;
  for (char** e = environ; e && *e; ++e) {
    const std::string_view entry(*e);
    const std::string_view name = entry.substr(0, entry.find('='));
    if (name == "NOTIFY_SOCKET" || name == "WATCHDOG_USEC" ||
        name == "WATCHDOG_PID")
      continue;
    if (std::find(hidden.begin(), hidden.end(), name) != hidden.end()) continue;
    out.emplace_back(entry);
  }
  return out;
}

// Reads what `fd` holds now (non-blocking) into `out`, keeping at most
// `limit` bytes. Returns false at end of file or on an error.
bool Drain(int fd, std::string* out, std::size_t limit) {
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) {
      const std::size_t room = limit > out->size() ? limit - out->size() : 0;
      out->append(buf, std::min<std::size_t>(room, static_cast<size_t>(n)));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    return false;
  }
}

// Reaps `pid` if it has ended; fills `run` when it has.
bool Reaped(pid_t pid, HookRun* run) {
  int status = 0;
  pid_t r;
  do {
    r = waitpid(pid, &status, WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r != pid) return false;
  if (WIFEXITED(status)) run->exit_status = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) run->signal = WTERMSIG(status);
  return true;
}

// write(2) without SIGPIPE when the hook has closed its input (EPIPE
// instead): the signal is blocked on this thread for the write, and one it
// raised is taken before it is unblocked. A `verify` does not ignore
// SIGPIPE as the service does.
ssize_t WriteNoSigpipe(int fd, const char* data, std::size_t n) {
  sigset_t pipe, old;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe, &old);
  sigset_t pending;
  sigpending(&pending);
  const bool was_pending = sigismember(&pending, SIGPIPE) == 1;
  const ssize_t w = write(fd, data, n);
  const int saved = errno;
  if (w < 0 && saved == EPIPE && !was_pending) {
    const timespec zero{0, 0};
    while (sigtimedwait(&pipe, nullptr, &zero) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  errno = saved;
  return w;
}

void CloseFd(int* fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

}  // namespace

std::string HookName(const HookConfig& hook, std::size_t index) {
  return "hook " + std::to_string(index + 1) + " (" +
         (hook.command.empty() ? std::string("?") : hook.command[0]) + ")";
}

Status CheckHookPrograms(const std::vector<HookConfig>& hooks) {
  for (std::size_t i = 0; i < hooks.size(); ++i) {
    const std::string& program = hooks[i].command.at(0);
    struct stat st {};
    if (stat(program.c_str(), &st) != 0)
      return Status::InvalidArgument(HookName(hooks[i], i) + ": " +
                                     Errno(errno));
    if (!S_ISREG(st.st_mode) || access(program.c_str(), X_OK) != 0)
      return Status::InvalidArgument(HookName(hooks[i], i) +
                                     ": not an executable file");
  }
  return Status::Ok();
}

HookRun RunHook(const HookConfig& hook, const std::string& input,
                const std::vector<std::string>& hidden_env,
                std::chrono::milliseconds kill_grace) {
  HookRun run;
  if (hook.command.empty()) {
    run.error = "no command";
    return run;
  }
  int in[2] = {-1, -1};
  int out[2] = {-1, -1};
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) {
    run.error = "pipe: " + Errno(errno);
    for (int* fd : {&in[0], &in[1], &out[0], &out[1]}) CloseFd(fd);
    return run;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDERR_FILENO);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Its own process group, so a timeout ends whatever it started too; the
  // signals dirledger ignores or blocks are back to their defaults.
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD})
    sigaddset(&defaults, sig);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP |
                                      POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> argv;
  for (const std::string& a : hook.command)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const std::vector<std::string> env_text = HookEnvironment(hidden_env);
  std::vector<char*> envp;
  for (const std::string& e : env_text)
    envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  pid_t pid = -1;
  const int spawned =
      posix_spawn(&pid, argv[0], &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  CloseFd(&in[0]);
  CloseFd(&out[1]);
  if (spawned != 0) {
    run.error = "cannot start " + hook.command[0] + ": " + Errno(spawned);
    CloseFd(&in[1]);
    CloseFd(&out[0]);
    return run;
  }
  run.pid = pid;
  run.started = true;
  fcntl(in[1], F_SETFL, O_NONBLOCK);
  fcntl(out[0], F_SETFL, O_NONBLOCK);

  const auto deadline =
      Clock::now() + std::chrono::microseconds(static_cast<std::int64_t>(
                         std::llround(hook.timeout_s * 1e6)));
  std::size_t written = 0;
  if (input.empty()) CloseFd(&in[1]);
  bool ended = false;
  while (!(ended = Reaped(pid, &run))) {
    const auto now = Clock::now();
    if (now >= deadline) break;
    pollfd fds[2];
    nfds_t n = 0;
    if (out[0] >= 0) fds[n++] = {out[0], POLLIN, 0};
    if (in[1] >= 0) fds[n++] = {in[1], POLLOUT, 0};
    // Wakes at least every 20 ms to see whether the hook has ended (it may
    // have left a child holding its output open).
    const auto wait = std::min<std::int64_t>(
        20,
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now)
                .count() +
            1);
    if (poll(fds, n, static_cast<int>(wait)) < 0 && errno != EINTR) break;
    for (nfds_t i = 0; i < n; ++i) {
      if (fds[i].fd == out[0] && fds[i].revents != 0) {
        if (!Drain(out[0], &run.output, HookRunner::kMaxOutputBytes))
          CloseFd(&out[0]);
      } else if (fds[i].fd == in[1] && fds[i].revents != 0) {
        const ssize_t w = WriteNoSigpipe(in[1], input.data() + written,
                                         input.size() - written);
        if (w > 0) written += static_cast<std::size_t>(w);
        // A hook that closes its input early (EPIPE) is its own business.
        if ((w < 0 && errno != EAGAIN && errno != EINTR) ||
            written == input.size())
          CloseFd(&in[1]);
      }
    }
  }
  if (!ended) {
    run.timed_out = true;
    kill(-pid, SIGTERM);
    const auto grace_end = Clock::now() + kill_grace;
    while (!(ended = Reaped(pid, &run)) && Clock::now() < grace_end)
      usleep(10000);
    if (!ended) {
      kill(-pid, SIGKILL);
      int status = 0;
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      if (WIFSIGNALED(status)) run.signal = WTERMSIG(status);
    } else {
      // What the group started lives on without its leader: end it too.
      kill(-pid, SIGKILL);
    }
  }
  if (out[0] >= 0) Drain(out[0], &run.output, HookRunner::kMaxOutputBytes);
  CloseFd(&in[1]);
  CloseFd(&out[0]);
  return run;
}

HookRunner::HookRunner(const Config& config)
    : hooks_(config.hooks), hidden_env_([&] {
        std::vector<std::string> hidden;
        for (const ConnectorConfig& c : config.connectors)
          if (!c.bind_password_env.empty())
            hidden.push_back(c.bind_password_env);
        if (!config.mail.password_env.empty())
          hidden.push_back(config.mail.password_env);
        return hidden;
      }()) {}

HookRunner::HookRunner(std::vector<HookConfig> hooks,
                       std::vector<std::string> hidden_env)
    : hooks_(std::move(hooks)), hidden_env_(std::move(hidden_env)) {}

HookRunner::~HookRunner() {
  std::thread thread;
  {
    MutexLock l(&mu_);
    stopping_ = true;
    cv_.SignalAll();
    thread = std::move(thread_);
  }
  if (thread.joinable()) thread.join();
}

bool HookRunner::Wants(const std::string& type) const {
  for (const HookConfig& h : hooks_)
    if (std::find(h.on.begin(), h.on.end(), type) != h.on.end()) return true;
  return false;
}

void HookRunner::Post(HookEvent event) {
  if (!Wants(event.type)) return;
  MutexLock l(&mu_);
  if (stopping_) return;
  if (queue_.size() >= kQueueLimit) {
    ++dropped_;
    spdlog::warn(
        "hooks: {} events wait already; the {} event (seq {}) is dropped, "
        "{} dropped so far",
        queue_.size(), event.type, event.seq, dropped_);
    return;
  }
  queue_.push_back(std::move(event));
  if (!thread_.joinable()) thread_ = std::thread([this] { Loop(); });
  cv_.Signal();
}

bool HookRunner::RunNow(const HookEvent& event) { return RunAll(event); }

std::uint64_t HookRunner::dropped() const {
  MutexLock l(&mu_);
  return dropped_;
}

void HookRunner::Loop() {
  for (;;) {
    HookEvent event;
    {
      MutexLock l(&mu_);
      while (queue_.empty() && !stopping_) cv_.Wait();
      if (stopping_) {
        if (!queue_.empty())
          spdlog::warn("hooks: stopping; {} events not told to the hooks",
                       queue_.size());
        return;
      }
      event = std::move(queue_.front());
      queue_.pop_front();
    }
    RunAll(event);
  }
}

bool HookRunner::RunAll(const HookEvent& event) {
  const std::string input = HookEventJson(event).dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
  const std::string what =
      event.type + (event.record.empty() ? "" : " " + event.record);
  bool all_ok = true;
  for (std::size_t i = 0; i < hooks_.size(); ++i) {
    const HookConfig& hook = hooks_[i];
    if (std::find(hook.on.begin(), hook.on.end(), event.type) == hook.on.end())
      continue;
    const std::string name = HookName(hook, i);
    const auto start = Clock::now();
    const HookRun run = RunHook(hook, input + "\n", hidden_env_);
    const double secs =
        std::chrono::duration<double>(Clock::now() - start).count();
    std::size_t from = 0;
    while (from < run.output.size()) {
      std::size_t nl = run.output.find('\n', from);
      if (nl == std::string::npos) nl = run.output.size();
      if (nl > from)
        spdlog::info("{}: {}", name, run.output.substr(from, nl - from));
      from = nl + 1;
    }
    if (run.ok()) {
      spdlog::info("{} on {}: done in {:.2f} s", name, what, secs);
      continue;
    }
    all_ok = false;
    if (!run.started)
      spdlog::error("{} on {}: {}", name, what, run.error);
    else if (run.timed_out)
      spdlog::error(
          "{} on {}: still running after {:g} s (timeout_s); "
          "killed (pid {})",
          name, what, hook.timeout_s, run.pid);
    else if (run.signal)
      spdlog::error("{} on {}: ended by signal {} ({})", name, what, run.signal,
                    strsignal(run.signal));
    else
      spdlog::error("{} on {}: exit status {}", name, what, run.exit_status);
  }
  return all_ok;
}

}  // namespace dirledger

// HookRunner: runs the alert hooks of the config ([[hook]]) for the events
// they ask for, without ever holding up the sync.
//
// Each hook is a program started directly (posix_spawn: no shell, no PATH
// search) in a process group of its own, with the event as one JSON object
// on its standard input and only the descriptors 0, 1 and 2 open (every
// other descriptor of dirledger is close-on-exec). What it prints on
// standard output and error is logged (at most kMaxOutputBytes); a hook
// that runs past its timeout_s is sent SIGTERM, and SIGKILL one second
// later, both to its whole process group, and reaped. A hook that fails
// (exit status not 0, killed, or not started) is logged, naming the hook
// and why.
//
// Post() queues the event for the runner's own thread and returns at once;
// the queue holds kQueueLimit events, and an event that finds it full is
// dropped and counted in the log. RunNow() runs the hooks on the caller's
// thread (`dirledger verify`, which has no service).
//
// Thread safety: Post from any thread; RunNow from one thread at a time.
#ifndef DIRLEDGER_ENGINE_HOOKS_HOOK_RUNNER_H_
#define DIRLEDGER_ENGINE_HOOKS_HOOK_RUNNER_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <thread>
#include <vector>

#include "codecs/config.h"
#include "codecs/mutex.h"
#include "engine/hooks/hook_event.h"

namespace dirledger {

// How one run of a hook ended.
struct HookRun {
  pid_t pid = -1;  // -1: not started
  bool started = false;
  bool timed_out = false;  // killed after its timeout
  int exit_status = -1;    // when it exited
  int signal = 0;          // when a signal ended it
  std::string output;      // stdout and stderr, at most kMaxOutputBytes
  std::string error;       // why it did not start or could not be fed
  bool ok() const { return started && exit_status == 0 && !timed_out; }
};

// "hook 2 (/usr/local/bin/notify-ops)": how the log names a hook.
std::string HookName(const HookConfig& hook, std::size_t index);

// InvalidArgument naming the first hook whose program is not an executable
// file (checked when the service starts: the config itself only says what
// the path is).
Status CheckHookPrograms(const std::vector<HookConfig>& hooks);

// Runs `hook` with `input` on its standard input, within hook.timeout_s
// (then SIGTERM, and SIGKILL after `kill_grace`), and reaps it.
// `hidden_env`: variables taken out of the environment it gets (those
// holding a password: bind_password_env, password_env).
HookRun RunHook(
    const HookConfig& hook, const std::string& input,
    const std::vector<std::string>& hidden_env,
    std::chrono::milliseconds kill_grace = std::chrono::milliseconds(1000));

class HookRunner {
 public:
  static constexpr std::size_t kQueueLimit = 64;
  static constexpr std::size_t kMaxOutputBytes = 4096;

  // The hooks of `config` and the variables to hide from them (the
  // config's bind_password_env and password_env). Starts no thread until
  // an event is posted.
  explicit HookRunner(const Config& config);
  HookRunner(std::vector<HookConfig> hooks,
             std::vector<std::string> hidden_env);
  // Waits for the hook running now (within its timeout); events still
  // queued are dropped, and counted in the log.
  ~HookRunner();
  HookRunner(const HookRunner&) = delete;
  HookRunner& operator=(const HookRunner&) = delete;

  // Whether any hook is run on events of `type`.
  bool Wants(const std::string& type) const;

  // Queues `event` for every hook that asks for its type; never blocks.
  void Post(HookEvent event);

  // Runs every hook that asks for `event`'s type now, one after another,
  // each within its timeout. Returns whether all of them succeeded.
  bool RunNow(const HookEvent& event);

  // Events dropped so far because the queue was full.
  std::uint64_t dropped() const;

 private:
  void Loop();
  bool RunAll(const HookEvent& event);

  const std::vector<HookConfig> hooks_;
  const std::vector<std::string> hidden_env_;
  mutable Mutex mu_;
  CondVar cv_{&mu_};
  std::deque<HookEvent> queue_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  std::uint64_t dropped_ GUARDED_BY(mu_) = 0;
  std::thread thread_ GUARDED_BY(mu_);
};

}  // namespace dirledger

#endif  // DIRLEDGER_ENGINE_HOOKS_HOOK_RUNNER_H_

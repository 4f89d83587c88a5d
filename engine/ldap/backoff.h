// Backoff: how long an LDAP source waits before reconnecting to a server
// that is unavailable: doubling from an initial delay up to a ceiling, reset
// once a session works again. SleepUnless waits in short steps so a stop
// request is honoured promptly.
//
// Thread safety: Backoff is a plain value for one thread.
#ifndef DIRLEDGER_ENGINE_LDAP_BACKOFF_H_
#define DIRLEDGER_ENGINE_LDAP_BACKOFF_H_

#include <functional>

namespace dirledger {

class Backoff {
 public:
  Backoff(double initial_s, double max_s)
      : initial_s_(initial_s), max_s_(max_s), next_s_(initial_s) {}
  // The delay to wait now; the one after is twice as long, up to max_s.
  double Next();
  void Reset() { next_s_ = initial_s_; }

 private:
  double initial_s_;
  double max_s_;
  double next_s_;
};

// Sleeps `seconds`, checking `stop` every 50 ms; false when it stopped early.
bool SleepUnless(double seconds, const std::function<bool()>& stop);

}  // namespace dirledger

#endif  // DIRLEDGER_ENGINE_LDAP_BACKOFF_H_

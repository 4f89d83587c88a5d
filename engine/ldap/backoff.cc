#include "engine/ldap/backoff.h"

#include <algorithm>
#include <chrono>
#include <thread>

namespace dirledger {

double Backoff::Next() {
  const double now = next_s_;
  next_s_ = std::min(max_s_, next_s_ * 2);
  return now;
}

bool SleepUnless(double seconds, const std::function<bool()>& stop) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::microseconds(
                                           static_cast<long>(seconds * 1e6));
  while (Clock::now() < deadline) {
    if (stop && stop()) return false;
    const auto left = deadline - Clock::now();
    std::this_thread::sleep_for(
        std::min<Clock::duration>(left, std::chrono::milliseconds(50)));
  }
  return !(stop && stop());
}

}  // namespace dirledger

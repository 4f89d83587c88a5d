// Mutex, MutexLock and CondVar: std::mutex and std::condition_variable
// declared as a capability for clang's thread-safety analysis
// (codecs/thread_annotations.h), as LevelDB's port::Mutex is. A class whose
// fields are guarded by a mutex uses these, so `-Wthread-safety` checks that
// every access holds it.
//
// A condition is waited for in a loop around CondVar::Wait, with the mutex
// held: `while (!ready_) cv_.Wait();` (a predicate lambda would be checked
// as a function of its own, without the mutex).
#ifndef DIRLEDGER_CODECS_MUTEX_H_
#define DIRLEDGER_CODECS_MUTEX_H_

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "codecs/thread_annotations.h"

namespace dirledger {

class CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ACQUIRE() { mu_.lock(); }
  void Unlock() RELEASE() { mu_.unlock(); }
  // Tells the analysis the mutex is held where it cannot see it taken.
  void AssertHeld() ASSERT_CAPABILITY(this) {}

 private:
  friend class CondVar;
  std::mutex mu_;
};

// Holds a Mutex for its scope.
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ACQUIRE(mu) : mu_(mu) { mu_->Lock(); }
  ~MutexLock() RELEASE() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

// A condition variable bound to one Mutex, which every Wait and WaitFor
// requires held (released while waiting, held again on return). Not
// annotated, as LevelDB's port::CondVar is not: clang cannot tell that the
// mutex named here is the one the caller holds.
class CondVar {
 public:
  explicit CondVar(Mutex* mu) : mu_(mu) {}
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  void Wait() {
    std::unique_lock<std::mutex> lock(mu_->mu_, std::adopt_lock);
    cv_.wait(lock);
    lock.release();
  }
  // Returns false when `timeout` passed without a notification.
  template <typename Rep, typename Period>
  bool WaitFor(std::chrono::duration<Rep, Period> timeout) {
    std::unique_lock<std::mutex> lock(mu_->mu_, std::adopt_lock);
    const bool notified =
        cv_.wait_for(lock, timeout) == std::cv_status::no_timeout;
    lock.release();
    return notified;
  }
  void Signal() { cv_.notify_one(); }
  void SignalAll() { cv_.notify_all(); }

 private:
  Mutex* const mu_;
  std::condition_variable cv_;
};

}  // namespace dirledger

#endif  // DIRLEDGER_CODECS_MUTEX_H_

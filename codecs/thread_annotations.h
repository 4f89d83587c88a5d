// Clang's thread-safety annotations: a field says which mutex guards it
// (GUARDED_BY), a method which mutex it needs held (REQUIRES) or takes
// (ACQUIRE / RELEASE), and `clang -Wthread-safety` checks every access
// against them at compile time. Other compilers see nothing (the macros are
// empty). The mutex they name is codecs/mutex.h's Mutex: libstdc++'s
// std::mutex is not declared a capability, so clang could not check it.
#ifndef DIRLEDGER_CODECS_THREAD_ANNOTATIONS_H_
#define DIRLEDGER_CODECS_THREAD_ANNOTATIONS_H_

#if defined(__clang__)
#define DIRLEDGER_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define DIRLEDGER_THREAD_ANNOTATION(x)
#endif

#define CAPABILITY(x) DIRLEDGER_THREAD_ANNOTATION(capability(x))
#define SCOPED_CAPABILITY DIRLEDGER_THREAD_ANNOTATION(scoped_lockable)
#define GUARDED_BY(x) DIRLEDGER_THREAD_ANNOTATION(guarded_by(x))
#define PT_GUARDED_BY(x) DIRLEDGER_THREAD_ANNOTATION(pt_guarded_by(x))
#define ACQUIRED_AFTER(...) \
  DIRLEDGER_THREAD_ANNOTATION(acquired_after(__VA_ARGS__))
#define ACQUIRED_BEFORE(...) \
  DIRLEDGER_THREAD_ANNOTATION(acquired_before(__VA_ARGS__))
#define REQUIRES(...) \
  DIRLEDGER_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define EXCLUSIVE_LOCKS_REQUIRED(...) REQUIRES(__VA_ARGS__)
#define ACQUIRE(...) \
  DIRLEDGER_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define RELEASE(...) \
  DIRLEDGER_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define EXCLUDES(...) DIRLEDGER_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define LOCKS_EXCLUDED(...) EXCLUDES(__VA_ARGS__)
#define ASSERT_CAPABILITY(x) DIRLEDGER_THREAD_ANNOTATION(assert_capability(x))
#define RETURN_CAPABILITY(x) DIRLEDGER_THREAD_ANNOTATION(lock_returned(x))
#define NO_THREAD_SAFETY_ANALYSIS \
  DIRLEDGER_THREAD_ANNOTATION(no_thread_safety_analysis)

#endif  // DIRLEDGER_CODECS_THREAD_ANNOTATIONS_H_

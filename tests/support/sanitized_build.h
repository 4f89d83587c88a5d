// Whether this test binary is instrumented by AddressSanitizer or
// ThreadSanitizer, and the volume a test loads under it. Tests that load
// thousands of entries to make a behaviour visible at scale (a refresh long
// enough to kill in its middle, errors that must not stop 10,000 others)
// load a fifth of it in a sanitizer build: the same assertions, on the same
// code paths, in a few times less than the 5-10x slower instrumented code
// would take for the full volume. The Release stage runs the full volume.
#ifndef DIRLEDGER_TESTS_SUPPORT_SANITIZED_BUILD_H_
#define DIRLEDGER_TESTS_SUPPORT_SANITIZED_BUILD_H_

namespace dirledger::test {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kSanitizedBuild = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
inline constexpr bool kSanitizedBuild = true;
#else
inline constexpr bool kSanitizedBuild = false;
#endif
#else
inline constexpr bool kSanitizedBuild = false;
#endif

// `n` in a plain build, n / 5 under a sanitizer.
constexpr int ScaledForSanitizers(int n) { return kSanitizedBuild ? n / 5 : n; }

}  // namespace dirledger::test

#endif  // DIRLEDGER_TESTS_SUPPORT_SANITIZED_BUILD_H_

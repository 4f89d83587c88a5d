# Warnings for our own code (never for third-party headers, which come in as
# system headers through their imported targets). Warnings are errors only
# when DIRLEDGER_WERROR is on: CI and development builds turn it on
# (scripts/build.sh does), a packager's or user's build with another compiler
# version is not broken by a warning that compiler adds.
option(DIRLEDGER_WERROR "Treat compiler warnings as errors" OFF)

function(dirledger_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-unused-parameter)
  # GCC 12 at -O3 reports std::string concatenation ("x" + std::string)
  # as an overlapping memcpy (GCC bug 105329, a false positive in
  # libstdc++'s inlined code): off for GCC 12 and later.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND
     CMAKE_CXX_COMPILER_VERSION VERSION_GREATER_EQUAL 12)
    target_compile_options(${target} PRIVATE -Wno-restrict)
  endif()
  if(DIRLEDGER_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

if(DIRLEDGER_SANITIZE)
  # -O1: what the AddressSanitizer documentation recommends for usable
  # speed; the integration suites run several times faster than at -O0,
  # with the same stacks (frame pointers kept, no inlining across files).
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined -O1)
  # GCC warns of maybe-uninitialized members inside libstdc++'s std::regex
  # at -O1 with the sanitizers (false positives its manual warns of); the
  # Release build keeps the warning.
  add_compile_options($<$<CXX_COMPILER_ID:GNU>:-Wno-maybe-uninitialized>)
  add_link_options(-fsanitize=address,undefined)
endif()

if(DIRLEDGER_FUZZ)
  # Everything is instrumented for coverage and checked by ASan/UBSan; the
  # fuzz targets themselves link the libFuzzer driver.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()

# Clang checks the locking the code declares (codecs/thread_annotations.h:
# GUARDED_BY, REQUIRES, ACQUIRE, ...) at compile time.
if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  add_compile_options($<$<COMPILE_LANGUAGE:CXX>:-Wthread-safety>)
endif()

if(DIRLEDGER_TSAN)
  # ThreadSanitizer (clang): data races and lock-order inversions in the
  # unit suites and the threaded storage and engine tests (scripts/test.sh).
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
endif()

# dirledger_test(NAME source.cc... LIBS lib... [LABELS l...] [TSAN_ARGS a...]
#                [NO_THREADS])
# builds one Catch2 test binary and registers it with CTest. Unit tests carry
# the label "unit"; tests that start real servers carry "integration".
# TSAN_ARGS: the binary's arguments in a ThreadSanitizer build (a Catch2 test
# spec leaving out cases that fork a process with threads, which
# ThreadSanitizer cannot follow; the other builds run them).
# NO_THREADS: neither the test nor the code it tests starts a thread (the
# reconciler and replay are pure, one thread by design), so ThreadSanitizer
# has nothing to find there: a ThreadSanitizer build neither builds nor runs
# it (replay_test alone took some ten minutes of that stage).
#
# The target dirledger_unit_tests builds every unit test binary and the
# dirledger program (what `ctest -L unit` runs), and nothing else: the
# ThreadSanitizer stage of scripts/test.sh builds only that.
add_custom_target(dirledger_unit_tests)
function(dirledger_test name)
  cmake_parse_arguments(T "NO_THREADS" "" "SOURCES;LIBS;LABELS;TSAN_ARGS"
                        ${ARGN})
  if(DIRLEDGER_TSAN AND T_NO_THREADS)
    return()
  endif()
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} dirledger_test_main)
  dirledger_warnings(${name})
  if(DIRLEDGER_TSAN AND T_TSAN_ARGS)
    add_test(NAME ${name} COMMAND ${name} ${T_TSAN_ARGS})
  else()
    add_test(NAME ${name} COMMAND ${name})
  endif()
  if(NOT T_LABELS)
    set(T_LABELS unit)
  endif()
  if("unit" IN_LIST T_LABELS)
    add_dependencies(dirledger_unit_tests ${name})
  endif()
  set_tests_properties(${name} PROPERTIES LABELS "${T_LABELS}")
endfunction()

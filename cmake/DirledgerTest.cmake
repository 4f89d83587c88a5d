# dirledger_test(NAME source.cc... LIBS lib... [LABELS l...]) builds one Catch2
# test binary and registers it with CTest. Unit tests carry the label "unit";
# tests that start real servers carry "integration".
function(dirledger_test name)
  cmake_parse_arguments(T "" "" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} dirledger_test_main)
  dirledger_warnings(${name})
  add_test(NAME ${name} COMMAND ${name})
  if(NOT T_LABELS)
    set(T_LABELS unit)
  endif()
  set_tests_properties(${name} PROPERTIES LABELS "${T_LABELS}")
endfunction()

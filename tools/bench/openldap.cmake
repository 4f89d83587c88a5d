# The OpenLDAP intake driven into the event log (openldap_bench.sh).
add_executable(openldap_intake ${CMAKE_CURRENT_LIST_DIR}/openldap_intake.cc
  ${CMAKE_CURRENT_LIST_DIR}/event_log_sink.cc)
target_include_directories(openldap_intake PRIVATE ${PROJECT_SOURCE_DIR})
target_link_libraries(openldap_intake PRIVATE dirledger_syncrepl
  dirledger_storage CLI11::CLI11 spdlog::spdlog)
dirledger_warnings(openldap_intake)
dirledger_allocator(openldap_intake)

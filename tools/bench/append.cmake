# Append throughput of the log (docs/performance.md, "Log append").
add_executable(append_bench ${CMAKE_CURRENT_LIST_DIR}/append_bench.cc)
target_link_libraries(append_bench PRIVATE dirledger_storage benchmark::benchmark)
target_include_directories(append_bench PRIVATE ${PROJECT_SOURCE_DIR})
dirledger_allocator(append_bench)

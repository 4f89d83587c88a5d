# Replay rate of the reconciler (docs/performance.md, "Replay").
add_executable(replay_bench ${CMAKE_CURRENT_LIST_DIR}/replay_bench.cc)
target_link_libraries(replay_bench PRIVATE dirledger_storage dirledger_replay
                      benchmark::benchmark)
target_include_directories(replay_bench PRIVATE ${PROJECT_SOURCE_DIR})
dirledger_warnings(replay_bench)
dirledger_allocator(replay_bench)

# Persist-mode latency of a running `dirledger run` (openldap_bench.sh):
# LDAP modifies timed until the mail directory and the log show them.
add_executable(persist_latency ${CMAKE_CURRENT_LIST_DIR}/persist_latency.cc)
target_include_directories(persist_latency PRIVATE ${PROJECT_SOURCE_DIR})
target_link_libraries(persist_latency PRIVATE dirledger_codecs
  RocksDB::rocksdb PkgConfig::LDAP CLI11::CLI11)
dirledger_warnings(persist_latency)

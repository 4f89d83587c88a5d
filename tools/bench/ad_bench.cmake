# Active Directory intake: drives the DirSync source into the log
# (tools/bench/ad_bench.sh runs it against a Samba AD DC).
add_executable(ad_dirsync_intake ${CMAKE_CURRENT_LIST_DIR}/ad_dirsync_intake.cc)
target_link_libraries(ad_dirsync_intake PRIVATE
  dirledger_dirsync dirledger_recording_sink CLI11::CLI11)
dirledger_warnings(ad_dirsync_intake)
dirledger_allocator(ad_dirsync_intake)

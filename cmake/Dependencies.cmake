# Every dependency is a Debian 12 package; scripts/install-deps.sh installs them.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(OpenSSL REQUIRED COMPONENTS Crypto SSL)
find_package(RocksDB CONFIG REQUIRED)
find_package(FlatBuffers CONFIG REQUIRED)
find_package(spdlog CONFIG REQUIRED)
find_package(nlohmann_json CONFIG REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_package(Catch2 2 CONFIG REQUIRED)
# toml++ (libtomlplusplus-dev) is used header-only; see codecs/config.cc.
pkg_check_modules(LDAP REQUIRED IMPORTED_TARGET ldap lber)
# cpp-httplib (libcpp-httplib-dev): the service's metrics endpoint. Debian
# builds it as a library (libcpp-httplib.so) with TLS and compression; its
# pkg-config flags select the matching declarations.
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
# zstd (libzstd-dev): projection checkpoints are compressed with it
# (replay/projection_checkpoint.h); RocksDB's tables use it too.
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)
# libsystemd (libsystemd-dev): sd_notify for `run` under a Type=notify unit.
pkg_check_modules(SYSTEMD REQUIRED IMPORTED_TARGET libsystemd)
if(DIRLEDGER_BENCH)
  find_package(benchmark CONFIG REQUIRED)
endif()
# jemalloc (libjemalloc-dev) as the allocator of the programs (not of the
# sanitizer or fuzz builds, whose allocator is the sanitizer's): replay and
# intake allocate and free many small strings, and glibc's allocator took a
# fifth of a replay's CPU (docs/dependencies.md).
if(DIRLEDGER_SANITIZE OR DIRLEDGER_FUZZ)
  set(DIRLEDGER_JEMALLOC OFF)
endif()
if(DIRLEDGER_JEMALLOC)
  pkg_check_modules(JEMALLOC REQUIRED IMPORTED_TARGET jemalloc)
endif()
# dirledger_allocator(TARGET [SETTINGS_SOURCE]): with SETTINGS_SOURCE, the
# program also gets that file's jemalloc settings (malloc_conf).
function(dirledger_allocator target)
  if(DIRLEDGER_JEMALLOC)
    target_link_libraries(${target} PRIVATE PkgConfig::JEMALLOC)
    if(ARGC GREATER 1)
      target_sources(${target} PRIVATE ${ARGV1})
    endif()
  endif()
endfunction()
find_program(FLATC flatc REQUIRED)

# dirledger_flatbuffers(TARGET schema.fbs ...) compiles schemas with flatc at
# build time into the binary dir; generated code is never committed.
function(dirledger_flatbuffers target)
  set(out_dir ${CMAKE_CURRENT_BINARY_DIR}/generated)
  set(headers)
  set(all_schemas)
  foreach(schema ${ARGN})
    list(APPEND all_schemas ${CMAKE_CURRENT_SOURCE_DIR}/${schema})
  endforeach()
  foreach(schema ${ARGN})
    get_filename_component(schema_dir ${CMAKE_CURRENT_SOURCE_DIR}/${schema} DIRECTORY)
    get_filename_component(name ${schema} NAME_WE)
    set(header ${out_dir}/dirledger/fb/${name}_generated.h)
    add_custom_command(
      OUTPUT ${header}
      COMMAND ${FLATC} --cpp --scoped-enums -I ${schema_dir}
              -o ${out_dir}/dirledger/fb ${CMAKE_CURRENT_SOURCE_DIR}/${schema}
      DEPENDS ${all_schemas}
      COMMENT "flatc ${schema}")
    list(APPEND headers ${header})
  endforeach()
  add_custom_target(${target}_fbs DEPENDS ${headers})
  add_dependencies(${target} ${target}_fbs)
  target_include_directories(${target} PUBLIC ${out_dir})
endfunction()

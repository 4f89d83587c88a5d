#include "tools/dirledger/version.h"

#include <flatbuffers/base.h>
#include <ldap_features.h>
#include <openssl/opensslv.h>
#include <rocksdb/version.h>
#include <spdlog/version.h>
#include <toml++/impl/version.h>

#include <CLI/Version.hpp>
#include <nlohmann/json.hpp>

#include "codecs/config.h"
#include "codecs/rules_version.h"
#include "dirledger_git_revision.h"
#include "storage/event_log.h"

namespace dirledger::cli {
namespace {

std::string V(int major, int minor, int patch) {
  return std::to_string(major) + "." + std::to_string(minor) + "." +
         std::to_string(patch);
}

}  // namespace

std::string VersionText() {
  std::string out =
      "dirledger " DIRLEDGER_VERSION " (git " DIRLEDGER_GIT_REVISION ")\n";
  out += "log format " + std::to_string(kLogFormatVersion) +
         ", reconciler rules " + std::to_string(kReconcilerRules) + "\n";
  out +=
      "built with: RocksDB " + V(ROCKSDB_MAJOR, ROCKSDB_MINOR, ROCKSDB_PATCH) +
      ", OpenLDAP libldap " +
      V(LDAP_VENDOR_VERSION_MAJOR, LDAP_VENDOR_VERSION_MINOR,
        LDAP_VENDOR_VERSION_PATCH) +
      ", FlatBuffers " +
      V(FLATBUFFERS_VERSION_MAJOR, FLATBUFFERS_VERSION_MINOR,
        FLATBUFFERS_VERSION_REVISION) +
      ", OpenSSL " OPENSSL_VERSION_STR + ", spdlog " +
      V(SPDLOG_VER_MAJOR, SPDLOG_VER_MINOR, SPDLOG_VER_PATCH) + ", toml++ " +
      V(TOML_LIB_MAJOR, TOML_LIB_MINOR, TOML_LIB_PATCH) + ", nlohmann_json " +
      V(NLOHMANN_JSON_VERSION_MAJOR, NLOHMANN_JSON_VERSION_MINOR,
        NLOHMANN_JSON_VERSION_PATCH) +
      ", CLI11 " CLI11_VERSION "\n";
  return out;
}

}  // namespace dirledger::cli

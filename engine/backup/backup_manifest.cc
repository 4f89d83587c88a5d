#include "engine/backup/backup_manifest.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "storage/durable_fs.h"

namespace dirledger {

std::string EncodeManifest(const BackupManifest& m) {
  nlohmann::json j;
  j["format"] = m.format;
  j["installation_id"] = m.installation_id;
  j["created_us"] = m.created_us;
  j["automatic"] = m.automatic;
  j["why"] = m.why;
  j["log"] = {{"dir", "log"},
              {"last_seq", m.last_seq},
              {"head_sha256", m.head_sha256},
              {"log_format", m.log_format}};
  if (m.has_mail)
    j["mail"] = {{"dir", "mail"}, {"last_change", m.mail_last_change}};
  else
    j["mail"] = nullptr;
  return j.dump(2) + "\n";
}

Result<BackupManifest> ReadManifest(const std::string& backup_dir) {
  const std::string path = backup_dir + "/" + kBackupManifestName;
  std::ifstream in(path);
  if (!in) return Status::NotFound(path + " does not exist");
  std::stringstream text;
  text << in.rdbuf();
  BackupManifest m;
  try {
    const nlohmann::json j = nlohmann::json::parse(text.str());
    m.format = j.at("format").get<int>();
    m.installation_id = j.at("installation_id").get<std::string>();
    m.created_us = j.at("created_us").get<std::int64_t>();
    m.automatic = j.at("automatic").get<bool>();
    m.why = j.at("why").get<std::string>();
    const nlohmann::json& log = j.at("log");
    m.last_seq = log.at("last_seq").get<std::uint64_t>();
    m.head_sha256 = log.at("head_sha256").get<std::string>();
    m.log_format = log.at("log_format").get<int>();
    const nlohmann::json& mail = j.at("mail");
    m.has_mail = !mail.is_null();
    if (m.has_mail)
      m.mail_last_change = mail.at("last_change").get<std::uint64_t>();
  } catch (const nlohmann::json::exception& e) {
    return Status::Corruption(path + " is damaged: " + e.what());
  }
  return m;
}

Status WriteManifest(const std::string& backup_dir, const BackupManifest& m) {
  return WriteFileDurably(backup_dir + "/" + kBackupManifestName,
                          EncodeManifest(m));
}

}  // namespace dirledger

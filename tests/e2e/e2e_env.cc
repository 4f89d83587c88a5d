#include "tests/e2e/e2e_env.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <sstream>
#include <thread>

namespace dirledger::test {

std::string ConfigText(const E2eConfig& c, const std::string& ldap_url,
                       const std::string& password_file) {
  std::ostringstream os;
  os << "# written by the dirledger end-to-end tests\n"
     << "data_dir = \"" << c.data_dir << "\"\n"
     << "fsync = false\n\n"
     << c.mail_table << "\n"
     << "[[connector]]\n"
     << "name = \"corp\"\n"
     << "server_type = \"openldap\"\n"
     << "uris = [\"" << ldap_url << "\"]\n"
     << "bind_dn = \"" << SlapdServer::kAdminDn << "\"\n"
     << "bind_password_file = \"" << password_file << "\"\n"
     << "timeout_s = 10\n"
     << "direction = \"" << c.direction << "\"\n";
  if (!c.conflict_resolution.empty())
    os << "conflict_resolution = \"" << c.conflict_resolution << "\"\n";
  os << "account_base_dn = \"ou=people,%D\"\n"
     << "group_sync = " << (c.group_sync ? "true" : "false") << "\n";
  if (c.group_sync) os << "group_base_dn = \"ou=groups,%D\"\n";
  os << "delete_threshold = " << c.delete_threshold << "\n";
  if (c.delete_delay_s >= 0)
    os << "delete_delay_s = " << c.delete_delay_s << "\n";
  os << "\n[[domain]]\n"
     << "name = \"example.com\"\n"
     << "ldap_sync = true\n"
     << "connector = \"corp\"\n";
  return os.str();
}

E2eEnv::E2eEnv(int port, int people, const E2eConfig& config) {
  slapd_ = std::make_unique<SlapdServer>(tmp_ / "slapd", port, people);
  cli_ = std::make_unique<CliRunner>(tmp_.path());
  WriteConfig(config);
}

void E2eEnv::WriteConfig(const E2eConfig& config) {
  cli_->WriteConfig(ConfigText(config, slapd_->url(), slapd_->password_file()));
}

std::string PersonDn(const std::string& uid) {
  return "uid=" + uid + ",ou=people," + SlapdServer::kBase;
}

std::string Uid(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "user%06d", i);
  return buf;
}

std::string Address(int i) { return Uid(i) + "@example.com"; }

void AddClaimer(E2eEnv& env, const std::string& uid,
                const std::string& claimed) {
  env.Ldap("dn: " + PersonDn(uid) +
           "\nchangetype: add\nobjectClass: inetOrgPerson\nuid: " + uid +
           "\ncn: " + uid + "\nsn: " + uid + "\nmail: " + uid +
           "@example.com\nmail: " + claimed + "\n");
}

std::string DeletesLdif(int from, int to) {
  std::string ldif;
  for (int i = from; i <= to; ++i)
    ldif += "dn: " + PersonDn(Uid(i)) + "\nchangetype: delete\n\n";
  return ldif;
}

std::vector<nlohmann::json> StatusLines(CliRunner& dl,
                                        const std::string& type) {
  auto r = dl.Run({"status", "--json"});
  INFO(r.Describe());
  REQUIRE(r.exit_code == 0);
  return Where(r.Json(), "type", type);
}

std::vector<nlohmann::json> IntentsSince(CliRunner& dl, std::uint64_t since) {
  auto log = dl.Run({"log", "--since", std::to_string(since + 1), "--json"});
  INFO(log.Describe());
  REQUIRE(log.exit_code == 0);
  std::vector<nlohmann::json> intents;
  for (const nlohmann::json& line : log.Json())
    if (line.contains("intents"))
      for (const nlohmann::json& i : line["intents"]) intents.push_back(i);
  return intents;
}

int MailCount(CliRunner& dl) {
  auto r = dl.Run({"mail", "list", "--json"});
  return r.exit_code == 0 ? static_cast<int>(r.Json().size()) : -1;
}

void E2eEnv::Ldap(const std::string& ldif) {
  INFO("ldapmodify:\n" << ldif);
  REQUIRE(slapd_->Modify(ldif) == 0);
}

void E2eEnv::LdapReplace(const std::string& uid, const std::string& attr,
                         const std::string& value) {
  Ldap("dn: " + PersonDn(uid) + "\nchangetype: modify\nreplace: " + attr +
       "\n" + attr + ": " + value + "\n");
}

void E2eEnv::LdapAddPerson(const std::string& uid, const std::string& title) {
  Ldap("dn: " + PersonDn(uid) +
       "\nchangetype: add\nobjectClass: inetOrgPerson\nuid: " + uid +
       "\ncn: " + uid + "\nsn: " + uid + "\ngivenName: New\nmail: " + uid +
       "@example.com\ntitle: " + title + "\nou: Engineering\n");
}

void E2eEnv::LdapDelete(const std::string& dn) {
  Ldap("dn: " + dn + "\nchangetype: delete\n");
}

std::vector<std::string> E2eEnv::LdapValues(const std::string& filter,
                                            const std::string& attr) {
  const std::string out = slapd_->Search(filter, attr);
  std::vector<std::string> values;
  std::istringstream in(out);
  std::string line;
  const std::string prefix = attr + ": ";
  while (std::getline(in, line))
    if (line.rfind(prefix, 0) == 0)
      values.push_back(line.substr(prefix.size()));
  return values;
}

bool E2eEnv::LdapExists(const std::string& filter) {
  return Contains(slapd_->Search(filter, "dn"), "dn: ");
}

CliResult E2eEnv::RunOnce(int expect) {
  CliResult r = cli_->Run({"run", "--once"});
  INFO("dirledger run --once: " << r.Describe());
  REQUIRE(r.exit_code == expect);
  return r;
}

nlohmann::json E2eEnv::LogStatus() {
  CliResult r = cli_->Run({"status", "--json"});
  INFO("dirledger status --json: " << r.Describe());
  REQUIRE(r.exit_code == 0);
  auto lines = r.Json();
  REQUIRE(!lines.empty());
  REQUIRE(lines[0]["type"] == "log");
  return lines[0];
}

nlohmann::json E2eEnv::MailShow(const std::string& address) {
  CliResult r = cli_->Run({"mail", "show", address, "--json"});
  if (r.exit_code != 0) return nullptr;
  auto lines = r.Json();
  REQUIRE(lines.size() == 1);
  return lines[0];
}

std::vector<std::string> E2eEnv::MailAddresses() {
  CliResult r = cli_->Run({"mail", "list", "--json"});
  INFO("dirledger mail list --json: " << r.Describe());
  REQUIRE(r.exit_code == 0);
  std::vector<std::string> out;
  for (const auto& j : r.Json()) out.push_back(j["address"].get<std::string>());
  return out;
}

void WaitUntil(const std::string& what, const std::function<bool()>& done,
               int limit_s) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(limit_s);
  while (!done()) {
    INFO("still waiting for: " << what);
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

std::vector<nlohmann::json> Where(const std::vector<nlohmann::json>& lines,
                                  const std::string& key,
                                  const nlohmann::json& value) {
  std::vector<nlohmann::json> out;
  for (const auto& j : lines)
    if (j.contains(key) && j[key] == value) out.push_back(j);
  return out;
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace dirledger::test

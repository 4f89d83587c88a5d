// E2eEnv: what every end-to-end test starts from: a private temp dir, a real
// slapd on 127.0.0.1 (tests/harness/slapd.sh) with generated people, and a
// CliRunner whose dirledger.toml points a connector "corp" at that slapd
// for the domain example.com. Plus small helpers to change LDAP as an
// administrator would and to read what dirledger prints.
//
// Ports: the end-to-end tests own slapd ports 4150-4199; every test case
// passes its own, so test binaries running at once never collide.
//
// Thread safety: one per test; not thread-safe.
#ifndef DIRLEDGER_TESTS_E2E_E2E_ENV_H_
#define DIRLEDGER_TESTS_E2E_E2E_ENV_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/e2e/cli_runner.h"
#include "tests/support/slapd_server.h"
#include "tests/support/temp_dir.h"

namespace dirledger::test {

struct E2eConfig {
  std::string data_dir = "./data";
  std::string direction = "ldap_to_axigen";
  std::string conflict_resolution;  // only with both_ways
  int delete_threshold = 500;
  int delete_delay_s = -1;  // -1: not written (the default, 60)
  bool group_sync = true;
  // The [mail] table; embedded unless replaced.
  std::string mail_table = "[mail]\nkind = \"embedded\"\n";
};

// The config text for a connector "corp" on `ldap_url` (password from
// `password_file`) serving example.com.
std::string ConfigText(const E2eConfig& c, const std::string& ldap_url,
                       const std::string& password_file);

class E2eEnv {
 public:
  // Starts slapd on `port` with `people` generated accounts
  // (uid=user000001...) and writes the config.
  E2eEnv(int port, int people, const E2eConfig& config = {});

  TempDir& tmp() { return tmp_; }
  SlapdServer& slapd() { return *slapd_; }
  CliRunner& cli() { return *cli_; }
  void WriteConfig(const E2eConfig& config);

  // ldapmodify as the directory's administrator; REQUIREs success.
  void Ldap(const std::string& ldif);
  // Sets one attribute of uid=NAME,ou=people.
  void LdapReplace(const std::string& uid, const std::string& attr,
                   const std::string& value);
  void LdapAddPerson(const std::string& uid,
                     const std::string& title = "Engineer");
  void LdapDelete(const std::string& dn);
  // The values of `attr` of the entry `filter` matches, from ldapsearch.
  std::vector<std::string> LdapValues(const std::string& filter,
                                      const std::string& attr);
  bool LdapExists(const std::string& filter);

  // `dirledger run --once`, REQUIRE-d to exit `expect`.
  CliResult RunOnce(int expect = 0);
  // The first status --json line ("type":"log"): last_seq, head_sha256.
  nlohmann::json LogStatus();
  std::uint64_t LastSeq() {
    return LogStatus()["last_seq"].get<std::uint64_t>();
  }
  // `mail show ADDRESS --json`, or null when there is no such object.
  nlohmann::json MailShow(const std::string& address);
  // The addresses `mail list --json` shows.
  std::vector<std::string> MailAddresses();

 private:
  TempDir tmp_;
  std::unique_ptr<SlapdServer> slapd_;
  std::unique_ptr<CliRunner> cli_;
};

std::string PersonDn(const std::string& uid);
// The uid and address of the i-th person SlapdServer loads (user000001...).
std::string Uid(int i);
std::string Address(int i);
// An LDIF deleting people from..to (inclusive).
std::string DeletesLdif(int from, int to);
// Adds person `uid` (address uid@example.com) whose `mail` also lists
// `claimed`, an alias it asks for.
void AddClaimer(E2eEnv& env, const std::string& uid,
                const std::string& claimed);
// The `status --json` lines of one type ("hold", "delayed_delete", ...).
std::vector<nlohmann::json> StatusLines(CliRunner& dl, const std::string& type);
// The write intents decided after log sequence `since` (the "intents" of
// the `log --json` lines after it).
std::vector<nlohmann::json> IntentsSince(CliRunner& dl, std::uint64_t since);
// The mail accounts, or -1 before the mail directory exists.
int MailCount(CliRunner& dl);

// Calls `done` (every 100 ms) until it returns true; a test failure after
// `limit_s` seconds. The limit only guards against hanging: it is far above
// anything a passing run needs, and no test asserts how long anything took.
void WaitUntil(const std::string& what, const std::function<bool()>& done,
               int limit_s = 120);

// Lines of `lines` whose `key` equals `value`.
std::vector<nlohmann::json> Where(const std::vector<nlohmann::json>& lines,
                                  const std::string& key,
                                  const nlohmann::json& value);
bool Contains(const std::string& haystack, const std::string& needle);

}  // namespace dirledger::test

#endif  // DIRLEDGER_TESTS_E2E_E2E_ENV_H_

#include "codecs/config.h"

#include <catch2/catch.hpp>

#include "codecs/rules_version.h"

namespace dirledger {
namespace {

const char* kGood = R"(
data_dir = "./data"

[mail]
kind = "embedded"

[[connector]]
name = "corp"
server_type = "openldap"
uris = ["ldap://127.0.0.1:3890"]
bind_dn = "cn=admin,dc=example,dc=com"
bind_password_file = "bind.pw"
timeout_s = 4
direction = "both_ways"
conflict_resolution = "ldap_wins"
account_base_dn = "ou=people,%D"
group_sync = true
group_base_dn = "ou=groups,%D"
delete_threshold = "10%"

[[domain]]
name = "example.com"
ldap_sync = true
connector = "corp"
)";

Result<Config> Parse(const std::string& text) {
  return ParseConfig(text, "/etc/dirledger/dirledger.toml",
                     [](const std::string& p) -> Result<std::string> {
                       if (p == "/etc/dirledger/schema.toml")
                         return std::string("[account]\n");
                       return Status::IOError("cannot read " + p);
                     });
}

std::string Replace(std::string s, const std::string& from,
                    const std::string& to) {
  const auto pos = s.find(from);
  REQUIRE(pos != std::string::npos);
  return s.replace(pos, from.size(), to);
}

}  // namespace

TEST_CASE("a full config parses", "[config]") {
  auto cfg = Parse(kGood);
  REQUIRE(cfg.ok());
  REQUIRE(cfg->connectors.size() == 1);
  const ConnectorConfig& c = cfg->connectors[0];
  CHECK(c.direction == Direction::kBothWays);
  CHECK(c.conflict_resolution == ConflictResolution::kLdapWins);
  CHECK(c.delete_threshold_percent == 10);
  CHECK(c.group_sync);
  CHECK(cfg->FindDomain("EXAMPLE.com")->connector == "corp");
  CHECK(cfg->Resolve("bind.pw") == "/etc/dirledger/bind.pw");
}

TEST_CASE("conflict_resolution without both_ways names file, line and key",
          "[config]") {
  auto cfg = Parse(Replace(kGood, "direction = \"both_ways\"",
                           "direction = \"ldap_to_axigen\""));
  REQUIRE_FALSE(cfg.ok());
  const std::string& m = cfg.status().message();
  CHECK(m.find("dirledger.toml:15") != std::string::npos);
  CHECK(m.find("conflict_resolution") != std::string::npos);
  CHECK(m.find("both_ways") != std::string::npos);
}

TEST_CASE("both_ways requires a conflict resolution", "[config]") {
  auto cfg = Parse(Replace(kGood, "conflict_resolution = \"ldap_wins\"\n", ""));
  REQUIRE_FALSE(cfg.ok());
  CHECK(cfg.status().message().find("needs conflict_resolution") !=
        std::string::npos);
}

TEST_CASE("secret_attributes adds attribute names never stored",
          "[config][whole]") {
  auto none = Parse(kGood);
  REQUIRE(none.ok());
  CHECK(none->connectors[0].secret_attributes.empty());
  auto some = Parse(Replace(kGood, "server_type = \"openldap\"",
                            "server_type = \"openldap\"\n"
                            "secret_attributes = [\"pinCode\", \"otpSeed\"]"));
  INFO(some.status().ToString());
  REQUIRE(some.ok());
  CHECK(some->connectors[0].secret_attributes ==
        std::vector<std::string>{"pinCode", "otpSeed"});
  for (const char* bad : {"\"pinCode\"", "[1]", "[\"\"]"}) {
    auto cfg = Parse(Replace(kGood, "server_type = \"openldap\"",
                             std::string("server_type = \"openldap\"\n"
                                         "secret_attributes = ") +
                                 bad));
    REQUIRE_FALSE(cfg.ok());
    CHECK(cfg.status().message().find("secret_attributes") !=
          std::string::npos);
  }
}

TEST_CASE("bad enum values list what is allowed", "[config]") {
  auto cfg = Parse(Replace(kGood, "\"openldap\"", "\"novell\""));
  REQUIRE_FALSE(cfg.ok());
  CHECK(cfg.status().message().find("allowed: openldap, activedirectory") !=
        std::string::npos);
}

TEST_CASE("backup_keep: 10 by default, 0 keeps all, a bad value is refused",
          "[config]") {
  auto dflt = Parse(kGood);
  REQUIRE(dflt.ok());
  CHECK(dflt->backup_keep == 10);
  auto all = Parse(Replace(kGood, "data_dir = \"./data\"",
                           "data_dir = \"./data\"\nbackup_keep = 0"));
  REQUIRE(all.ok());
  CHECK(all->backup_keep == 0);
  for (const char* bad : {"-1", "2.5", "\"3\""}) {
    auto cfg = Parse(
        Replace(kGood, "data_dir = \"./data\"",
                std::string("data_dir = \"./data\"\nbackup_keep = ") + bad));
    INFO(bad);
    REQUIRE_FALSE(cfg.ok());
    CHECK(cfg.status().message().find("dirledger.toml:3: top level: "
                                      "backup_keep must be a whole number") !=
          std::string::npos);
  }
}

TEST_CASE("a domain naming no connector is a config error", "[config]") {
  auto cfg =
      Parse(Replace(kGood, "connector = \"corp\"", "connector = \"hr\""));
  REQUIRE_FALSE(cfg.ok());
  CHECK(cfg.status().message().find("connector \"hr\" is not defined") !=
        std::string::npos);
}

TEST_CASE("passwords in the config are refused with a hint", "[config]") {
  auto cfg = Parse(Replace(kGood, "bind_password_file = \"bind.pw\"",
                           "bind_password = \"hunter2-value\""));
  REQUIRE_FALSE(cfg.ok());
  CHECK(cfg.status().message().find("bind_password_file") != std::string::npos);
  CHECK(cfg.status().message().find("hunter2") == std::string::npos);
}

TEST_CASE("more than five uris is an error", "[config]") {
  auto cfg = Parse(
      Replace(kGood, "uris = [\"ldap://127.0.0.1:3890\"]",
              "uris = [\"ldap://a\", \"ldap://b\", \"ldap://c\", \"ldap://d\", "
              "\"ldap://e\", \"ldap://f\"]"));
  REQUIRE_FALSE(cfg.ok());
  CHECK(cfg.status().message().find("1 to 5") != std::string::npos);
}

TEST_CASE("group_base_dn without group_sync is an error", "[config]") {
  auto cfg = Parse(Replace(kGood, "group_sync = true", "group_sync = false"));
  REQUIRE_FALSE(cfg.ok());
  CHECK(cfg.status().message().find("group_base_dn is only allowed") !=
        std::string::npos);
}

TEST_CASE("TOML syntax errors carry the line", "[config]") {
  auto cfg = Parse("data_dir = \n");
  REQUIRE_FALSE(cfg.ok());
  CHECK(cfg.status().message().find("dirledger.toml:1") != std::string::npos);
  // An unclosed string is reported on its own line, not the next one.
  auto open =
      ParseConfig("fsync = true\ndata_dir = \"./data\nx = 1\n", "c.toml");
  REQUIRE_FALSE(open.ok());
  CHECK(open.status().message() ==
        "c.toml:2: a single-line string is not closed");
}

TEST_CASE("custom schema files are loaded and stored with the config",
          "[config]") {
  auto cfg = Parse(Replace(kGood, "delete_threshold = \"10%\"",
                           "custom_schema_file = \"schema.toml\""));
  REQUIRE(cfg.ok());
  CHECK(cfg->connectors[0].custom_schema_text == "[account]\n");
  ConfigChange change = MakeConfigChange(*cfg, kGood);
  REQUIRE(change.files.size() == 1);
  CHECK(change.sha256.size() == 32);
  auto again = ConfigFromEvent(change);
  // kGood itself has no schema file; the event replays what it holds.
  REQUIRE(again.ok());
}

TEST_CASE("a ConfigChange records the reconciler rules version", "[config]") {
  auto cfg = Parse(kGood);
  REQUIRE(cfg.ok());
  CHECK(cfg->reconciler_rules == kReconcilerRules);
  ConfigChange now = MakeConfigChange(*cfg, kGood);
  CHECK(now.reconciler_rules == kReconcilerRules);
  auto again = ConfigFromEvent(now);
  REQUIRE(again.ok());
  CHECK(again->reconciler_rules == kReconcilerRules);

  // Recorded before the version was: decided under version 1, and the
  // fingerprint is what it was then, so a newer dirledger records the
  // config again and its rules apply from there on.
  Config old_cfg = *cfg;
  old_cfg.reconciler_rules = 1;
  ConfigChange old = MakeConfigChange(old_cfg, kGood);
  old.reconciler_rules = 0;
  auto old_again = ConfigFromEvent(old);
  REQUIRE(old_again.ok());
  CHECK(old_again->reconciler_rules == 1);
  CHECK(old.sha256 != now.sha256);
  CHECK(MakeConfigChange(old_cfg, kGood).sha256 == old.sha256);

  // A log written by a newer dirledger is not replayed under older rules.
  ConfigChange newer = now;
  newer.reconciler_rules = kReconcilerRules + 1;
  auto refused = ConfigFromEvent(newer);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().message().find("reconciler rules version") !=
        std::string::npos);
}

TEST_CASE("what-if overrides change connectors and domains", "[config]") {
  auto cfg = Parse(kGood);
  REQUIRE(cfg.ok());
  REQUIRE(
      ApplyConfigOverride(&*cfg, "conflict_resolution", "axigen_wins").ok());
  CHECK(cfg->connectors[0].conflict_resolution ==
        ConflictResolution::kAxigenWins);
  REQUIRE(ApplyConfigOverride(&*cfg, "corp.direction", "ldap_to_axigen").ok());
  CHECK(cfg->connectors[0].direction == Direction::kLdapToAxigen);
  REQUIRE(
      ApplyConfigOverride(&*cfg, "domain.example.com.ldap_sync", "false").ok());
  CHECK_FALSE(cfg->domains[0].ldap_sync);
  CHECK_FALSE(ApplyConfigOverride(&*cfg, "direction", "sideways").ok());
  CHECK_FALSE(ApplyConfigOverride(&*cfg, "nosuch", "1").ok());
}

TEST_CASE("expanding variables", "[config]") {
  CHECK(DomainToDcParts("example.com") == "dc=example,dc=com");
  CHECK(ExpandVariables("uid=%u,ou=people,%D", "jdoe", "a.example.org") ==
        "uid=jdoe,ou=people,dc=a,dc=example,dc=org");
  CHECK(ExpandVariables("%e|%d|%%", "jdoe", "x.com") == "jdoe@x.com|x.com|%");
}

}  // namespace dirledger

namespace dirledger {

TEST_CASE("control and stray non-ASCII characters are refused with the line",
          "[config]") {
  auto bad = ParseConfig("data_dir = \"x\"\n\x0b = 1\n", "c.toml");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("c.toml:2: control character 0x0b") !=
        std::string::npos);
  auto stray = ParseConfig("data_dir = \"x\"\nн = 1\n", "c.toml");
  REQUIRE_FALSE(stray.ok());
  CHECK(stray.status().message().find("c.toml:2: non-ASCII") !=
        std::string::npos);
  // Non-ASCII inside strings and comments is fine.
  CHECK(ParseConfig("# Jürgen's config\ndata_dir = \"/srv/dürer\"\n", "c.toml")
            .ok());
  CHECK(ParseConfig("data_dir = '''\nü'''\n", "c.toml").ok());
}

}  // namespace dirledger

namespace dirledger {

TEST_CASE("non-ASCII string values survive the ASCII rewrite", "[config]") {
  auto cfg = ParseConfig(
      "data_dir = \"/srv/dürer\"\nlog_level = 'info'\n"
      "[[connector]]\nname = 'lit\\\\\"ü'\nuris = [\"ldap://x\"]\n"
      "account_base_dn = '''ou=people,\n%D'''\n",
      "c.toml");
  REQUIRE(cfg.ok());
  CHECK(cfg->data_dir == "/srv/dürer");
  CHECK(cfg->connectors[0].name == "lit\\\\\"ü");
  CHECK(cfg->connectors[0].account_base_dn == "ou=people,\n%D");
  auto bad_utf8 = ParseConfig("data_dir = \"\xff\"\n", "c.toml");
  REQUIRE_FALSE(bad_utf8.ok());
  CHECK(bad_utf8.status().message().find("invalid UTF-8") != std::string::npos);
}

}  // namespace dirledger

namespace dirledger {
namespace {

TEST_CASE("delete_delay_s: 60 by default, 0 to 86400 seconds", "[config]") {
  auto plain = Parse(kGood);
  REQUIRE(plain.ok());
  CHECK(plain->connectors[0].delete_delay_s == 60);
  auto three = Parse(Replace(kGood, "delete_threshold = \"10%\"",
                             "delete_threshold = 20\ndelete_delay_s = 3"));
  REQUIRE(three.ok());
  CHECK(three->connectors[0].delete_delay_s == 3);
  auto zero =
      Parse(Replace(kGood, "delete_threshold = \"10%\"", "delete_delay_s = 0"));
  REQUIRE(zero.ok());
  CHECK(zero->connectors[0].delete_delay_s == 0);
  CHECK_FALSE(
      Parse(Replace(kGood, "delete_threshold = \"10%\"", "delete_delay_s = -1"))
          .ok());
}

}  // namespace
}  // namespace dirledger

namespace dirledger {
namespace {

TEST_CASE("[service] metrics_listen: off by default, an IP address and port",
          "[config]") {
  auto plain = Parse(kGood);
  REQUIRE(plain.ok());
  CHECK(plain->service.metrics_listen.empty());
  auto on = Parse(std::string(kGood) +
                  "\n[service]\nmetrics_listen = \"127.0.0.1:9464\"\n");
  REQUIRE(on.ok());
  CHECK(on->service.metrics_listen == "127.0.0.1:9464");
  for (const char* bad :
       {"9464", ":9464", "localhost:9464", "127.0.0.1:0", "127.0.0.1:65536",
        "127.0.0.1:x", "::1:9464", "[::1]9464", "[nope]:9464"}) {
    INFO(bad);
    auto r = Parse(std::string(kGood) + "\n[service]\nmetrics_listen = \"" +
                   bad + "\"\n");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message().find("metrics_listen") != std::string::npos);
    CHECK(r.status().message().find("dirledger.toml:") != std::string::npos);
  }
  auto unknown = Parse(std::string(kGood) + "\n[service]\nlisten = 1\n");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.status().message().find("metrics_listen") != std::string::npos);
}

TEST_CASE("listen addresses: IPv4, IPv6 in brackets, loopback or not",
          "[config]") {
  auto v4 = ParseListenAddress("127.0.0.1:9464");
  REQUIRE(v4.ok());
  CHECK(v4->host == "127.0.0.1");
  CHECK(v4->port == 9464);
  CHECK(v4->loopback());
  CHECK(v4->ToString() == "127.0.0.1:9464");
  auto v6 = ParseListenAddress("[::1]:80");
  REQUIRE(v6.ok());
  CHECK(v6->host == "::1");
  CHECK(v6->loopback());
  CHECK(v6->ToString() == "[::1]:80");
  auto any = ParseListenAddress("0.0.0.0:9464");
  REQUIRE(any.ok());
  CHECK_FALSE(any->loopback());
  CHECK_FALSE(ParseListenAddress("10.1.2.3:1")->loopback());
  CHECK(ParseListenAddress("127.9.9.9:1")->loopback());
}

}  // namespace

TEST_CASE("[[hook]] tables name events and a program", "[config][hook]") {
  auto cfg = Parse(std::string(kGood) + R"(
[[hook]]
on = ["hold", "failed_write", "source_down", "conflict", "verify_failed"]
command = ["/usr/local/bin/notify-ops", "--to", "ops; rm -rf /"]

[[hook]]
on = ["hold"]
command = ["hooks/page"]
timeout_s = 2.5
)");
  REQUIRE(cfg.ok());
  REQUIRE(cfg->hooks.size() == 2);
  CHECK(cfg->hooks[0].on.size() == 5);
  CHECK(cfg->hooks[0].command ==
        std::vector<std::string>{"/usr/local/bin/notify-ops", "--to",
                                 "ops; rm -rf /"});
  CHECK(cfg->hooks[0].timeout_s == 10);
  // A relative program is taken from the config file's directory.
  CHECK(cfg->hooks[1].command[0] == "/etc/dirledger/hooks/page");
  CHECK(cfg->hooks[1].timeout_s == 2.5);
}

TEST_CASE("[[hook]] mistakes are config errors that name them",
          "[config][hook]") {
  auto unknown = Parse(std::string(kGood) +
                       "[[hook]]\non = [\"hold\", \"lunch\"]\n"
                       "command = [\"/bin/true\"]\n");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.status().code() == StatusCode::kInvalidArgument);
  CHECK(unknown.status().message().find(
            "[[hook]] 1: on: unknown event \"lunch\"; allowed: hold, "
            "failed_write, source_down, conflict, verify_failed") !=
        std::string::npos);
  auto bare = Parse(std::string(kGood) +
                    "[[hook]]\non = [\"hold\"]\ncommand = [\"notify\"]\n");
  REQUIRE_FALSE(bare.ok());
  CHECK(bare.status().message().find("command[0] must be the program's path") !=
        std::string::npos);
  auto no_command = Parse(std::string(kGood) + "[[hook]]\non = [\"hold\"]\n");
  REQUIRE_FALSE(no_command.ok());
  CHECK(no_command.status().message().find("command is required") !=
        std::string::npos);
  auto key = Parse(std::string(kGood) +
                   "[[hook]]\non = [\"hold\"]\ncommand = [\"/bin/true\"]\n"
                   "shell = true\n");
  REQUIRE_FALSE(key.ok());
  CHECK(key.status().message().find("unknown key \"shell\"") !=
        std::string::npos);
}

}  // namespace dirledger

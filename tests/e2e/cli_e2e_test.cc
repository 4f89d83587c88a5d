// End to end, the command itself: --help on every subcommand, the exit
// codes of the contract (0 ok, 1 failure, 2 usage or config error, 3 held),
// config errors that name the file, the line, the key and what is allowed,
// and `dirledger mail list|show|add|set|remove` on the embedded mail
// directory. No LDAP server is needed: the config names one that is never
// contacted.
#include <catch2/catch.hpp>
#include <filesystem>

#include "tests/e2e/e2e_env.h"

namespace dirledger::test {
namespace {

// Never listened on: these tests must not reach LDAP.
constexpr const char* kNoServer = "ldap://127.0.0.1:4159";

std::string ValidConfig() {
  return ConfigText(E2eConfig{}, kNoServer, "ldap.pw");
}

TEST_CASE("--help on every subcommand", "[e2e][cli]") {
  TempDir tmp;
  CliRunner dl(tmp.path());
  const std::vector<std::vector<std::string>> commands = {{},
                                                          {"run"},
                                                          {"status"},
                                                          {"log"},
                                                          {"explain"},
                                                          {"verify"},
                                                          {"replay"},
                                                          {"rollback"},
                                                          {"approve"},
                                                          {"reject"},
                                                          {"export"},
                                                          {"backup"},
                                                          {"restore"},
                                                          {"mail"},
                                                          {"mail", "list"},
                                                          {"mail", "show"},
                                                          {"mail", "add"},
                                                          {"mail", "set"},
                                                          {"mail", "remove"}};
  for (const auto& command : commands) {
    std::vector<std::string> args = command;
    args.push_back("--help");
    CliResult r = dl.RunRaw(args);
    std::string name = "dirledger";
    for (const auto& c : command) name += " " + c;
    INFO(name << " --help: " << r.Describe());
    REQUIRE(r.exit_code == 0);
    REQUIRE(Contains(r.out, "Usage: "));
    REQUIRE(Contains(
        r.out, name.substr(std::string("dirledger").size()) + " [OPTIONS]"));
    REQUIRE(Contains(r.out, "Exit codes: 0 ok, 1 failure or mismatch"));
    REQUIRE(Contains(r.out, ", 2 usage or config error"));
    REQUIRE(Contains(r.out, ", 3 held by the mass-delete guard"));
    // Every option and positional says what it is for.
    REQUIRE_FALSE(Contains(r.out, "TEXT\n"));
  }
  // The top level lists every subcommand.
  CliResult top = dl.RunRaw({"--help"});
  for (const char* sub :
       {"run", "status", "log", "explain", "verify", "replay", "rollback",
        "approve", "reject", "export", "backup", "restore", "mail"})
    REQUIRE(Contains(top.out, std::string("\n  ") + sub + " "));
}

TEST_CASE("usage errors exit 2", "[e2e][cli]") {
  TempDir tmp;
  CliRunner dl(tmp.path());
  dl.WriteConfig(ValidConfig());
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{}, "A subcommand is required"},
      {{"frobnicate"}, "frobnicate"},
      {{"status", "--bogus"}, "--bogus"},
      {{"log", "--side", "both"}, "--side"},
      {{"explain"}, "ID is required"},
      {{"rollback"}, "--to is required"},
      {{"rollback", "--to", "1", "--side", "left"}, "--side"},
      {{"export"}, "--side is required"},
      {{"export", "--side", "ldap", "--format", "csv"}, "--format"},
      {{"mail"}, "A subcommand is required"},
      {{"mail", "show"}, "ADDRESS is required"},
  };
  for (const Case& c : cases) {
    CliResult r = dl.Run(c.args);
    std::string line;
    for (const auto& a : c.args) line += " " + a;
    INFO("dirledger" << line << ": " << r.Describe());
    REQUIRE(r.exit_code == 2);
    REQUIRE(Contains(r.err, c.says));
  }
}

TEST_CASE("config errors exit 2 and name file, line, key and what is allowed",
          "[e2e][cli]") {
  TempDir tmp;
  CliRunner dl(tmp.path());
  struct Case {
    std::string name;
    std::string from;  // a line of the valid config...
    std::string text;  // ...replaced by this
    int line_offset;   // the error's line: that of `from`, plus this
    std::vector<std::string> says;
  };
  const std::string valid = ValidConfig();
  const std::vector<Case> cases = {
      {"direction",
       "direction = \"ldap_to_axigen\"",
       "direction = \"sideways\"",
       0,
       {"connector \"corp\": direction = \"sideways\" is not allowed; "
        "allowed: ldap_to_axigen, axigen_to_ldap, both_ways"}},
      {"resolution without both_ways",
       "direction = \"ldap_to_axigen\"",
       "direction = \"ldap_to_axigen\"\nconflict_resolution = \"ldap_wins\"",
       1,
       {"connector \"corp\": conflict_resolution is only allowed with "
        "direction = \"both_ways\" (direction is \"ldap_to_axigen\")"}},
      {"both_ways without resolution",
       "direction = \"ldap_to_axigen\"",
       "direction = \"both_ways\"",
       0,
       {"needs conflict_resolution (ldap_wins, axigen_wins or no_change)"}},
      {"unknown key",
       "fsync = false",
       "fsync = false\nsync_everything = true",
       1,
       {"top level: unknown key \"sync_everything\"; allowed: data_dir, "
        "log_level, batch_size, fsync, backup_keep, mail, connector, "
        "domain"}},
      {"password in the config",
       "bind_dn",
       "bind_password = \"hunter2\"\nbind_dn",
       0,
       {"connector \"corp\": unknown key \"bind_password\"",
        "use bind_password_file or bind_password_env"}},
      {"threshold",
       "delete_threshold = 500",
       "delete_threshold = -1",
       0,
       {"connector \"corp\": delete_threshold must be >= 0"}},
      {"uri",
       std::string("uris = [\"") + kNoServer + "\"]",
       "uris = [\"http://127.0.0.1\"]",
       0,
       {"connector \"corp\": \"http://127.0.0.1\" is not an ldap://, "
        "ldaps:// or ldapi:// URI"}},
      {"undefined connector",
       "connector = \"corp\"",
       "connector = \"hr\"",
       0,
       {"domain \"example.com\": connector \"hr\" is not defined; defined "
        "connectors: corp"}},
      {"wrong type",
       "timeout_s = 10",
       "timeout_s = \"ten\"",
       0,
       {"connector \"corp\": timeout_s must be a number"}},
      {"out of range",
       "timeout_s = 10",
       "timeout_s = 0",
       0,
       {"timeout_s = 0 is out of range; allowed 0.01 to 3600"}},
      {"mail kind",
       "kind = \"embedded\"",
       "kind = \"exchange\"",
       0,
       {"[mail]: kind = \"exchange\" is not allowed; allowed: embedded, "
        "axigen"}},
      {"unclosed string",
       "data_dir = \"./data\"",
       "data_dir = \"./data",
       0,
       {"a single-line string is not closed"}},
  };
  for (const Case& c : cases) {
    std::string text = valid;
    const size_t at = text.find(c.from);
    REQUIRE(at != std::string::npos);
    const int line =
        1 +
        static_cast<int>(std::count(text.begin(), text.begin() + at, '\n')) +
        c.line_offset;
    text.replace(at, c.from.size(), c.text);
    dl.WriteConfig(text);
    for (const std::vector<std::string>& command :
         {std::vector<std::string>{"status"},
          {"run", "--once"},
          {"verify"},
          {"mail", "list"}}) {
      CliResult r = dl.Run(command);
      INFO(c.name << ", dirledger " << command[0] << ":\n"
                  << text << "\n"
                  << r.Describe());
      REQUIRE(r.exit_code == 2);
      REQUIRE(Contains(r.err,
                       dl.config_path() + ":" + std::to_string(line) + ": "));
      for (const std::string& s : c.says) REQUIRE(Contains(r.err, s));
    }
  }

  SECTION("a missing config file") {
    CliResult r = dl.RunRaw({"--config", tmp / "nope.toml", "status"});
    REQUIRE(r.exit_code == 2);
    REQUIRE(Contains(r.err, tmp / "nope.toml"));
    REQUIRE(Contains(r.err, "No such file or directory"));
  }

  SECTION("a custom schema file with an unknown key") {
    WriteFile(tmp / "schema.toml",
              "[account]\nname = \"uid\"\n\n[account.fields]\n"
              "firstName = \"givenName\"\nshoeSize = \"x-shoe\"\n");
    std::string text = valid;
    text.replace(text.find("delete_threshold"), 0,
                 "custom_schema_file = \"schema.toml\"\n");
    dl.WriteConfig(text);
    CliResult r = dl.Run({"run", "--once"});
    INFO(r.Describe());
    REQUIRE(r.exit_code == 2);
    REQUIRE(Contains(r.err,
                     "schema.toml:6: [account.fields] unknown field "
                     "\"shoeSize\"; allowed: firstName, lastName"));
  }
}

TEST_CASE("mail list, show, add, set and remove", "[e2e][cli][mail]") {
  TempDir tmp;
  CliRunner dl(tmp.path());
  dl.WriteConfig(ValidConfig());
  WriteFile(tmp / "ada.pw", "correct horse battery\n");

  auto add =
      dl.Run({"mail", "add", "ada@example.com", "firstName=Ada",
              "lastName=Lovelace", "title=Analyst", "aliases=ada.l@example.com",
              "--password-file", tmp / "ada.pw", "--json"});
  INFO(add.Describe());
  REQUIRE(add.exit_code == 0);
  auto ada = add.Json()[0];
  REQUIRE(ada["address"] == "ada@example.com");
  REQUIRE(ada["kind"] == "account");
  REQUIRE(ada["firstName"] == "Ada");
  REQUIRE(ada["password_set"] == true);
  REQUIRE(ada["aliases"] == nlohmann::json::array({"ada.l@example.com"}));

  REQUIRE(
      dl.Run({"mail", "add", "bob@example.com", "firstName=Bob"}).exit_code ==
      0);
  REQUIRE(dl.Run({"mail", "add", "staff@example.com", "kind=group",
                  "displayName=Staff", "members=ada@example.com",
                  "members+=bob@example.com"})
              .exit_code == 0);

  // list: JSON lines with the address and the fields by their Axigen names.
  auto list = dl.Run({"mail", "list", "--json"});
  REQUIRE(list.exit_code == 0);
  auto lines = list.Json();
  REQUIRE(lines.size() == 3);
  REQUIRE(lines[0]["address"] == "ada@example.com");
  REQUIRE(lines[0]["lastName"] == "Lovelace");
  REQUIRE(lines[2]["address"] == "staff@example.com");
  REQUIRE(lines[2]["members"] ==
          nlohmann::json::array({"ada@example.com", "bob@example.com"}));
  auto text = dl.Run({"mail", "list", "--domain", "example.com"});
  REQUIRE(text.exit_code == 0);
  REQUIRE(Contains(text.out, "ada@example.com  account  Ada Lovelace"));
  REQUIRE(Contains(text.err, "3 objects"));
  REQUIRE(dl.Run({"mail", "list", "--domain", "example.org", "--json"})
              .out.empty());

  // set: =, += and -=, and an empty value clears.
  auto set =
      dl.Run({"mail", "set", "ada@example.com", "title=", "department=Research",
              "aliases+=countess@example.com", "aliases-=ada.l@example.com",
              "--json"});
  INFO(set.Describe());
  REQUIRE(set.exit_code == 0);
  auto shown = dl.Run({"mail", "show", "ada@example.com", "--json"}).Json()[0];
  REQUIRE_FALSE(shown.contains("title"));
  REQUIRE(shown["department"] == "Research");
  REQUIRE(shown["aliases"] == nlohmann::json::array({"countess@example.com"}));
  auto show_text = dl.Run({"mail", "show", "ada@example.com"});
  REQUIRE(Contains(show_text.out, "ada@example.com (account)"));
  REQUIRE(Contains(show_text.out, "department: Research"));

  // A password is never shown.
  for (const auto& r : {add, set, list, show_text})
    REQUIRE_FALSE(Contains(r.out + r.err, "correct horse"));

  // Errors: unknown field (2), bad address (2), nothing to set (2), no such
  // object (1), already there (1).
  auto unknown = dl.Run({"mail", "set", "ada@example.com", "shoeSize=9"});
  REQUIRE(unknown.exit_code == 2);
  REQUIRE(Contains(unknown.err, "unknown account field \"shoeSize\""));
  REQUIRE(Contains(unknown.err, "firstName, lastName"));
  REQUIRE(dl.Run({"mail", "add", "not-an-address"}).exit_code == 2);
  REQUIRE(dl.Run({"mail", "set", "ada@example.com"}).exit_code == 2);
  auto missing = dl.Run({"mail", "show", "nobody@example.com"});
  REQUIRE(missing.exit_code == 1);
  REQUIRE(Contains(missing.err, "nobody@example.com"));
  auto twice = dl.Run({"mail", "add", "bob@example.com"});
  REQUIRE(twice.exit_code != 0);
  REQUIRE(Contains(twice.err, "bob@example.com"));

  // remove.
  auto removed = dl.Run({"mail", "remove", "bob@example.com"});
  REQUIRE(removed.exit_code == 0);
  REQUIRE(Contains(removed.out, "removed bob@example.com"));
  REQUIRE(dl.Run({"mail", "show", "bob@example.com"}).exit_code == 1);
  REQUIRE(dl.Run({"mail", "remove", "bob@example.com"}).exit_code == 1);
  REQUIRE(dl.Run({"mail", "list", "--json"}).Json().size() == 2);
}

}  // namespace
}  // namespace dirledger::test

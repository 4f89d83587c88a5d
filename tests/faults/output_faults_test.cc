// What dirledger prints, under faults and attack, end to end through the
// `dirledger` command against a real slapd (127.0.0.1:4171): output that
// cannot be written (standard output on a full disk, here /dev/full) is a
// failure with exit 1 and a message, never a silently cut report; and a
// directory value holding CR, LF or ESC shows escaped in the text output,
// so it cannot forge lines or escape sequences on an auditor's terminal.
#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "codecs/ldif.h"
#include "tests/faults/dirledger_cli.h"
#include "tests/faults/fault_util.h"
#include "tests/support/slapd_server.h"
#include "tests/support/temp_dir.h"

namespace dirledger::test {
namespace {

// Standard output on /dev/full: every write to it fails with ENOSPC.
CliOptions ToDevFull() {
  CliOptions o;
  o.in_child = [] {
    const int fd = open("/dev/full", O_WRONLY);
    if (fd >= 0) dup2(fd, 1);
  };
  return o;
}

TEST_CASE(
    "standard output that cannot be written: every command exits 1 and "
    "says so",
    "[faults][output][integration]") {
  TempDir tmp;
  SlapdServer slapd(tmp / "slapd", 4171, 300);
  DirledgerCli cli(tmp.path());
  cli.WriteConfig(TestConfig::For(slapd).ToToml());
  CliResult r = cli.Run({"run", "--once"});
  INFO(r.text());
  REQUIRE(r.exit_code == 0);
  const std::string address = PersonUid(1) + "@example.com";

  const std::vector<std::vector<std::string>> commands{
      {"status"},
      {"status", "--json"},
      {"log"},
      {"log", "--json"},
      {"explain", address},
      {"export", "--side", "mail"},
      {"export", "--side", "ldap", "--format", "json"},
      {"mail", "list"},
      {"mail", "show", address},
      {"verify"},
      {"replay"},
      {"--help"},
  };
  for (const auto& args : commands) {
    std::string line;
    for (const auto& a : args) line += a + " ";
    INFO(line);
    // Whole, to a file: it works, and prints something.
    CliResult fine = cli.Run(args);
    INFO(fine.text());
    CHECK(fine.exit_code == 0);
    CHECK(!fine.out.empty());
    CliResult full = cli.Run(args, ToDevFull());
    INFO(full.text());
    CHECK(full.exit_code == 1);
    CHECK(
        full.err.find("writing to standard output: No space left on device") !=
        std::string::npos);
  }
}

TEST_CASE(
    "a directory value with CR, LF and ESC shows escaped in explain, log, "
    "status and mail show",
    "[faults][output][integration]") {
  TempDir tmp;
  SlapdServer slapd(tmp / "slapd", 4172, 5);
  DirledgerCli cli(tmp.path());
  cli.WriteConfig(TestConfig::For(slapd).ToToml());
  // A title that, printed raw, would end the line and print a forged one
  // in red.
  const std::string forged =
      "Clerk\r\n42  2026-01-01T00:00:00Z  ldap  approve by root\x1b[31m!";
  REQUIRE(slapd.Modify("dn: " + PersonDn(2) +
                       "\nchangetype: modify\nreplace: title\ntitle:: " +
                       Base64Encode(forged) + "\n\n") == 0);
  CliResult r = cli.Run({"run", "--once"});
  INFO(r.text());
  REQUIRE(r.exit_code == 0);
  const std::string address = PersonUid(2) + "@example.com";
  const std::string escaped =
      "Clerk\\r\\n42  2026-01-01T00:00:00Z  ldap  approve by root\\x1b[31m!";

  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"explain", address},
        std::vector<std::string>{"mail", "show", address}}) {
    INFO(args[0]);
    CliResult shown = cli.Run(args);
    INFO(shown.text());
    REQUIRE(shown.exit_code == 0);
    CHECK(shown.out.find(escaped) != std::string::npos);
    CHECK(shown.out.find('\r') == std::string::npos);
    CHECK(shown.out.find('\x1b') == std::string::npos);
    CHECK(shown.out.find("\n42  2026") == std::string::npos);
  }
  // JSON keeps the value exact (escaped by JSON itself).
  CliResult json = cli.Run({"mail", "show", address, "--json"});
  INFO(json.text());
  REQUIRE(json.exit_code == 0);
  const auto lines = JsonLines(json.out);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0]["title"] == forged);
}

}  // namespace
}  // namespace dirledger::test

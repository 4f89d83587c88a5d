// Password files that cannot serve, end to end through the `dirledger`
// command against a real slapd (127.0.0.1:4174): an empty file, or a
// directory named as one, would be read as an empty password and the bind
// would go out unauthenticated; dirledger refuses them (exit 2, naming the
// file and the cause) before it opens anything. A file its group or others
// may read is used, with one warning naming it.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "tests/faults/dirledger_cli.h"
#include "tests/faults/fault_util.h"
#include "tests/support/slapd_server.h"
#include "tests/support/temp_dir.h"

namespace dirledger::test {
namespace {

namespace fs = std::filesystem;

std::size_t Count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto p = text.find(what); p != std::string::npos;
       p = text.find(what, p + 1))
    ++n;
  return n;
}

TEST_CASE(
    "an empty password file, or a directory given as one, is refused; a "
    "shared one is warned about",
    "[faults][secrets][integration]") {
  TempDir tmp;
  SlapdServer slapd(tmp / "slapd", 4174, 10);
  DirledgerCli cli(tmp.path());
  TestConfig c = TestConfig::For(slapd);
  const std::string pw = tmp / "bind.pw";

  SECTION("refused") {
    std::string cause;
    SECTION("an empty file") {
      std::ofstream(pw).flush();
      cause = "is empty";
    }
    SECTION("a file holding only a newline") {
      std::ofstream(pw) << "\n";
      cause = "is empty";
    }
    SECTION("a directory") {
      fs::create_directories(pw);
      cause = "is a directory";
    }
    c.password_file = pw;
    cli.WriteConfig(c.ToToml());
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"run", "--once"},
          std::vector<std::string>{"run"}}) {
      INFO(args.size());
      CliResult r = cli.Run(args);
      INFO(r.text());
      CHECK(r.exit_code == 2);
      CHECK(r.err.find("password file " + pw + " " + cause) !=
            std::string::npos);
      CHECK(r.err.find("corp") != std::string::npos);
    }
    // Refused before anything was opened or written.
    CHECK(!fs::exists(tmp / "data/log"));
  }
  SECTION("readable by others: used, with one warning") {
    fs::copy_file(slapd.password_file(), pw);
    REQUIRE(chmod(pw.c_str(), 0644) == 0);
    c.password_file = pw;
    cli.WriteConfig(c.ToToml());
    CliResult r = cli.Run({"run", "--once"});
    INFO(r.text());
    CHECK(r.exit_code == 0);
    CHECK(MailAddresses(cli).size() == 10);
    CHECK(Count(r.err, "password file " + pw +
                           " can be read by its group and others") == 1);
    CHECK(r.err.find("chmod 600 " + pw) != std::string::npos);
    // Private again: no warning.
    REQUIRE(chmod(pw.c_str(), 0600) == 0);
    r = cli.Run({"run", "--once"});
    INFO(r.text());
    CHECK(r.exit_code == 0);
    CHECK(r.err.find("can be read by") == std::string::npos);
  }
}

}  // namespace
}  // namespace dirledger::test

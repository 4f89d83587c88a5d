// Errors on opening the data dir or writing a backup that must name their
// real cause and path, end to end through the `dirledger` command against
// a real slapd (127.0.0.1:4173): a data dir on a read-only mount is not
// "in use by another process"; a log the user may not look into is not "a
// directory that does not hold the log" (whose advice, to move it away,
// would start a fresh log); a full backup target is not "the disk under
// the data dir". Tests run as root, which permission bits do not stop: the
// child drops to user nobody, or gets a mount namespace of its own with a
// read-only bind mount or a tiny tmpfs.
#include <grp.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "tests/faults/dirledger_cli.h"
#include "tests/faults/fault_util.h"
#include "tests/support/slapd_server.h"
#include "tests/support/temp_dir.h"

namespace dirledger::test {
namespace {

namespace fs = std::filesystem;

constexpr uid_t kNobody = 65534;

// The child in a mount namespace of its own (nothing it mounts is seen by
// anyone else), its mounts private.
bool OwnMounts() {
  return unshare(CLONE_NEWNS) == 0 &&
         mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0;
}

TEST_CASE(
    "opening the data dir or writing a backup fails: the message names the "
    "real cause and the path",
    "[faults][open][integration]") {
  TempDir tmp;
  SlapdServer slapd(tmp / "slapd", 4173, 20);
  DirledgerCli cli(tmp.path());
  cli.WriteConfig(TestConfig::For(slapd).ToToml());
  CliResult r = cli.Run({"run", "--once"});
  INFO(r.text());
  REQUIRE(r.exit_code == 0);
  const std::string data = tmp / "data";
  const std::uint64_t seq = LastSeq(cli);
  REQUIRE(seq > 0);

  SECTION("the data dir on a read-only mount") {
    CliOptions ro;
    ro.in_child = [data] {
      if (!OwnMounts() ||
          mount(data.c_str(), data.c_str(), nullptr, MS_BIND, nullptr) != 0 ||
          mount(nullptr, data.c_str(), nullptr,
                MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) != 0)
        _exit(125);
    };
    r = cli.Run({"run", "--once"}, ro);
    INFO(r.text());
    REQUIRE(r.exit_code != 125);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("Read-only file system") != std::string::npos);
    CHECK(r.err.find(data + "/log") != std::string::npos);
    CHECK(r.err.find("in use") == std::string::npos);
    // Reading still works there.
    r = cli.Run({"status"}, ro);
    INFO(r.text());
    CHECK(r.exit_code == 0);
  }
  SECTION("a user who may not look into the log") {
    // The data dir is the user's, the log in it root's (0700), as after a
    // run as root: the user's command must not take the log for a stranger.
    REQUIRE(chmod(tmp.path().c_str(), 0755) == 0);
    REQUIRE(chmod(cli.config_path().c_str(), 0644) == 0);
    REQUIRE(chown(data.c_str(), kNobody, kNobody) == 0);
    CliOptions nobody;
    nobody.in_child = [] {
      if (setgroups(0, nullptr) != 0 || setgid(kNobody) != 0 ||
          setuid(kNobody) != 0)
        _exit(125);
    };
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"backup", tmp / "backup"},
          std::vector<std::string>{"status"}}) {
      INFO(args[0]);
      r = cli.Run(args, nobody);
      INFO(r.text());
      REQUIRE(r.exit_code != 125);
      CHECK(r.exit_code == 1);
      CHECK(r.err.find("Permission denied") != std::string::npos);
      CHECK(r.err.find(data + "/log") != std::string::npos);
      CHECK(r.err.find("move it away") == std::string::npos);
      CHECK(r.err.find("no dirledger log") == std::string::npos);
    }
    // Nothing was made beside the log, and the log is whole.
    for (const auto& e : fs::directory_iterator(data))
      CHECK(e.path().filename().string().find(".creating.") ==
            std::string::npos);
    CHECK(LastSeq(cli) == seq);
  }
  SECTION("a backup target whose disk is full") {
    const std::string target = tmp / "small";
    fs::create_directories(target);
    CliOptions tiny;
    tiny.in_child = [target] {
      if (!OwnMounts() ||
          mount("tmpfs", target.c_str(), "tmpfs", 0, "size=4k,mode=0700") != 0)
        _exit(125);
    };
    r = cli.Run({"backup", target + "/b1"}, tiny);
    INFO(r.text());
    REQUIRE(r.exit_code != 125);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("No space left on device") != std::string::npos);
    CHECK(r.err.find("the disk under " + target + "/b1") != std::string::npos);
    CHECK(r.err.find("the disk under the data dir") == std::string::npos);
  }
  CHECK(VerifyClean(cli));
}

}  // namespace
}  // namespace dirledger::test

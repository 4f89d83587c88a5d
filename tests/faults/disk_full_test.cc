// The disk under the data dir filling up, end to end through `dirledger
// run` against a real slapd (127.0.0.1:4140-4144). The data dir is a small
// tmpfs this test mounts (as root, or inside a user and mount namespace it
// creates) and unmounts; it is filled with a file, so dirledger meets
// ENOSPC while it opens its databases or while it commits a refresh. What
// must hold: a clear error that names the disk, a log `verify` finds
// intact, and once space returns the next run takes everything in, once.
// A second case limits the file size instead (RLIMIT_FSIZE: EFBIG).
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "tests/faults/dirledger_cli.h"
#include "tests/faults/fault_util.h"
#include "tests/support/slapd_server.h"
#include "tests/support/temp_dir.h"

namespace dirledger::test {
namespace {

namespace fs = std::filesystem;

bool WriteFileText(const std::string& path, const std::string& text) {
  std::ofstream f(path);
  f << text;
  return static_cast<bool>(f);
}

// Mounts a tmpfs of `mb` MB at `dir`; as a user without the right, first
// enters a new user and mount namespace (this process is single-threaded
// here, and the servers and commands it starts later inherit it). Returns
// "" or why it cannot.
std::string MountTmpfs(const std::string& dir, int mb) {
  const std::string opts = "size=" + std::to_string(mb) + "m,mode=0700";
  if (mount("tmpfs", dir.c_str(), "tmpfs", 0, opts.c_str()) == 0) return "";
  if (errno != EPERM) return std::string("mount: ") + std::strerror(errno);
  const uid_t uid = getuid();
  const gid_t gid = getgid();
  if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0)
    return std::string("mount needs root, and unshare failed: ") +
           std::strerror(errno);
  WriteFileText("/proc/self/setgroups", "deny");
  if (!WriteFileText("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1") ||
      !WriteFileText("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1"))
    return "cannot map ids in the new user namespace";
  if (mount("tmpfs", dir.c_str(), "tmpfs", 0, opts.c_str()) != 0)
    return std::string("mount in a user namespace: ") + std::strerror(errno);
  return "";
}

// Fills the filesystem of `dir` with `file` until fewer than `leave` bytes
// are free.
void Fill(const std::string& file, std::uintmax_t leave) {
  const int fd = open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  REQUIRE(fd >= 0);
  std::string chunk(64 << 10, 'f');
  for (;;) {
    const auto space = fs::space(fs::path(file).parent_path());
    if (space.available <= leave) break;
    const std::size_t n = static_cast<std::size_t>(
        std::min<std::uintmax_t>(chunk.size(), space.available - leave));
    if (write(fd, chunk.data(), n) <= 0) break;
  }
  fsync(fd);
  close(fd);
}

std::string Modifies(int from, int to, const std::string& title) {
  std::string ldif;
  for (int i = from; i <= to; ++i)
    ldif += "dn: " + PersonDn(i) + "\nchangetype: modify\nreplace: title\n" +
            "title: " + title + "\n\n";
  return ldif;
}

struct Mounted {
  explicit Mounted(std::string d) : dir(std::move(d)) {}
  ~Mounted() { umount2(dir.c_str(), MNT_DETACH); }
  std::string dir;
};

TEST_CASE(
    "the disk under the data dir fills up: a clear error, an intact "
    "log, and the run resumes once space returns",
    "[faults][disk][integration]") {
  TempDir tmp;
  fs::create_directories(tmp / "data");
  // Room for the first sync: RocksDB preallocates each database's WAL file
  // (up to its memtable budget, 64 MiB for the log and 32 MiB for the mail
  // directory) where the file system allows it, as tmpfs does.
  const std::string why = MountTmpfs(tmp / "data", 160);
  INFO(why);
  REQUIRE(why.empty());
  Mounted mounted(tmp / "data");
  constexpr int kPeople = 1000;
  SlapdServer slapd(tmp / "slapd", 4140, kPeople);
  DirledgerCli cli(tmp.path());
  TestConfig c = TestConfig::For(slapd);
  cli.WriteConfig(c.ToToml());
  CliResult r = cli.Run({"run", "--once"});
  INFO(r.text());
  REQUIRE(r.exit_code == 0);
  REQUIRE(MailAddresses(cli).size() == kPeople);

  // A long title for everyone: more bytes than the space left.
  const std::string title = "Full " + std::string(1500, 't');
  REQUIRE(slapd.Modify(Modifies(1, kPeople, title)) == 0);
  const std::string filler = tmp / "data/filler";
  std::string when;
  SECTION("no space at all: dirledger cannot even open its log") {
    Fill(filler, 0);
    when = "at open";
  }
  SECTION("some space: the refresh runs out of it") {
    // A backup flushes what the first run left in the write-ahead logs, so
    // opening needs little room; the refresh then needs more than is left.
    r = cli.Run({"backup", tmp / "backup"});
    REQUIRE(r.exit_code == 0);
    Fill(filler, 1 << 20);
    when = "during the refresh";
  }
  INFO("full " << when);
  r = cli.Run({"run", "--once"});
  INFO(r.text());
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("No space left on device") != std::string::npos);
  CHECK(r.err.find("the disk under the data dir is full") != std::string::npos);

  // Read-only commands work on the full disk, and the log is intact.
  std::string verify;
  CHECK(VerifyClean(cli, &verify));
  INFO(verify);

  // Space returns.
  fs::remove(filler);
  r = cli.Run({"run", "--once"});
  INFO(r.text());
  REQUIRE(r.exit_code == 0);
  const auto mail = MailObjects(cli);
  CHECK(mail.size() == kPeople);
  int updated = 0;
  for (const auto& [address, j] : mail)
    updated += j.value("title", "") == title;
  CHECK(updated == kPeople);
  LogFigures f = ReadLog(cli);
  CHECK(f.duplicate_outcomes.empty());
  CHECK(f.failed_outcomes == 0);
  CHECK(PendingIntents(cli) == 0);
  CHECK(VerifyClean(cli, &verify));
}

TEST_CASE(
    "a file size limit (RLIMIT_FSIZE) reached under the data dir: a "
    "clear error, an intact log, and the run resumes without it",
    "[faults][disk][integration]") {
  TempDir tmp;
  constexpr int kPeople = 1000;
  SlapdServer slapd(tmp / "slapd", 4141, kPeople);
  DirledgerCli cli(tmp.path());
  TestConfig c = TestConfig::For(slapd);
  cli.WriteConfig(c.ToToml());
  CliResult r = cli.Run({"run", "--once"});
  INFO(r.text());
  REQUIRE(r.exit_code == 0);

  const std::string title = "Limit " + std::string(1500, 't');
  REQUIRE(slapd.Modify(Modifies(1, kPeople, title)) == 0);
  CliOptions limited;
  limited.in_child = [] {
    struct rlimit lim = {256 << 10, 256 << 10};
    setrlimit(RLIMIT_FSIZE, &lim);
    signal(SIGXFSZ, SIG_IGN);  // EFBIG instead of a kill
  };
  r = cli.Run({"run", "--once"}, limited);
  INFO(r.text());
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("File too large") != std::string::npos);
  CHECK(r.err.find("file size limit") != std::string::npos);
  std::string verify;
  CHECK(VerifyClean(cli, &verify));
  INFO(verify);

  r = cli.Run({"run", "--once"});
  INFO(r.text());
  REQUIRE(r.exit_code == 0);
  int updated = 0;
  for (const auto& [address, j] : MailObjects(cli))
    updated += j.value("title", "") == title;
  CHECK(updated == kPeople);
  CHECK(ReadLog(cli).duplicate_outcomes.empty());
  CHECK(PendingIntents(cli) == 0);
  CHECK(VerifyClean(cli, &verify));
}

}  // namespace
}  // namespace dirledger::test

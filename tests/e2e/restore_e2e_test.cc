// End to end: backups and restores that cannot leave a mix, and the
// retention of automatic backups. A restore killed (SIGKILL, at the named
// crash points of engine/backup) at each of its steps leaves, for the next
// command, the data dir as it was or as the backup has it, whole, and
// `verify` is clean; a backup killed before it is complete leaves nothing
// that restores; `restore` refuses an incomplete backup and one of another
// installation; `verify` finds a mail directory that differs from the log;
// failed first runs make one automatic backup, and backup_keep prunes.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <regex>

#include "tests/e2e/e2e_env.h"

namespace dirledger::test {
namespace {

namespace fs = std::filesystem;

constexpr int kPort = 4180;       // and the next five
constexpr int kKilled = 128 + 9;  // SIGKILL

struct Snapshot {
  std::uint64_t last_seq = 0;
  std::string head;
  std::string title;  // user000004's, in the mail directory
};

Snapshot Take(E2eEnv& env) {
  const auto st = env.LogStatus();
  return Snapshot{st["last_seq"].get<std::uint64_t>(),
                  st["head_sha256"].get<std::string>(),
                  env.MailShow("user000004@example.com")["title"]};
}

CliResult Killed(CliRunner& dl, const std::vector<std::string>& args,
                 const std::string& point) {
  auto r = dl.RunWithEnv(args, {{"DIRLEDGER_CRASH_AT", point}});
  INFO(point << ": " << r.Describe());
  REQUIRE(r.exit_code == kKilled);
  return r;
}

// "N writes would be made" of `run --dry-run`.
int DryRunWrites(CliRunner& dl) {
  auto r = dl.Run({"run", "--dry-run"});
  INFO(r.Describe());
  REQUIRE(r.exit_code == 0);
  std::smatch m;
  REQUIRE(
      std::regex_search(r.out, m, std::regex("(\\d+) writes would be made")));
  return std::stoi(m[1]);
}

std::vector<std::string> Backups(const fs::path& dir) {
  std::vector<std::string> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir))
    out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

TEST_CASE("restore killed at each step: the next command sees old or new whole",
          "[e2e][restore]") {
  E2eEnv env(kPort, 6);
  CliRunner& dl = env.cli();
  env.RunOnce();
  const std::string older = env.tmp() / "older";
  REQUIRE(dl.Run({"backup", older}).exit_code == 0);
  const Snapshot at_older = Take(env);
  REQUIRE(at_older.title == "Engineer");
  env.LdapReplace("user000004", "title", "Manager");
  env.RunOnce();
  const std::string newer = env.tmp() / "newer";
  REQUIRE(dl.Run({"backup", newer}).exit_code == 0);
  const Snapshot at_newer = Take(env);
  REQUIRE(at_newer.title == "Manager");
  REQUIRE(at_newer.head != at_older.head);

  const fs::path data = env.tmp() / "data";
  // Killed before the journal: the data dir stays as it was; after it, the
  // restore is finished by the next command.
  const std::vector<std::pair<std::string, bool>> points = {
      {"restore.after_stage_log", false}, {"restore.after_stage_mail", false},
      {"restore.after_journal", true},    {"restore.after_log_aside", true},
      {"restore.after_log_swap", true},   {"restore.after_mail_aside", true},
      {"restore.after_mail_swap", true},  {"restore.after_commit", true}};
  for (const auto& [point, restored] : points) {
    INFO("killed at " << point);
    auto back = dl.Run({"restore", newer, "--yes"});
    INFO(back.Describe());
    REQUIRE(back.exit_code == 0);
    REQUIRE(Take(env).head == at_newer.head);

    Killed(dl, {"restore", older, "--yes"}, point);
    auto v = dl.Run({"verify"});
    INFO(v.Describe());
    REQUIRE(v.exit_code == 0);
    REQUIRE(Contains(v.out, "verify: mail directory OK"));
    const Snapshot now = Take(env);
    const Snapshot& want = restored ? at_older : at_newer;
    CHECK(now.last_seq == want.last_seq);
    CHECK(now.head == want.head);
    CHECK(now.title == want.title);
    for (const char* leftover :
         {"log.replaced", "log.restoring", "mail.replaced", "mail.restoring",
          "restore-journal.json"})
      CHECK_FALSE(fs::exists(data / leftover));
    // The log and the mail directory agree: the next run plans the one
    // change LDAP has beyond the older backup, or nothing.
    CHECK(DryRunWrites(dl) == (restored ? 1 : 0));
  }
}

TEST_CASE("verify finds a mail directory that differs from the log",
          "[e2e][restore]") {
  E2eEnv env(kPort + 1, 6);
  CliRunner& dl = env.cli();
  env.RunOnce();
  const std::string older = env.tmp() / "older";
  REQUIRE(dl.Run({"backup", older}).exit_code == 0);
  env.LdapReplace("user000004", "title", "Manager");
  env.RunOnce();
  REQUIRE(dl.Run({"verify"}).exit_code == 0);
  const fs::path data = env.tmp() / "data";
  const std::string newer = env.tmp() / "newer";
  REQUIRE(dl.Run({"backup", newer}).exit_code == 0);

  SECTION("the mail directory older than the log") {
    fs::remove_all(data / "mail");
    fs::copy(fs::path(older) / "mail", data / "mail",
             fs::copy_options::recursive);
    auto v = dl.Run({"verify"});
    INFO(v.Describe());
    REQUIRE(v.exit_code == 1);
    REQUIRE(Contains(v.out, "verify: FAILED: mail directory"));
    REQUIRE(Contains(v.out,
                     "user000004@example.com: title: the log says "
                     "\"Manager\", the mail directory has \"Engineer\""));
  }
  SECTION("the log older than the mail directory (an old restore's mix)") {
    fs::remove_all(data / "log");
    fs::copy(fs::path(older) / "log", data / "log",
             fs::copy_options::recursive);
    auto v = dl.Run({"verify"});
    INFO(v.Describe());
    REQUIRE(v.exit_code == 1);
    REQUIRE(Contains(v.out, "user000004@example.com: mail directory change"));
    REQUIRE(Contains(v.out, "the mail directory is newer than the log"));
  }
  SECTION("an object edited behind the log's back is compared once read") {
    // An edit the log has not read yet is not a difference...
    REQUIRE(dl.Run({"mail", "set", "user000003@example.com", "title=Edited"})
                .exit_code == 0);
    auto v = dl.Run({"verify"});
    INFO(v.Describe());
    REQUIRE(v.exit_code == 0);
    REQUIRE(Contains(v.out, "changed since the log last read it"));
  }
}

TEST_CASE("a backup killed before it is complete leaves nothing that restores",
          "[e2e][restore]") {
  E2eEnv env(kPort + 2, 4);
  CliRunner& dl = env.cli();
  env.RunOnce();
  const Snapshot before = Take(env);
  for (const char* point :
       {"backup.after_log", "backup.after_mail", "backup.before_rename"}) {
    INFO("killed at " << point);
    const std::string dir = env.tmp() / (std::string("b-") + point);
    Killed(dl, {"backup", dir}, point);
    REQUIRE_FALSE(fs::exists(dir));
    REQUIRE(fs::exists(dir + ".partial"));
    auto r = dl.Run({"restore", dir, "--yes"});
    INFO(r.Describe());
    REQUIRE(r.exit_code == 2);
    REQUIRE(Contains(r.err, "does not exist"));
    // Even given by its own name, the unfinished one is refused.
    auto p = dl.Run({"restore", dir + ".partial", "--yes"});
    INFO(p.Describe());
    REQUIRE(p.exit_code == 2);
    REQUIRE(Contains(p.err, "is incomplete"));
    // The data dir is untouched, and the backup can be made again.
    REQUIRE(Take(env).head == before.head);
    auto again = dl.Run({"backup", dir});
    INFO(again.Describe());
    REQUIRE(again.exit_code == 0);
    REQUIRE_FALSE(fs::exists(dir + ".partial"));
    REQUIRE(fs::exists(fs::path(dir) / "dirledger-backup.json"));
  }
}

TEST_CASE("restore refuses an incomplete backup and another installation's",
          "[e2e][restore]") {
  E2eEnv env(kPort + 3, 4);
  CliRunner& dl = env.cli();
  env.RunOnce();
  const Snapshot before = Take(env);
  auto make = [&](const std::string& name) {
    const std::string dir = env.tmp() / name;
    REQUIRE(dl.Run({"backup", dir}).exit_code == 0);
    return dir;
  };
  auto refused = [&](const std::string& dir, const std::string& why) {
    auto r = dl.Run({"restore", dir, "--yes"});
    INFO(r.Describe());
    REQUIRE(r.exit_code == 2);
    REQUIRE(Contains(r.err, "restore refused"));
    REQUIRE(Contains(r.err, why));
    REQUIRE(Take(env).head == before.head);
  };

  const std::string no_mail = make("no-mail");
  fs::remove_all(fs::path(no_mail) / "mail");
  refused(no_mail,
          "is incomplete: its manifest lists the embedded mail "
          "directory, but " +
              no_mail + "/mail is missing");

  const std::string no_log = make("no-log");
  fs::remove_all(fs::path(no_log) / "log");
  refused(no_log, "its log (" + no_log + "/log) is missing");

  const std::string no_manifest = make("no-manifest");
  fs::remove(fs::path(no_manifest) / "dirledger-backup.json");
  refused(no_manifest, "is incomplete: it has no dirledger-backup.json");

  const std::string other_head = make("other-head");
  {
    const fs::path m = fs::path(other_head) / "dirledger-backup.json";
    std::string text = ReadFile(m);
    const auto at = text.find("\"last_seq\": ");
    REQUIRE(at != std::string::npos);
    text.insert(at + 12, "1");
    WriteFile(m, text);
  }
  refused(other_head, "its manifest says seq 1");

  // Another installation: a second data dir synced from the same LDAP.
  E2eConfig other;
  other.data_dir = "./other";
  const std::string main_config = ReadFile(dl.config_path());
  env.WriteConfig(other);
  env.RunOnce();
  const std::string foreign = env.tmp() / "foreign";
  REQUIRE(dl.Run({"backup", foreign}).exit_code == 0);
  dl.WriteConfig(main_config);
  auto r = dl.Run({"restore", foreign, "--yes"});
  INFO(r.Describe());
  REQUIRE(r.exit_code == 2);
  REQUIRE(Contains(r.err, "is of installation "));
  REQUIRE(Contains(r.err, "the backup is of another installation"));
  REQUIRE(Take(env).head == before.head);
  auto forced = dl.Run({"restore", foreign, "--yes", "--other-installation"});
  INFO(forced.Describe());
  REQUIRE(forced.exit_code == 0);
  REQUIRE(dl.Run({"verify"}).exit_code == 0);
}

TEST_CASE("a backup without a mail directory restores only the log",
          "[e2e][restore]") {
  E2eEnv env(kPort + 4, 3);
  CliRunner& dl = env.cli();
  env.RunOnce();
  const std::string embedded_config = ReadFile(dl.config_path());
  E2eConfig ax;
  ax.mail_table =
      "[mail]\nkind = \"axigen\"\nhost = \"127.0.0.1\"\nport = 1\n"
      "user = \"admin\"\npassword_file = \"axigen.pw\"\n";
  env.WriteConfig(ax);
  const std::string dir = env.tmp() / "axigen-backup";
  auto b = dl.Run({"backup", dir});
  INFO(b.Describe());
  REQUIRE(b.exit_code == 0);
  REQUIRE(Contains(b.out, "no mail directory"));
  REQUIRE_FALSE(fs::exists(fs::path(dir) / "mail"));
  auto r = dl.Run({"restore", dir, "--yes"});
  INFO(r.Describe());
  REQUIRE(r.exit_code == 0);
  REQUIRE(Contains(r.out, "the backup has no mail directory; only the log"));
  // With the embedded mail directory in use, the log alone is refused.
  dl.WriteConfig(embedded_config);
  auto e = dl.Run({"restore", dir, "--yes"});
  INFO(e.Describe());
  REQUIRE(e.exit_code == 2);
  REQUIRE(Contains(e.err, "has no mail directory"));
}

TEST_CASE("failed first runs make one automatic backup; backup_keep prunes",
          "[e2e][restore]") {
  E2eEnv env(kPort + 5, 3);
  CliRunner& dl = env.cli();
  const fs::path backups = env.tmp() / "data/backups";
  // The LDAP server cannot be reached: every first run fails.
  const std::string unreachable =
      "backup_keep = 2\n" + ConfigText(E2eConfig{}, "ldap://127.0.0.1:1",
                                       env.slapd().password_file());
  dl.WriteConfig(unreachable);
  for (int i = 0; i < 3; ++i) {
    auto r = dl.Run({"run", "--once"});
    INFO(r.Describe());
    REQUIRE(r.exit_code == 1);
  }
  // One backup per log head: the first run records the mail side's first
  // poll (an empty full refresh), so the second backs up the new head and
  // the third takes that backup.
  REQUIRE(Backups(backups).size() == 2);

  // A manual backup among them is never pruned.
  REQUIRE(dl.Run({"backup", (backups / "manual").string()}).exit_code == 0);
  // New heads (a mail edit each) make new backups; the oldest go.
  std::vector<std::string> seen = Backups(backups);
  for (const char* who : {"a@example.com", "b@example.com", "c@example.com"}) {
    REQUIRE(dl.Run({"mail", "add", who}).exit_code == 0);
    auto r = dl.Run({"run", "--once"});
    INFO(r.Describe());
    REQUIRE(r.exit_code == 1);
  }
  const auto left = Backups(backups);
  INFO(left.size());
  REQUIRE(left.size() == 3);  // manual + backup_keep
  REQUIRE(std::count(left.begin(), left.end(), "manual") == 1);
  // The first automatic one was pruned.
  for (const std::string& s : seen)
    if (s != "manual") REQUIRE(std::count(left.begin(), left.end(), s) == 0);
  for (const std::string& s : left)
    REQUIRE(fs::exists(backups / s / "dirledger-backup.json"));
}

// A restore holds the data dir's lock from its first check to its last
// rename: a command that writes does not start inside it (it would write
// into the log being replaced), and a restore does not start beside one.
TEST_CASE("no command writes while a restore runs, nor restores beside one",
          "[e2e][restore]") {
  E2eEnv env(kPort + 6, 3);
  CliRunner& dl = env.cli();
  env.RunOnce();
  const std::string data = env.tmp() / "data";
  const std::string backup = env.tmp() / "b";
  REQUIRE(dl.Run({"backup", backup}).exit_code == 0);
  const std::uint64_t seq = env.LastSeq();

  // A restore in progress, as the lock says.
  const int fd =
      ::open((data + "/restore.lock").c_str(), O_RDWR | O_CREAT, 0600);
  REQUIRE(fd >= 0);
  REQUIRE(::flock(fd, LOCK_EX | LOCK_NB) == 0);
  env.LdapReplace("user000001", "title", "During");
  auto run = dl.Run({"run", "--once"});
  INFO(run.Describe());
  CHECK(run.exit_code == 1);
  CHECK(Contains(run.err, "a restore of data dir " + data + " is in progress"));
  CHECK(dl.Run({"status"}).exit_code == 0);  // reading goes on
  // So is a change of the embedded mail directory, which the restore is
  // about to replace; looking at it goes on.
  auto add = dl.Run({"mail", "add", "during@example.com"});
  INFO(add.Describe());
  CHECK(add.exit_code == 1);
  CHECK(Contains(add.err, "a restore of data dir " + data + " is in progress"));
  CHECK(dl.Run({"mail", "list"}).exit_code == 0);
  // A second restore is refused.
  auto second = dl.Run({"restore", backup, "--yes"});
  CHECK(second.exit_code == 1);
  CHECK(Contains(second.err, "restore refused"));
  ::close(fd);

  // A command that writes holds it shared: a restore then is refused.
  dl.StartService({"run"});
  WaitUntil("the service's first pass", [&] { return env.LastSeq() > seq; });
  auto beside = dl.Run({"restore", backup, "--yes"});
  INFO(beside.Describe());
  CHECK(beside.exit_code == 1);
  CHECK(Contains(beside.err, "restore refused: stop the service first"));
  REQUIRE(dl.StopService().exit_code == 0);
  // With nothing running it goes through.
  auto done = dl.Run({"restore", backup, "--yes"});
  INFO(done.Describe());
  CHECK(done.exit_code == 0);
  CHECK(env.LastSeq() == seq);
}

}  // namespace
}  // namespace dirledger::test

// End to end: operators act while the service runs, through its control
// socket (docs/operations.md, "Commands beside the running service").
// `dirledger run` against a real slapd (syncrepl refreshAndPersist), 100
// people synced, delete_threshold 20, a short delete_delay_s:
//   - the socket DATA/control.sock is there, mode 0600, while it runs, and
//     gone after;
//   - one ldapmodify deleting 30 people is held whole; `approve HOLD`, run
//     while the service keeps running, deletes the 30 accounts, prints "30
//     writes applied, 0 failed" and exits 0; `log` and `explain` show the
//     approval by the asking user (not the user the service was started
//     as); a later LDAP change still reaches the mail side;
//   - `mail set` is carried out by the service, as the SUDO_USER it was
//     run under, and `rollback --side mail` undoes it; `mail add
//     --password-file` sets the password the asking command read; `dismiss` of
//     an unknown id exits 2 with the service's message; `backup DIR` with a
//     relative DIR writes it where the asking command is (also a DIR named
//     "backup");
//     `restore` is refused ("stop the service first"); a password typed as a
//     field is refused and not in the service's log;
//   - a garbage request on the socket gets an error answer, and the service
//     goes on.
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>

#include "tests/e2e/e2e_env.h"
#include "tests/support/sanitized_build.h"

namespace dirledger::test {
namespace {

constexpr int kPort = 4215;
constexpr int kDelay = kSanitizedBuild ? 10 : 3;

// The user this test runs as, by name (what SO_PEERCRED tells the service).
std::string MyName() {
  const passwd* pw = getpwuid(getuid());
  return pw ? pw->pw_name : "uid " + std::to_string(getuid());
}

// Sends `bytes` on the socket at `path` and reads the answer until the
// service closes the connection.
std::string RawRequest(const std::string& path, const std::string& bytes) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  REQUIRE(path.size() < sizeof addr.sun_path);
  std::memcpy(addr.sun_path, path.c_str(), path.size());
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(bytes.size()));
  std::string got;
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0)
    got.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return got;
}

TEST_CASE("service: operators' commands go through its control socket",
          "[e2e][control]") {
  E2eConfig config;
  config.delete_threshold = 20;
  config.delete_delay_s = kDelay;
  config.group_sync = false;  // the search base is ou=people
  E2eEnv env(kPort, 100, config);
  CliRunner& dl = env.cli();
  const std::string socket = dl.work_dir() + "/data/control.sock";
  // Started as someone else: what the service records must be the asker.
  dl.StartService({"run"}, {{"SUDO_USER", "service-starter"}});
  WaitUntil("the first sync of 100 people",
            [&] { return MailCount(dl) == 100; });

  // --- the socket: there, a socket, 0600.
  struct stat st;
  REQUIRE(::stat(socket.c_str(), &st) == 0);
  CHECK(S_ISSOCK(st.st_mode));
  CHECK((st.st_mode & 07777) == 0600);
  CHECK(st.st_uid == getuid());

  // --- 30 deletes in one ldapmodify: one hold of 30.
  env.Ldap(DeletesLdif(1, 30));
  WaitUntil("one hold of 30 deletes", [&] {
    auto holds = StatusLines(dl, "hold");
    return holds.size() == 1 && holds[0]["deletes"] == 30;
  });
  const std::string hold_id = StatusLines(dl, "hold")[0]["hold_id"];
  CHECK(env.MailAddresses().size() == 100);

  // --- approve, the service running.
  auto approved = dl.RunWithEnv({"approve", hold_id}, {{"SUDO_USER", ""}});
  INFO(approved.Describe());
  REQUIRE(approved.exit_code == 0);
  CHECK(Contains(approved.out, "approved " + hold_id));
  CHECK(Contains(approved.out, "30 writes applied, 0 failed"));
  CHECK(env.MailAddresses().size() == 70);
  for (int i = 1; i <= 30; ++i) CHECK(env.MailShow(Address(i)).is_null());
  CHECK(StatusLines(dl, "hold").empty());
  REQUIRE(dl.service_running());

  // The approval, by the asking user.
  {
    auto log = dl.Run({"log", "--json"});
    REQUIRE(log.exit_code == 0);
    auto approvals = Where(log.Json(), "action", "approve");
    REQUIRE(approvals.size() == 1);
    CHECK(approvals[0]["actor"] == MyName());
    CHECK(approvals[0]["hold_id"] == hold_id);
    auto explained = dl.Run({"explain", hold_id});
    INFO(explained.Describe());
    REQUIRE(explained.exit_code == 0);
    CHECK(Contains(explained.out, "approve by " + MyName()));
    CHECK_FALSE(Contains(explained.out, "service-starter"));
  }

  // --- still syncing: a later LDAP change reaches the mail side.
  env.LdapReplace(Uid(50), "title", "Manager");
  WaitUntil("the new title on the mail side",
            [&] { return env.MailShow(Address(50))["title"] == "Manager"; });

  // --- mail set through the service, as the SUDO_USER it ran under.
  const std::uint64_t before_set = env.LastSeq();
  const nlohmann::json department = env.MailShow(Address(60))["department"];
  REQUIRE(department != "Ops");
  auto set = dl.RunWithEnv({"mail", "set", Address(60), "department=Ops"},
                           {{"SUDO_USER", "alice"}});
  INFO(set.Describe());
  REQUIRE(set.exit_code == 0);
  CHECK(Contains(set.out, "Ops"));
  CHECK(env.MailShow(Address(60))["department"] == "Ops");
  // The service takes its own directory's change in, as any mail change.
  WaitUntil("the mail change in the log", [&] {
    auto r =
        dl.Run({"log", "--object", Address(60), "--side", "mail", "--json"});
    for (const auto& j : r.Json())
      if (j.dump().find("Ops") != std::string::npos) return true;
    return false;
  });

  // --- rollback of the mail side to before the set, by the service: its
  // automatic backup, its writer.
  auto rolled = dl.Run({"rollback", "--to", std::to_string(before_set),
                        "--side", "mail", "--yes"});
  INFO(rolled.Describe());
  REQUIRE(rolled.exit_code == 0);
  CHECK(Contains(rolled.out, "backup before the rollback: "));
  CHECK(Contains(rolled.out, "1 writes applied, 0 failed"));
  CHECK(env.MailShow(Address(60))["department"] == department);

  // --- mail add with a password: read by the asking command, sent with
  // the request, never in the service's log.
  const std::string password_file = dl.work_dir() + "/newbie.pw";
  WriteFile(password_file, "Secr3t-Over-The-Socket\n");
  ::chmod(password_file.c_str(), 0600);
  auto added = dl.Run({"mail", "add", "newbie@example.com", "firstName=New",
                       "--password-file", password_file});
  INFO(added.Describe());
  REQUIRE(added.exit_code == 0);
  CHECK(env.MailShow("newbie@example.com")["password_set"] == true);

  // --- dismiss of an id that names no failure: the service's answer, exit 2.
  auto dismissed = dl.Run({"dismiss", "F999999"});
  INFO(dismissed.Describe());
  CHECK(dismissed.exit_code == 2);
  CHECK(Contains(dismissed.err, "there is no open failure \"F999999\""));

  // --- backup to a relative DIR: made by the service where the asker is.
  auto backup = dl.Run({"backup", "by-hand"});
  INFO(backup.Describe());
  REQUIRE(backup.exit_code == 0);
  CHECK(std::filesystem::exists(dl.work_dir() +
                                "/by-hand/dirledger-backup.json"));
  // A DIR named like the command is a DIR all the same.
  auto named = dl.Run({"backup", "backup"});
  INFO(named.Describe());
  REQUIRE(named.exit_code == 0);
  CHECK(
      std::filesystem::exists(dl.work_dir() + "/backup/dirledger-backup.json"));
  // --- a password typed as a field: refused by the command, and kept out
  // of the service's log of the request.
  auto typed =
      dl.Run({"mail", "add", "typo@example.com", "password=Typed-In-Clear"});
  INFO(typed.Describe());
  CHECK(typed.exit_code != 0);

  // --- restore refused while the service runs.
  auto restore = dl.Run({"restore", "by-hand", "--yes"});
  INFO(restore.Describe());
  CHECK(restore.exit_code == 1);
  CHECK(Contains(restore.err, "stop the service first"));

  // --- garbage on the socket: an error answer; the service goes on.
  const std::string garbage = RawRequest(socket, "not a request\n");
  CHECK(Contains(garbage, "\"exit\":2"));
  CHECK(Contains(garbage, "malformed request"));
  const std::string unknown =
      RawRequest(socket, R"({"argv":["dirledger","status"]})"
                         "\n");
  CHECK(Contains(unknown, "does not carry out `status`"));
  auto after = dl.Run({"mail", "set", Address(61), "department=Sales"});
  INFO(after.Describe());
  CHECK(after.exit_code == 0);

  // --- stopped: the requests were logged with the asker's uid; the socket
  // is gone.
  CliResult stopped = dl.StopService();
  INFO(stopped.Describe());
  REQUIRE(stopped.exit_code == 0);
  CHECK(Contains(stopped.err, "approve " + hold_id + "` from uid " +
                                  std::to_string(getuid())));
  CHECK(Contains(stopped.err, "malformed request from uid"));
  CHECK_FALSE(Contains(stopped.err, "Secr3t-Over-The-Socket"));
  CHECK_FALSE(Contains(stopped.err, "Typed-In-Clear"));
  CHECK(Contains(stopped.err, "password=(not shown)"));
  CHECK(::access(socket.c_str(), F_OK) != 0);
  // With no service, approve runs by itself again (nothing to approve).
  auto alone = dl.Run({"approve", hold_id});
  CHECK(alone.exit_code == 1);
  CHECK(Contains(alone.err, "was already approved"));
}

}  // namespace
}  // namespace dirledger::test

#include "tools/dirledger/asker_view.h"

#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "tests/support/temp_dir.h"

namespace dirledger::cli {
namespace {

// A child that sees `over` through a tmpfs of its own (its own mount
// namespace, as systemd's PrivateTmp makes one), until killed.
class ChildWithOwnTmp {
 public:
  explicit ChildWithOwnTmp(const std::string& over) {
    int ready[2];
    REQUIRE(::pipe(ready) == 0);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::close(ready[0]);
      const char ok =
          ::unshare(CLONE_NEWNS) == 0 &&
                  ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE,
                          nullptr) == 0 &&
                  ::mount("tmpfs", over.c_str(), "tmpfs", 0, "size=64k") == 0
              ? '1'
              : '0';
      (void)!::write(ready[1], &ok, 1);
      for (;;) ::pause();
    }
    ::close(ready[1]);
    char ok = '0';
    REQUIRE(::read(ready[0], &ok, 1) == 1);
    ::close(ready[0]);
    mounted_ = ok == '1';
  }
  ~ChildWithOwnTmp() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  pid_t pid() const { return pid_; }
  bool mounted() const { return mounted_; }

 private:
  pid_t pid_ = -1;
  bool mounted_ = false;
};

TEST_CASE("a directory the asker sees elsewhere is told apart", "[control]") {
  test::TempDir tmp;
  const std::string shared = tmp / "shared";
  const std::string hidden = tmp / "hidden";
  std::filesystem::create_directories(shared);
  std::filesystem::create_directories(hidden + "/backups");
  ChildWithOwnTmp child(hidden);
  // The test runs as root in CI, as mount needs.
  REQUIRE(child.mounted());

  // The same directory for both, existing or not yet made.
  CHECK_FALSE(SeenElsewhere(child.pid(), shared));
  CHECK_FALSE(SeenElsewhere(child.pid(), shared + "/new/deeper"));
  // Under the child's own tmpfs: another directory, and one it lacks.
  CHECK(SeenElsewhere(child.pid(), hidden));
  CHECK(SeenElsewhere(child.pid(), hidden + "/backups"));
  CHECK(SeenElsewhere(child.pid(), hidden + "/backups/new"));
  // Itself: always the same.
  CHECK_FALSE(SeenElsewhere(::getpid(), hidden + "/backups"));
  // No asker, or one that is gone: cannot tell, so not refused.
  CHECK_FALSE(SeenElsewhere(0, hidden));
}

}  // namespace
}  // namespace dirledger::cli

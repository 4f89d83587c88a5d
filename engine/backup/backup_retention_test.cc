// Retention of automatic backups: the oldest beyond backup_keep go, the one
// just made stays whatever the clock said, manual backups are never touched.
#include "engine/backup/backup_retention.h"

#include <catch2/catch.hpp>
#include <filesystem>

#include "engine/backup/backup_manifest.h"
#include "tests/support/temp_dir.h"

namespace dirledger {
namespace {

namespace fs = std::filesystem;

void MakeBackup(const std::string& dir, std::int64_t created_us,
                bool automatic) {
  fs::create_directories(dir);
  BackupManifest m;
  m.installation_id = "test";
  m.created_us = created_us;
  m.automatic = automatic;
  m.why = "test";
  REQUIRE(WriteManifest(dir, m).ok());
}

TEST_CASE("retention keeps the newest automatic backups and the one just made",
          "[backup]") {
  test::TempDir tmp;
  const std::string b = tmp / "backups";
  MakeBackup(b + "/a", 100, true);
  MakeBackup(b + "/b", 200, true);
  MakeBackup(b + "/c", 300, true);
  MakeBackup(b + "/manual", 50, false);
  // The backup just made, under a clock that was set back.
  MakeBackup(b + "/d", 10, true);
  std::vector<std::string> removed;
  REQUIRE(PruneAutomaticBackups(b, 2, b + "/d", &removed).ok());
  CHECK(removed == std::vector<std::string>{b + "/a", b + "/b"});
  CHECK(fs::exists(b + "/d"));
  CHECK(fs::exists(b + "/c"));
  CHECK(fs::exists(b + "/manual"));
  CHECK_FALSE(fs::exists(b + "/a.partial"));

  // Without one just made, the oldest by the clock go.
  removed.clear();
  REQUIRE(PruneAutomaticBackups(b, 1, "", &removed).ok());
  CHECK(removed == std::vector<std::string>{b + "/d"});
  CHECK(fs::exists(b + "/c"));
  // 0 keeps everything.
  removed.clear();
  REQUIRE(PruneAutomaticBackups(b, 0, "", &removed).ok());
  CHECK(removed.empty());
}

}  // namespace
}  // namespace dirledger

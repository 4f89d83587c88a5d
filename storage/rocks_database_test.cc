// RocksDatabase: creation with every family, opening by mode, the LOCK held,
// checkpoints and staged restores, on real RocksDB databases in a temp dir.
#include "storage/rocks_database.h"

#include <catch2/catch.hpp>
#include <filesystem>

#include "tests/support/temp_dir.h"

namespace dirledger {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

DatabaseSpec Spec(const std::string& dir,
                  DatabaseSpec::Mode mode = DatabaseSpec::Mode::kReadWrite) {
  DatabaseSpec spec;
  spec.dir = dir;
  spec.what = "the test database";
  spec.mode = mode;
  spec.create_if_missing = true;
  for (const char* name : {"default", "one", "two"})
    spec.families.emplace_back(name, rocksdb::ColumnFamilyOptions());
  spec.init = [](rocksdb::DB* db,
                 const std::vector<rocksdb::ColumnFamilyHandle*>& handles) {
    return RocksStatus(
        db->Put(rocksdb::WriteOptions(), handles[0], "format", "7"), "init");
  };
  spec.absent = "no test database in " + dir;
  spec.in_use = "test database " + dir + " is in use";
  return spec;
}

std::string Get(const RocksDatabase& d, std::string_view family,
                const std::string& key) {
  std::string v;
  rocksdb::Status s =
      d.db()->Get(rocksdb::ReadOptions(), d.family(family), key, &v);
  return s.ok() ? v : "(" + s.ToString() + ")";
}

}  // namespace

TEST_CASE("a database is created whole and its families found by name",
          "[rocks_database]") {
  TempDir tmp;
  const std::string dir = tmp / "db";
  {
    auto d = RocksDatabase::Open(Spec(dir));
    REQUIRE(d.ok());
    CHECK(Get(**d, "default", "format") == "7");  // init ran
    REQUIRE((*d)->family("two") != nullptr);
    CHECK((*d)->family("two") != (*d)->family("one"));
    CHECK((*d)->family("three") == nullptr);
    CHECK((*d)->families().size() == 3);
    REQUIRE((*d)->db()
                ->Put(rocksdb::WriteOptions(), (*d)->family("two"), "k", "v")
                .ok());
    // Held by this open: a second one says so.
    auto again = RocksDatabase::Open(Spec(dir));
    REQUIRE_FALSE(again.ok());
    CHECK(again.status().code() == StatusCode::kUnavailable);
    CHECK(again.status().message() == "test database " + dir + " is in use");
  }
  // Reopened read-only: the value and no init again.
  auto ro = RocksDatabase::Open(Spec(dir, DatabaseSpec::Mode::kReadOnly));
  REQUIRE(ro.ok());
  CHECK(Get(**ro, "two", "k") == "v");
}

TEST_CASE("a short run's writes stay in the write-ahead log until they add up",
          "[rocks_database]") {
  // Closing after a few writes flushes nothing (no table file per family
  // per run): the next open replays them. Once the log holds more than
  // kFlushAtCloseBytes, or more than kFlushAtCloseWalFiles files, a close
  // flushes it all and the next open replays nothing.
  TempDir tmp;
  const std::string dir = tmp / "db";
  auto count = [&](std::string_view ext, std::uintmax_t* bytes = nullptr) {
    int n = 0;
    for (const fs::directory_entry& e : fs::directory_iterator(dir))
      if (e.path().extension() == ext) {
        ++n;
        if (bytes) *bytes += e.file_size();
      }
    return n;
  };
  auto put = [](RocksDatabase& d, int from, int n, std::size_t size) {
    const std::string value(size, 'v');
    for (int i = from; i < from + n; ++i)
      REQUIRE(d.db()
                  ->Put(rocksdb::WriteOptions(), d.family("one"),
                        "k" + std::to_string(i), value)
                  .ok());
  };
  REQUIRE(RocksDatabase::Open(Spec(dir)).ok());  // made; its init flushed
  const int tables_made = count(".sst");
  for (int run = 0; run < 3; ++run) {
    auto d = RocksDatabase::Open(Spec(dir));
    REQUIRE(d.ok());
    if (run > 0)
      CHECK(Get(**d, "one", "k" + std::to_string(run * 100 - 1)) ==
            std::string(200, 'v'));
    put(**d, run * 100, 100, 200);
  }
  std::uintmax_t wal = 0;
  count(".log", &wal);
  CHECK(wal > 3 * 100 * 200);
  CHECK(count(".sst") == tables_made);
  {
    auto ro = RocksDatabase::Open(Spec(dir, DatabaseSpec::Mode::kReadOnly));
    REQUIRE(ro.ok());
    CHECK(Get(**ro, "one", "k299") == std::string(200, 'v'));
  }
  {
    // Past the bound: flushed at close.
    auto d = RocksDatabase::Open(Spec(dir));
    REQUIRE(d.ok());
    put(**d, 1000, 1 + RocksDatabase::kFlushAtCloseBytes / 4096, 4096);
  }
  wal = 0;
  count(".log", &wal);
  CHECK(wal == 0);
  CHECK(count(".sst") > tables_made);
  // Many runs writing little: the write-ahead log files stay bounded.
  for (std::size_t run = 0; run < 2 * RocksDatabase::kFlushAtCloseWalFiles;
       ++run) {
    auto d = RocksDatabase::Open(Spec(dir));
    REQUIRE(d.ok());
    put(**d, 5000 + static_cast<int>(run), 1, 10);
  }
  CHECK(count(".log") <=
        static_cast<int>(RocksDatabase::kFlushAtCloseWalFiles) + 1);
  auto ro = RocksDatabase::Open(Spec(dir, DatabaseSpec::Mode::kReadOnly));
  REQUIRE(ro.ok());
  CHECK(Get(**ro, "one", "k1000") == std::string(4096, 'v'));
  CHECK(Get(**ro, "one", "k5031") == std::string(10, 'v'));
}

TEST_CASE("a close lets the compactions that are due finish",
          "[rocks_database]") {
  // Level 0 reaches its compaction trigger just before the close: the
  // compaction is waited for, not abandoned (a run that exits at once would
  // otherwise leave it to the next run, which would begin it again).
  TempDir tmp;
  const std::string dir = tmp / "db";
  DatabaseSpec spec = Spec(dir);
  for (rocksdb::ColumnFamilyDescriptor& f : spec.families)
    f.options.level0_file_num_compaction_trigger = 4;
  auto level0_files = [](const RocksDatabase& d) {
    std::string n;
    REQUIRE(d.db()->GetProperty(
        d.family("one"), rocksdb::DB::Properties::kNumFilesAtLevelPrefix + "0",
        &n));
    return std::stoi(n);
  };
  {
    auto d = RocksDatabase::Open(spec);
    REQUIRE(d.ok());
    const std::string value(1000, 'v');
    for (int table = 0; table < 4; ++table) {
      // Each table spans the whole key range: the compaction rewrites all.
      for (int i = 0; i < 5000; ++i)
        REQUIRE((*d)->db()
                    ->Put(rocksdb::WriteOptions(), (*d)->family("one"),
                          "k" + std::to_string(i * 4 + table), value)
                    .ok());
      REQUIRE(
          (*d)->db()->Flush(rocksdb::FlushOptions(), (*d)->family("one")).ok());
    }
  }
  auto ro = RocksDatabase::Open(Spec(dir, DatabaseSpec::Mode::kReadOnly));
  REQUIRE(ro.ok());
  CHECK(level0_files(**ro) < 4);
  CHECK(Get(**ro, "one", "k19999") == std::string(1000, 'v'));
}

TEST_CASE(
    "an optional family added since the database was made is absent read-only",
    "[rocks_database]") {
  // Read-only (or following a writer) the database opens without it; a
  // writable open adds it.
  TempDir tmp;
  const std::string dir = tmp / "db";
  REQUIRE(RocksDatabase::Open(Spec(dir)).ok());
  auto with_three = [&](DatabaseSpec::Mode mode) {
    DatabaseSpec spec = Spec(dir, mode);
    spec.families.emplace_back("three", rocksdb::ColumnFamilyOptions());
    spec.optional_families = {"three"};
    return spec;
  };
  {
    // Not declared optional, its absence is an error naming it.
    DatabaseSpec spec = with_three(DatabaseSpec::Mode::kReadOnly);
    spec.optional_families.clear();
    auto ro = RocksDatabase::Open(std::move(spec));
    REQUIRE_FALSE(ro.ok());
    CHECK(ro.status().message() ==
          "the test database in " + dir + " has no column family \"three\"");
  }
  {
    auto ro = RocksDatabase::Open(with_three(DatabaseSpec::Mode::kReadOnly));
    REQUIRE(ro.ok());
    CHECK((*ro)->family("three") == nullptr);
    CHECK((*ro)->family("two") != nullptr);
    CHECK(Get(**ro, "default", "format") == "7");
  }
  {
    DatabaseSpec spec = with_three(DatabaseSpec::Mode::kReadWrite);
    spec.options.create_missing_column_families = true;
    auto rw = RocksDatabase::Open(std::move(spec));
    REQUIRE(rw.ok());
    CHECK((*rw)->family("three") != nullptr);
  }
  auto ro = RocksDatabase::Open(with_three(DatabaseSpec::Mode::kReadOnly));
  REQUIRE(ro.ok());
  CHECK((*ro)->family("three") != nullptr);
}

TEST_CASE("a missing database is not created read-only, nor without leave",
          "[rocks_database]") {
  TempDir tmp;
  const std::string dir = tmp / "none";
  auto ro = RocksDatabase::Open(Spec(dir, DatabaseSpec::Mode::kReadOnly));
  REQUIRE_FALSE(ro.ok());
  CHECK(ro.status().IsNotFound());
  CHECK(ro.status().message() == "no test database in " + dir);
  DatabaseSpec no_create = Spec(dir);
  no_create.create_if_missing = false;
  CHECK(RocksDatabase::Open(std::move(no_create)).status().IsNotFound());
  CHECK_FALSE(fs::exists(fs::path(dir) / "CURRENT"));
}

TEST_CASE("a checkpoint restored by a staged copy brings the database back",
          "[rocks_database]") {
  TempDir tmp;
  const std::string dir = tmp / "db";
  const std::string backup = tmp / "backup";
  {
    auto d = RocksDatabase::Open(Spec(dir));
    REQUIRE(d.ok());
    auto put = [&](const std::string& v) {
      REQUIRE((*d)->db()
                  ->Put(rocksdb::WriteOptions(), (*d)->family("one"), "k", v)
                  .ok());
    };
    put("before");
    REQUIRE((*d)->Checkpoint(backup, "checkpoint into " + backup).ok());
    CHECK((fs::status(backup).permissions() & fs::perms::all) ==
          fs::perms::owner_all);
    // A backup dir that exists is never written into.
    Status twice = (*d)->Checkpoint(backup, "checkpoint into " + backup);
    CHECK(twice.code() == StatusCode::kInvalidArgument);
    CHECK(twice.message().find("already exists") != std::string::npos);
    put("after");
  }
  // Leftovers of a restore killed half way do not matter.
  fs::create_directories(dir + ".restoring/junk");
  fs::create_directories(dir + ".replaced");
  REQUIRE(RocksDatabase::RestoreStaged(backup, dir, "test database").ok());
  CHECK_FALSE(fs::exists(dir + ".restoring"));
  CHECK_FALSE(fs::exists(dir + ".replaced"));
  auto d = RocksDatabase::Open(Spec(dir));
  REQUIRE(d.ok());
  CHECK(Get(**d, "one", "k") == "before");
  // The backup itself is untouched.
  CHECK(fs::exists(fs::path(backup) / "CURRENT"));
}

}  // namespace dirledger

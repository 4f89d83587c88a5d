#include "engine/backup/restore_journal.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/support/temp_dir.h"

namespace dirledger {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

// A part directory holding one file "v" that says which copy it is.
void MakePart(const std::string& dir, const std::string& which) {
  fs::create_directories(dir);
  std::ofstream(dir + "/v") << which;
}

std::string Which(const std::string& dir) {
  std::ifstream in(dir + "/v");
  std::stringstream s;
  s << in.rdbuf();
  return in ? s.str() : "(none)";
}

void WriteJournal(const std::string& data, const std::string& json) {
  std::ofstream(data + "/restore-journal.json") << json;
}

void RequireNoLeftovers(const std::string& data) {
  for (const char* p : {"log.replaced", "log.restoring", "mail.replaced",
                        "mail.restoring", "restore-journal.json"})
    CHECK_FALSE(fs::exists(data + "/" + p));
}

}  // namespace

TEST_CASE("a restore journal with every part staged is finished", "[restore]") {
  TempDir tmp;
  const std::string data = tmp / "data";
  MakePart(data + "/log", "old");
  MakePart(data + "/mail", "old");
  MakePart(data + "/log.restoring", "new");
  MakePart(data + "/mail.restoring", "new");
  WriteJournal(data, R"({"parts":[{"name":"log","had_old":true},)"
                     R"({"name":"mail","had_old":true}]})");
  SECTION("nothing swapped yet") {}
  SECTION("the log swapped") {
    fs::rename(data + "/log", data + "/log.replaced");
    fs::rename(data + "/log.restoring", data + "/log");
  }
  SECTION("the mail directory moved aside") {
    fs::rename(data + "/log", data + "/log.replaced");
    fs::rename(data + "/log.restoring", data + "/log");
    fs::rename(data + "/mail", data + "/mail.replaced");
  }
  std::string note;
  REQUIRE(RecoverInterruptedRestore(data, &note).ok());
  CHECK(note == "finished a restore that was stopped midway");
  CHECK(Which(data + "/log") == "new");
  CHECK(Which(data + "/mail") == "new");
  RequireNoLeftovers(data);
}

TEST_CASE("a restore journal with a part neither staged nor swapped is undone",
          "[restore]") {
  TempDir tmp;
  const std::string data = tmp / "data";
  // The log was swapped, but the mail directory's copy is gone.
  MakePart(data + "/log.replaced", "old");
  MakePart(data + "/log", "new");
  MakePart(data + "/mail", "old");
  WriteJournal(data, R"({"parts":[{"name":"log","had_old":true},)"
                     R"({"name":"mail","had_old":true}]})");
  std::string note;
  REQUIRE(RecoverInterruptedRestore(data, &note).ok());
  CHECK(note == "undid a restore that was stopped midway");
  CHECK(Which(data + "/log") == "old");
  CHECK(Which(data + "/mail") == "old");
  RequireNoLeftovers(data);
}

TEST_CASE("without a journal, a part moved aside goes back and copies go",
          "[restore]") {
  TempDir tmp;
  const std::string data = tmp / "data";
  // What a restore without a journal left when killed between its renames.
  MakePart(data + "/log.replaced", "old");
  MakePart(data + "/log.restoring", "new");
  MakePart(data + "/mail", "old");
  MakePart(data + "/mail.replaced", "older");
  std::string note;
  REQUIRE(RecoverInterruptedRestore(data, &note).ok());
  CHECK_FALSE(note.empty());
  CHECK(Which(data + "/log") == "old");
  CHECK(Which(data + "/mail") == "old");
  RequireNoLeftovers(data);
}

TEST_CASE("a damaged journal is reported and nothing is touched", "[restore]") {
  TempDir tmp;
  const std::string data = tmp / "data";
  MakePart(data + "/log", "old");
  MakePart(data + "/log.restoring", "new");
  WriteJournal(data, "{\"parts\":");
  std::string note;
  Status s = RecoverInterruptedRestore(data, &note);
  REQUIRE_FALSE(s.ok());
  CHECK(s.message().find("restore-journal.json is damaged") !=
        std::string::npos);
  CHECK(Which(data + "/log") == "old");
  CHECK(Which(data + "/log.restoring") == "new");
}

TEST_CASE("RestoreParts swaps every part in and leaves nothing behind",
          "[restore]") {
  TempDir tmp;
  const std::string data = tmp / "data";
  MakePart(data + "/log", "old");
  MakePart(data + "/mail", "old");
  MakePart(tmp / "backup/log", "new");
  MakePart(tmp / "backup/mail", "new");
  DataDirLock lock;
  REQUIRE(lock.TryAcquire(data, /*exclusive=*/true).ok());
  REQUIRE(
      RestoreParts(data,
                   {{"log", tmp / "backup/log"}, {"mail", tmp / "backup/mail"}},
                   lock)
          .ok());
  CHECK(Which(data + "/log") == "new");
  CHECK(Which(data + "/mail") == "new");
  CHECK(Which(tmp / "backup/log") == "new");  // the backup stays
  RequireNoLeftovers(data);
}

TEST_CASE("the data dir lock keeps a restore and the writers apart",
          "[restore]") {
  TempDir tmp;
  const std::string data = tmp / "data";
  fs::create_directories(data);
  {
    // Two commands that write may run side by side (the log's own lock
    // says which may open it); a restore may not start beside them.
    DataDirLock writer, other_writer;
    REQUIRE(writer.TryAcquire(data, /*exclusive=*/false).ok());
    REQUIRE(other_writer.TryAcquire(data, /*exclusive=*/false).ok());
    DataDirLock restore;
    Status s = restore.TryAcquire(data, /*exclusive=*/true);
    CHECK(s.code() == StatusCode::kUnavailable);
    CHECK(s.message() ==
          "data dir " + data + " is in use by another dirledger process");
  }
  // While a restore holds it, no writer starts.
  DataDirLock restore;
  REQUIRE(restore.TryAcquire(data, /*exclusive=*/true).ok());
  DataDirLock writer;
  Status s = writer.TryAcquire(data, /*exclusive=*/false);
  CHECK(s.code() == StatusCode::kUnavailable);
  CHECK(s.message() == "a restore of data dir " + data +
                           " is in progress; run again when it is done");
  // And a restore without the lock is refused.
  DataDirLock none;
  CHECK(RestoreParts(data, {}, none).code() == StatusCode::kInvalidArgument);
}

}  // namespace dirledger

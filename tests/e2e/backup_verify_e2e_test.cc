// End to end: backup and restore (the log and the embedded mail directory go
// back together, and the next run takes up from the restored cursor), and
// verify against a tampered log: a record rewritten consistently by someone
// who knows the format, and a record damaged on disk. Each time verify exits
// 1 and names the sequence.
#include <algorithm>
#include <catch2/catch.hpp>
#include <ctime>
#include <filesystem>

#include "storage/event_log.h"
#include "storage/test_util.h"
#include "tests/e2e/e2e_env.h"

namespace dirledger::test {
namespace {

constexpr int kPort = 4151;

// The sequence of the first ObservedChange on the LDAP side that carries
// `attr` = `value`.
std::uint64_t FindChange(CliRunner& dl, const std::string& object,
                         const std::string& attr, const std::string& value) {
  auto r = dl.Run({"log", "--object", object, "--json"});
  REQUIRE(r.exit_code == 0);
  for (const auto& j : r.Json())
    if (j["kind"] == "change" && j["side"] == "ldap" && j.contains("attrs") &&
        j["attrs"].contains(attr) &&
        j["attrs"][attr] == nlohmann::json::array({value}))
      return j["seq"];
  FAIL("no change of " << object << " with " << attr << "=" << value);
  return 0;
}

// Rewrites one stored event as a forger would: a valid record with its own
// digest, the title changed; the chain link to the next record breaks.
void ForgeTitle(const std::string& log_dir, std::uint64_t seq,
                const std::string& title) {
  Event event;
  {
    LogOptions ro;
    ro.read_only = true;
    auto log = EventLog::Open(log_dir, ro);
    REQUIRE(log.ok());
    REQUIRE((*log)->ReadEvent(seq, &event).ok());
  }
  auto* change = std::get_if<ObservedChange>(&event.body);
  REQUIRE(change);
  for (Attribute& a : change->attrs)
    if (EqualsIgnoreCase(a.name, "title")) a.values = {title};
  REQUIRE(OverwriteLogRecord(log_dir, seq, StoredRecord(event)).ok());
}

// Damages one stored record as a disk fault would: its own digest no longer
// matches its bytes.
void DamageRecord(const std::string& log_dir, std::uint64_t seq) {
  Event event;
  {
    LogOptions ro;
    ro.read_only = true;
    auto log = EventLog::Open(log_dir, ro);
    REQUIRE(log.ok());
    REQUIRE((*log)->ReadEvent(seq, &event).ok());
  }
  std::string record = StoredRecord(event);
  record[record.size() / 2] ^= 0x20;
  REQUIRE(OverwriteLogRecord(log_dir, seq, record).ok());
}

TEST_CASE("backup, restore, and verify against a tampered log",
          "[e2e][backup]") {
  E2eEnv env(kPort, 6);
  CliRunner& dl = env.cli();
  env.RunOnce();
  REQUIRE(env.MailAddresses().size() == 6);

  // --- backup, then a change, then restore: both sides of the data dir
  // go back, and the next run takes the change again from the cursor.
  const std::string backup = env.tmp() / "backup-1";
  auto b = dl.Run({"backup", backup});
  INFO(b.Describe());
  REQUIRE(b.exit_code == 0);
  REQUIRE(Contains(b.out, backup + "/log"));
  REQUIRE(Contains(b.out, backup + "/mail"));
  const auto at_backup = env.LogStatus();
  auto again = dl.Run({"backup", backup});
  REQUIRE(again.exit_code == 2);
  REQUIRE(Contains(again.err, "already exists"));

  env.LdapReplace("user000004", "title", "Manager");
  env.RunOnce();
  REQUIRE(env.MailShow("user000004@example.com")["title"] == "Manager");
  REQUIRE(env.LastSeq() > at_backup["last_seq"].get<std::uint64_t>());

  auto refused = dl.Run({"restore", backup});
  REQUIRE(refused.exit_code == 2);
  REQUIRE(Contains(refused.err, "--yes"));
  auto r = dl.Run({"restore", backup, "--yes"});
  INFO(r.Describe());
  REQUIRE(r.exit_code == 0);
  const auto restored = env.LogStatus();
  REQUIRE(restored["last_seq"] == at_backup["last_seq"]);
  REQUIRE(restored["head_sha256"] == at_backup["head_sha256"]);
  REQUIRE(env.MailShow("user000004@example.com")["title"] == "Engineer");
  REQUIRE(dl.Run({"verify"}).exit_code == 0);
  env.RunOnce();
  REQUIRE(env.MailShow("user000004@example.com")["title"] == "Manager");
  auto bad_restore = dl.Run({"restore", env.tmp() / "no-such-backup", "--yes"});
  REQUIRE(bad_restore.exit_code != 0);
  REQUIRE(Contains(bad_restore.err, "no-such-backup"));

  // --- tampering.
  env.LdapReplace("user000005", "title", "Auditor");
  env.RunOnce();
  REQUIRE(dl.Run({"verify"}).exit_code == 0);
  const std::string head = env.LogStatus()["head_sha256"];
  const std::uint64_t forged =
      FindChange(dl, "user000005@example.com", "title", "Auditor");

  SECTION("a record rewritten with a valid digest breaks the chain") {
    ForgeTitle(env.tmp() / "data/log", forged, "Director");
    // The forged value reads back: only verify can tell.
    auto shown = dl.Run({"log", "--since", std::to_string(forged), "--until",
                         std::to_string(forged), "--json"});
    REQUIRE(shown.exit_code == 0);
    REQUIRE(shown.Json()[0]["attrs"]["title"] ==
            nlohmann::json::array({"Director"}));
    auto v = dl.Run({"verify"});
    INFO(v.Describe());
    REQUIRE(v.exit_code == 1);
    REQUIRE(Contains(v.out, "FAILED at sequence " + std::to_string(forged)));
    REQUIRE(Contains(v.out, "hash chain breaks between log records " +
                                std::to_string(forged) + " and " +
                                std::to_string(forged + 1)));
    REQUIRE(dl.Run({"verify", "--expect-head", head}).exit_code == 1);
  }

  SECTION("a record damaged on disk is named") {
    DamageRecord(env.tmp() / "data/log", 3);
    auto v = dl.Run({"verify"});
    INFO(v.Describe());
    REQUIRE(v.exit_code == 1);
    REQUIRE(Contains(v.out, "FAILED at sequence 3"));
    // Readers report the damage instead of crashing.
    auto log = dl.Run({"log", "--since", "3", "--until", "3"});
    REQUIRE(log.exit_code == 1);
    REQUIRE(Contains(log.err, "3"));
  }
}

TEST_CASE("automatic backups: unfinished ones removed, names never reused",
          "[e2e][backup]") {
  namespace fs = std::filesystem;
  E2eEnv env(kPort, 3);
  const fs::path backups = env.tmp() / "data/backups";
  const std::string why = "-before-first-sync-corp-syncrepl";
  // What a run killed while making its backup leaves.
  fs::create_directories(backups / ("20250101T000000Z" + why + ".partial/log"));
  // Backups already named for this second and the next few: a run killed
  // after its backup and started again at once finds its name taken.
  std::vector<std::string> taken;
  for (std::time_t t = std::time(nullptr), end = t + 6; t < end; ++t) {
    std::tm tm;
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
    taken.push_back(buf + why);
    fs::create_directories(backups / taken.back());
  }

  CliResult r = env.RunOnce();
  REQUIRE(Contains(r.err, "removed the unfinished backup"));
  REQUIRE_FALSE(fs::exists(backups / ("20250101T000000Z" + why + ".partial")));
  std::vector<std::string> made;
  for (const auto& e : fs::directory_iterator(backups)) {
    const std::string name = e.path().filename().string();
    REQUIRE_FALSE(name.ends_with(".partial"));
    if (std::find(taken.begin(), taken.end(), name) == taken.end())
      made.push_back(name);
  }
  INFO(r.Describe());
  REQUIRE(made.size() == 1);
  REQUIRE(made[0].ends_with(why + "-2"));
  REQUIRE(fs::exists(backups / made[0] / "log/CURRENT"));
  REQUIRE(fs::exists(backups / made[0] / "mail/CURRENT"));
  // The taken names were left as they were.
  for (const std::string& name : taken) REQUIRE(fs::is_empty(backups / name));
  REQUIRE(env.MailAddresses().size() == 3);
}

}  // namespace
}  // namespace dirledger::test

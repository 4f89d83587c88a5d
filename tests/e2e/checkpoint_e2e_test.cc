// End to end: projection checkpoints. `verify` writes one of the log it
// verified; `rollback` and `export --at` start from it and plan exactly what
// a replay from the first record plans; a write killed half way leaves
// nothing a reader takes; a torn, foreign or altered checkpoint is passed
// over, named, and `verify` fails on one that holds another projection.
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "replay/projection_checkpoint.h"
#include "tests/e2e/e2e_env.h"

namespace dirledger::test {
namespace {

namespace fs = std::filesystem;

constexpr int kPort = 4239;
constexpr int kKilled = 128 + 9;  // SIGKILL

std::string CheckpointPath(E2eEnv& env, std::uint64_t seq) {
  char name[64];
  std::snprintf(name, sizeof(name), "projection-%020llu.ckpt",
                static_cast<unsigned long long>(seq));
  return env.tmp().path() + "/data/checkpoints/" + name;
}

// The checkpoint at `path` re-encoded after `edit`: well formed, its own
// SHA-256 right.
void Rewrite(
    const std::string& path,
    const std::function<void(CheckpointHeader*, InMemoryProjection*)>& edit) {
  CheckpointHeader h;
  InMemoryProjection p;
  REQUIRE(DecodeCheckpoint(ReadFile(path), &h, &p).ok());
  edit(&h, &p);
  WriteFile(path, EncodeCheckpoint(h, p));
}

}  // namespace

TEST_CASE("rollback and export start from a projection checkpoint",
          "[e2e][checkpoint]") {
  E2eEnv env(kPort, 6);
  CliRunner& dl = env.cli();
  env.RunOnce();
  const std::uint64_t good = env.LastSeq();
  auto v = dl.Run({"verify"});
  INFO(v.Describe());
  REQUIRE(v.exit_code == 0);
  REQUIRE(Contains(v.out, "verify: projection checkpoint written: " +
                              CheckpointPath(env, good)));
  REQUIRE(fs::exists(CheckpointPath(env, good)));
  CHECK(env.LogStatus()["checkpoint_seq"] == good);

  for (int i = 1; i <= 3; ++i) env.LdapReplace(Uid(i), "ou", "Sales");
  env.LdapAddPerson(Uid(7));
  env.RunOnce();
  const std::uint64_t bad = env.LastSeq();
  auto st = dl.Run({"status"});
  CHECK(Contains(
      st.out, "projection checkpoint: record " + std::to_string(good) + ", " +
                  std::to_string(bad - good) + " records before the head"));
  const std::vector<std::string> plan = {"rollback", "--to",
                                         std::to_string(good), "--dry-run"};
  auto full = dl.Run(
      {"rollback", "--to", std::to_string(good), "--dry-run", "--full-replay"});
  INFO(full.Describe());
  REQUIRE(full.exit_code == 0);
  REQUIRE(Contains(full.out, ": modify ou [Sales] -> [Engineering]"));
  REQUIRE_FALSE(Contains(full.err, "checkpoint"));

  SECTION("the plan from the checkpoint is the plan from the first record") {
    auto from = dl.Run(plan);
    INFO(from.Describe());
    REQUIRE(from.exit_code == 0);
    CHECK(Contains(from.err,
                   "starting from the projection checkpoint of record " +
                       std::to_string(good) + ", 0 records to replay"));
    CHECK(from.out == full.out);
    auto e1 =
        dl.Run({"export", "--side", "mail", "--at", std::to_string(good)});
    auto e2 = dl.Run({"export", "--side", "mail", "--at", std::to_string(good),
                      "--full-replay"});
    REQUIRE(e1.exit_code == 0);
    CHECK(Contains(e1.err, "projection checkpoint of record"));
    CHECK(e1.out == e2.out);
    CHECK(Contains(e1.out, "mail=" + Uid(1) + "@example.com,"));
    // After the bad change: the checkpoint and the tail after it.
    auto e3 = dl.Run({"export", "--side", "ldap", "--at", std::to_string(bad)});
    auto e4 = dl.Run({"export", "--side", "ldap", "--at", std::to_string(bad),
                      "--full-replay"});
    CHECK(Contains(e3.err, std::to_string(bad - good) + " records to replay"));
    CHECK(e3.out == e4.out);
    CHECK(Contains(e3.out, "Sales"));
  }

  SECTION("a checkpoint write killed half way leaves nothing a reader takes") {
    auto killed = dl.RunWithEnv(
        {"verify"}, {{"DIRLEDGER_CRASH_AT", "checkpoint.half_written"}});
    INFO(killed.Describe());
    REQUIRE(killed.exit_code == kKilled);
    REQUIRE(fs::exists(CheckpointPath(env, bad) + ".tmp"));
    REQUIRE_FALSE(fs::exists(CheckpointPath(env, bad)));
    auto from = dl.Run(plan);
    CHECK(from.out == full.out);
    auto again = dl.Run({"verify"});
    INFO(again.Describe());
    REQUIRE(again.exit_code == 0);
    CHECK(
        Contains(again.out, "projection checkpoints OK, 1 as the log derives"));
    CHECK(
        Contains(again.out, "checkpoint written: " + CheckpointPath(env, bad)));
    CHECK_FALSE(fs::exists(CheckpointPath(env, bad) + ".tmp"));
    // The newest at or before the record asked for is the one taken.
    auto now = dl.Run({"rollback", "--to", std::to_string(bad), "--dry-run"});
    CHECK(Contains(now.err, "checkpoint of record " + std::to_string(bad)));
    CHECK(Contains(now.out, "nothing to do"));
  }

  SECTION("a torn or foreign checkpoint is passed over, named") {
    const std::string path = CheckpointPath(env, good);
    const std::string whole = ReadFile(path);
    WriteFile(path, whole.substr(0, whole.size() / 2));
    auto torn = dl.Run(plan);
    INFO(torn.Describe());
    REQUIRE(torn.exit_code == 0);
    CHECK(Contains(torn.err, "projection checkpoint " + path +
                                 " not used: its SHA-256 does not match"));
    CHECK(torn.out == full.out);
    auto v2 = dl.Run({"verify"});
    CHECK(v2.exit_code == 0);
    CHECK(Contains(v2.out, "not checked: unreadable, not used"));

    WriteFile(path, whole);
    Rewrite(path, [](CheckpointHeader* h, InMemoryProjection*) {
      h->record_hash[0] = static_cast<char>(h->record_hash[0] ^ 1);
    });
    auto foreign = dl.Run(plan);
    CHECK(Contains(foreign.err, "is not the one it was made from"));
    CHECK(foreign.out == full.out);
    WriteFile(path, whole);
    Rewrite(path, [](CheckpointHeader* h, InMemoryProjection*) {
      h->writer = "dirledger 0.0.1 (git 0000000)";
    });
    auto other = dl.Run(plan);
    CHECK(Contains(other.err,
                   "written by dirledger 0.0.1 (git 0000000), not "
                   "by this program"));
    CHECK(other.out == full.out);
  }

  SECTION("verify fails on a checkpoint that holds another projection") {
    // Like the projection the log keeps, a checkpoint is derived, not
    // evidence: one altered and resealed is what `verify` finds.
    const std::string path = CheckpointPath(env, good);
    Rewrite(path, [](CheckpointHeader*, InMemoryProjection* p) {
      std::optional<ObjectState> first;
      (void)p->ForEachObject(Side::kLdap, [&](const ObjectState& o) {
        first = o;
        return false;
      });
      REQUIRE(first);
      first->attrs.push_back({"description", {"planted"}});
      p->Apply(StateMutation(PutObject{*first}));
    });
    auto v2 = dl.Run({"verify"});
    INFO(v2.Describe());
    CHECK(v2.exit_code == 1);
    CHECK(Contains(v2.out, "verify: FAILED: projection checkpoint " + path +
                               ": its projection is not the one the log "
                               "derives at record " +
                               std::to_string(good)));
    auto from_first = dl.Run({"rollback", "--to", std::to_string(good),
                              "--dry-run", "--full-replay"});
    CHECK(from_first.out == full.out);
  }
}

}  // namespace dirledger::test

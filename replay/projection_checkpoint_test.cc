// Projection checkpoints (replay/projection_checkpoint.h): a replay started
// from a checkpoint of any record of a simulated history, then fed the rest,
// decides every later record as recorded and ends with the projection a
// replay from the first record ends with; a checkpoint reads back to the
// same tables; a damaged or altered one is refused, naming the damage, and
// leaves nothing behind.
#include "replay/projection_checkpoint.h"

#include <zstd.h>

#include <catch2/catch.hpp>
#include <set>

#include "codecs/sha256.h"
#include "replay/appearances.h"
#include "replay/checkpoint_bytes.h"
#include "replay/replayer.h"
#include "replay/sim_world.h"
#include "tests/support/sanitized_build.h"

namespace dirledger::testing {
namespace {

bool Contains(const std::string& s, std::string_view part) {
  return s.find(part) != std::string::npos;
}

std::string Tables(const InMemoryProjection& p) {
  std::string out;
  p.AppendTables(&out);
  return out;
}

// The history's ConfigChange in force at each record (0: none).
std::vector<std::uint64_t> ConfigsInForce(const SimWorld& w) {
  std::vector<std::uint64_t> out(w.events().size() + 1, 0);
  for (std::size_t i = 0; i < w.events().size(); ++i)
    out[i + 1] = std::holds_alternative<ConfigChange>(w.events()[i].body)
                     ? w.events()[i].seq
                     : out[i];
  return out;
}

std::string CheckpointOf(const Replayer& r, std::uint64_t config_seq,
                         const SourcePositions& positions = {}) {
  CheckpointHeader h;
  h.seq = r.last_seq();
  h.record_hash = std::string(32, static_cast<char>(h.seq));
  h.config_seq = config_seq;
  h.writer = "dirledger test";
  h.positions = positions;
  return EncodeCheckpoint(h, r.projection());
}

// Every object id a history names, on either side.
std::set<std::pair<Side, std::string>> ObjectIds(const SimWorld& w) {
  std::set<std::pair<Side, std::string>> ids;
  for (const Event& e : w.events()) {
    if (const auto* c = std::get_if<ObservedChange>(&e.body))
      ids.emplace(c->side, c->id);
    if (const auto* o = std::get_if<WriteOutcome>(&e.body)) {
      ids.emplace(o->side, o->target_id);
      ids.emplace(o->side, o->assigned_id);
    }
  }
  return ids;
}

void CheckEveryRecord(const SimWorld& w, std::uint64_t seed) {
  const std::size_t n = w.events().size();
  const std::vector<std::uint64_t> configs = ConfigsInForce(w);
  // The whole history from its first record, the tables after each.
  std::vector<std::string> tables(n + 1);
  Replayer full;
  tables[0] = Tables(full.projection());
  std::vector<std::string> files(n + 1);
  std::vector<SourcePositions> positions(n + 1);
  Appearances tracker(UINT64_MAX);
  files[0] = CheckpointOf(full, 0);
  for (std::size_t i = 0; i < n; ++i) {
    REQUIRE(full.Feed(w.events()[i], &w.decisions()[i]).ok());
    tracker.Visit(w.events()[i], &w.decisions()[i]);
    tables[i + 1] = Tables(full.projection());
    positions[i + 1] = tracker.Positions();
    files[i + 1] = CheckpointOf(full, configs[i + 1], positions[i + 1]);
  }
  // A rollback to any point, from a checkpoint at or before it: visiting
  // the events after the checkpoint, from its positions, classifies every
  // object as visiting the whole history does.
  const auto ids = ObjectIds(w);
  for (std::size_t point = 1; point <= n; point += 7) {
    Appearances whole(point);
    for (std::size_t i = 0; i < n; ++i)
      whole.Visit(w.events()[i], &w.decisions()[i]);
    for (std::size_t c = 0; c <= point; c += 5) {
      INFO("seed " << seed << ", rollback to " << point << " from " << c);
      CheckpointHeader h;
      InMemoryProjection p;
      REQUIRE(DecodeCheckpoint(files[c], &h, &p).ok());
      REQUIRE(h.positions == positions[c]);
      Appearances from(point);
      from.Resume(h.positions);
      for (std::size_t i = c; i < n; ++i)
        from.Visit(w.events()[i], &w.decisions()[i]);
      for (const auto& [side, id] : ids) {
        INFO(SideName(side) << " " << id);
        REQUIRE(from.Created(side, id) == whole.Created(side, id));
        REQUIRE(from.RenamedFrom(side, id) == whole.RenamedFrom(side, id));
      }
    }
  }
  REQUIRE(full.differences() == 0);
  for (std::size_t k = 1; k <= n; ++k) {
    INFO("seed " << seed << ", checkpoint of record " << k << " of " << n);
    CheckpointHeader h;
    InMemoryProjection p;
    REQUIRE(DecodeCheckpoint(files[k], &h, &p).ok());
    REQUIRE(h.seq == k);
    REQUIRE(h.config_seq == configs[k]);
    REQUIRE(Tables(p) == tables[k]);
    Replayer resumed;
    const Event* config =
        h.config_seq ? &w.events()[h.config_seq - 1] : nullptr;
    REQUIRE(resumed.Resume(std::move(p), h.seq, config).ok());
    // Every tenth checkpoint is replayed to the end; the others through the
    // next ten records (their tables then equal the full replay's, so the
    // rest would decide alike).
    const std::size_t end = k % 10 == 0 ? n : std::min(n, k + 10);
    for (std::size_t i = k; i < end; ++i)
      REQUIRE(resumed.Feed(w.events()[i], &w.decisions()[i]).ok());
    INFO((resumed.first_difference() ? resumed.first_difference()->ToString()
                                     : std::string()));
    REQUIRE(resumed.differences() == 0);
    REQUIRE(Tables(resumed.projection()) == tables[end]);
  }
}

// The file with its body changed by `edit` and its SHA-256 made right
// again: damage the trailing digest cannot tell from the real thing.
std::string Resealed(const std::string& file,
                     const std::function<void(std::string*)>& edit) {
  std::string body = file.substr(0, file.size() - kSha256Size);
  edit(&body);
  return body + Sha256(body);
}

Status Decode(const std::string& file) {
  CheckpointHeader h;
  InMemoryProjection p;
  Status s = DecodeCheckpoint(file, &h, &p);
  // Nothing is left of a refused checkpoint.
  if (!s.ok()) CHECK(p.object_count() == 0);
  return s;
}

}  // namespace

TEST_CASE("a replay from a checkpoint of any record equals the whole replay",
          "[checkpoint][property]") {
  const int histories = test::ScaledForSanitizers(40);
  struct Kind {
    const char* direction;
    const char* resolution;
    bool renames, groups;
  };
  const Kind kinds[] = {{"both_ways", "ldap_wins", false, true},
                        {"both_ways", "axigen_wins", true, false},
                        {"both_ways", "ldap_wins", true, true},
                        {"ldap_to_axigen", "ldap_wins", true, true},
                        {"axigen_to_ldap", "ldap_wins", false, true}};
  std::size_t records = 0;
  for (int i = 0; i < histories; ++i) {
    const Kind& kind = kinds[i % 5];
    SimOptions o;
    o.direction = kind.direction;
    o.resolution = kind.resolution;
    o.renames = kind.renames;
    o.groups = kind.groups;
    const std::uint64_t seed = 90000 + static_cast<std::uint64_t>(i);
    SimWorld w(seed, o);
    INFO("seed " << seed);
    REQUIRE(w.Run());
    CheckEveryRecord(w, seed);
    records += w.events().size();
  }
  // The histories had something to checkpoint.
  CHECK(records > static_cast<std::size_t>(histories) * 40);
}

TEST_CASE("a damaged or altered checkpoint is refused, naming the damage",
          "[checkpoint]") {
  SimOptions o;
  SimWorld w(424242, o);
  REQUIRE(w.Run());
  Replayer r;
  for (std::size_t i = 0; i < w.events().size(); ++i)
    REQUIRE(r.Feed(w.events()[i], &w.decisions()[i]).ok());
  REQUIRE(r.projection().object_count() > 0);
  const std::string file = CheckpointOf(r, 1);
  REQUIRE(Decode(file).ok());

  SECTION("torn at every length") {
    for (std::size_t len = 0; len < file.size(); ++len) {
      INFO("first " << len << " bytes");
      Status s = Decode(file.substr(0, len));
      REQUIRE(s.code() == StatusCode::kCorruption);
    }
  }
  SECTION("any byte altered") {
    for (std::size_t at = 0; at < file.size(); ++at) {
      std::string bad = file;
      bad[at] = static_cast<char>(bad[at] ^ 0x20);
      INFO("byte " << at);
      REQUIRE(Decode(bad).code() == StatusCode::kCorruption);
    }
    CHECK(Contains(Decode(file + "x").message(), "torn or altered"));
  }
  SECTION("resealed: not a checkpoint, another format, bytes left over") {
    Status s = Decode(Resealed(file, [](std::string* b) { (*b)[0] = 'X'; }));
    CHECK(Contains(s.message(), "not a dirledger projection checkpoint"));
    s = Decode(Resealed(file, [](std::string* b) { (*b)[8] = 2; }));
    CHECK(Contains(s.message(), "checkpoint format 2, this program reads 1"));
    s = Decode(Resealed(file, [](std::string* b) { *b += "tail"; }));
    CHECK(Contains(s.message(), "bytes follow the tables"));
  }
  SECTION("resealed tables that do not parse") {
    // A record table that claims more records than its bytes can hold.
    std::string tables;
    checkpoint_bytes::PutU64(&tables, 1000000);
    InMemoryProjection p;
    Status s = p.ReadTables(tables);
    CHECK(s.code() == StatusCode::kCorruption);
    CHECK(Contains(s.message(), "a count of 1000000 items"));
    // A record that does not decode.
    tables.clear();
    checkpoint_bytes::PutU64(&tables, 1);
    checkpoint_bytes::PutString(&tables, "not a record");
    s = p.ReadTables(tables);
    CHECK(Contains(s.message(), "object 0:"));
    // The same record twice.
    std::string twice;
    std::string real = Tables(r.projection());
    checkpoint_bytes::Reader in(real);
    std::uint64_t objects = 0;
    REQUIRE(in.U64(&objects).ok());
    std::string_view first;
    REQUIRE(in.String(&first).ok());
    checkpoint_bytes::PutU64(&twice, 2);
    checkpoint_bytes::PutString(&twice, first);
    checkpoint_bytes::PutString(&twice, first);
    s = p.ReadTables(twice);
    CHECK(Contains(s.message(), "object 1 repeats the key"));
    CHECK(p.object_count() == 0);
    // Bytes after the last table.
    s = p.ReadTables(real + "x");
    CHECK(Contains(s.message(), "1 bytes follow the last table"));
    REQUIRE(p.ReadTables(real).ok());
    CHECK(Tables(p) == real);
  }
}

TEST_CASE("a checkpoint's tables are compared as they are decompressed",
          "[checkpoint]") {
  // Tables of several pieces (WriteTables hands on about 1 MiB at a time).
  InMemoryProjection p;
  p.KeepDecoded(0);
  for (int i = 0; i < 6000; ++i) {
    ObjectState o;
    o.side = Side::kLdap;
    o.id = "id-" + std::to_string(i);
    o.dn = "uid=" + std::to_string(i) + ",dc=example,dc=com";
    o.attrs = {
        {"description", {std::string(300, static_cast<char>('a' + i % 26))}}};
    p.Apply(StateMutation(PutObject{o}));
  }
  std::string tables;
  p.AppendTables(&tables);
  REQUIRE(tables.size() > (std::size_t{3} << 20));
  CheckpointHeader h;
  h.seq = 7;
  h.record_hash = std::string(32, 'h');
  h.writer = "dirledger test";
  const std::string file = EncodeCheckpoint(h, p);
  CHECK(file.size() < tables.size() / 10);  // compressed, not stored

  bool same = false;
  REQUIRE(CompareCheckpointTables(file, p, &same).ok());
  CHECK(same);
  // Read back whole, it is the same projection.
  CheckpointHeader back;
  InMemoryProjection q;
  REQUIRE(DecodeCheckpoint(file, &back, &q).ok());
  CHECK(back.seq == 7);
  CHECK(Tables(q) == tables);
  REQUIRE(CompareCheckpointTables(file, q, &same).ok());
  CHECK(same);

  SECTION("one value changed, late in the tables") {
    ObjectState o = *q.FindObject(Side::kLdap, ObjectKind::kAccount, "id-5999");
    o.attrs[0].values[0][150] = '!';
    q.Apply(StateMutation(PutObject{o}));
    REQUIRE(CompareCheckpointTables(file, q, &same).ok());
    CHECK_FALSE(same);
  }
  SECTION("one more record, or none") {
    ObjectState o;
    o.side = Side::kMail;
    o.id = "extra@example.com";
    q.Apply(StateMutation(PutObject{o}));
    REQUIRE(CompareCheckpointTables(file, q, &same).ok());
    CHECK_FALSE(same);
    REQUIRE(CompareCheckpointTables(file, InMemoryProjection(), &same).ok());
    CHECK_FALSE(same);
  }
  SECTION("frames written in one piece, cut, or followed by more") {
    // The file as kCheckpointFormat 1 lays it out, around a given frame.
    const auto file_with = [&](std::uint64_t size, const std::string& frame) {
      using checkpoint_bytes::PutString;
      using checkpoint_bytes::PutU64;
      std::string body = "DLPCKPT\n";
      PutU64(&body, 1);
      PutU64(&body, h.seq);
      PutString(&body, h.record_hash);
      PutU64(&body, 0);
      PutString(&body, h.writer);
      PutU64(&body, 0);
      PutU64(&body, 0);
      PutU64(&body, size);
      PutString(&body, frame);
      return body + Sha256(body);
    };
    std::string whole(ZSTD_compressBound(tables.size()), '\0');
    whole.resize(ZSTD_compress(whole.data(), whole.size(), tables.data(),
                               tables.size(), 1));
    // One piece, its content size stated: read as before.
    CheckpointHeader h2;
    InMemoryProjection r;
    REQUIRE(DecodeCheckpoint(file_with(tables.size(), whole), &h2, &r).ok());
    CHECK(Tables(r) == tables);
    REQUIRE(CompareCheckpointTables(file_with(tables.size(), whole), p, &same)
                .ok());
    CHECK(same);
    // Its stated size is not the header's.
    Status s = Decode(file_with(tables.size() - 1, whole));
    CHECK(Contains(s.message(), "their compressed frame says otherwise"));
    // Cut short, or followed by another frame.
    s = Decode(file_with(tables.size(), whole.substr(0, whole.size() - 9)));
    CHECK(s.code() == StatusCode::kCorruption);
    s = Decode(file_with(tables.size(), whole + whole));
    CHECK(Contains(s.message(), "bytes follow the frame"));
    REQUIRE(CompareCheckpointTables(file_with(tables.size(), whole + whole), p,
                                    &same)
                .ok());
    CHECK_FALSE(same);
    // A frame that does not state its size (as EncodeCheckpoint writes it)
    // holding more, or fewer, bytes than the header says.
    std::string streamed(ZSTD_compressBound(tables.size()) + 64, '\0');
    {
      ZSTD_CCtx* c = ZSTD_createCCtx();
      ZSTD_inBuffer in{tables.data(), tables.size(), 0};
      ZSTD_outBuffer out{streamed.data(), streamed.size(), 0};
      // Given piece by piece, the frame cannot state its size.
      while (in.pos < in.size)
        REQUIRE(
            !ZSTD_isError(ZSTD_compressStream2(c, &out, &in, ZSTD_e_continue)));
      ZSTD_inBuffer none{nullptr, 0, 0};
      REQUIRE(ZSTD_compressStream2(c, &out, &none, ZSTD_e_end) == 0);
      streamed.resize(out.pos);
      ZSTD_freeCCtx(c);
    }
    REQUIRE(ZSTD_getFrameContentSize(streamed.data(), streamed.size()) ==
            ZSTD_CONTENTSIZE_UNKNOWN);
    REQUIRE(Decode(file_with(tables.size(), streamed)).ok());
    s = Decode(file_with(tables.size() - 1, streamed));
    CHECK(s.code() == StatusCode::kCorruption);
    s = Decode(file_with(tables.size() + 1, streamed));
    CHECK(s.code() == StatusCode::kCorruption);
    REQUIRE(CompareCheckpointTables(file_with(tables.size() + 1, streamed), p,
                                    &same)
                .ok());
    CHECK_FALSE(same);
  }
  SECTION("a damaged file is refused before anything is compared") {
    std::string bad = file;
    bad[bad.size() / 2] ^= 1;
    Status s = CompareCheckpointTables(bad, q, &same);
    CHECK(s.code() == StatusCode::kCorruption);
    CHECK(Contains(s.message(), "torn or altered"));
    CheckpointHeader ignored;
    CHECK(ReadCheckpointHeader(bad, &ignored).code() ==
          StatusCode::kCorruption);
    REQUIRE(ReadCheckpointHeader(file, &ignored).ok());
    CHECK(ignored.seq == 7);
  }
}

}  // namespace dirledger::testing

// The log's record format and ChainChecker, on records built in memory: a
// good chain verifies, and each kind of tampering is named at its record.
#include "storage/log_record.h"

#include <catch2/catch.hpp>
#include <map>
#include <string>

#include "codecs/event_codec.h"
#include "codecs/kv_store.h"
#include "codecs/test_events.h"
#include "storage/test_util.h"

namespace dirledger {
namespace {

// A log of `n` records as stored: key -> value, and the last digest.
struct Records {
  std::map<std::string, std::string> rows;
  std::string head;  // raw digest of the last record
};

std::string Value(std::uint64_t seq, const std::string& prev) {
  Event e;
  e.seq = seq;
  e.time_us = 1'700'000'000'000'000 + static_cast<std::int64_t>(seq);
  e.prev_hash = prev;
  e.body = testing::PersonChange(static_cast<int>(seq));
  return test::StoredRecord(e);
}

std::string Digest(const std::string& value) {
  return value.substr(value.size() - kSha256Size);
}

Records Build(std::uint64_t n) {
  Records r;
  std::string prev(kSha256Size, '\0');
  for (std::uint64_t seq = 1; seq <= n; ++seq) {
    std::string v = Value(seq, prev);
    prev = Digest(v);
    r.rows[BigEndian64(seq)] = std::move(v);
  }
  r.head = prev;
  return r;
}

// Runs the checker over `r` with head (`head_seq`, r.head); the first error.
Status Check(const Records& r, std::uint64_t head_seq, ChainChecker* chain) {
  for (const auto& [k, v] : r.rows) {
    Status s = chain->Next(k, v);
    if (!s.ok()) return s;
  }
  return chain->Finish(head_seq, r.head);
}

bool Says(const Status& s, const std::string& text) {
  return s.code() == StatusCode::kCorruption &&
         s.message().find(text) != std::string::npos;
}

}  // namespace

TEST_CASE("a whole chain verifies and reports its head", "[log_record]") {
  Records r = Build(5);
  ChainChecker chain;
  REQUIRE(Check(r, 5, &chain).ok());
  CHECK(chain.records() == 5);
  CHECK(chain.first_bad_seq() == 0);
  CHECK(chain.head_hash_hex() == HexEncode(r.head));
  std::string_view payload;
  std::string digest;
  REQUIRE(CheckedPayload(r.rows[BigEndian64(3)], 3, &payload, &digest).ok());
  CHECK(digest == Digest(r.rows[BigEndian64(3)]));
  Event e;
  REQUIRE(DecodeEvent(payload, 3, &e).ok());
  CHECK(e.seq == 3);
  // An empty log with an empty head.
  ChainChecker none;
  CHECK(none.Finish(0, std::string(kSha256Size, '\0')).ok());
}

TEST_CASE("each kind of tampering is named at its record", "[log_record]") {
  Records r = Build(5);
  ChainChecker chain;
  SECTION("a byte of a record altered") {
    r.rows[BigEndian64(3)][10] ^= 1;
    CHECK(Says(Check(r, 5, &chain), "log record 3: content does not match"));
    CHECK(chain.first_bad_seq() == 3);
    CHECK(chain.records() == 2);
  }
  SECTION("a record too short") {
    r.rows[BigEndian64(2)] = "x";
    CHECK(Says(Check(r, 5, &chain), "log record 2: too short"));
  }
  SECTION("a record removed") {
    r.rows.erase(BigEndian64(3));
    CHECK(Says(Check(r, 5, &chain), "log record 3 is missing (next is 4)"));
    CHECK(chain.first_bad_seq() == 3);
  }
  SECTION("a key that is no sequence") {
    r.rows[BigEndian64(2) + "x"] = r.rows[BigEndian64(2)];
    CHECK(Says(Check(r, 5, &chain), "a key of 9 bytes was inserted"));
  }
  SECTION("a record replaced whole, with a digest of its own") {
    r.rows[BigEndian64(3)] = Value(3, std::string(kSha256Size, 'z'));
    CHECK(Says(Check(r, 5, &chain),
               "the hash chain breaks between log records 2 and 3"));
    CHECK(chain.first_bad_seq() == 2);
  }
  SECTION("the last records removed") {
    r.rows.erase(BigEndian64(5));
    CHECK(Says(Check(r, 5, &chain),
               "the log head says the last record is 5 but the log ends at 4 "
               "(records were removed)"));
    CHECK(chain.first_bad_seq() == 5);
  }
  SECTION("a record added after the head") {
    CHECK(Says(Check(r, 4, &chain), "(records were added)"));
  }
  SECTION("the last record replaced (the head names another digest)") {
    r.head[0] ^= 1;
    CHECK(Says(Check(r, 5, &chain),
               "log record 5 does not match the log head's SHA-256"));
    CHECK(chain.first_bad_seq() == 5);
    CHECK(chain.records() == 5);
  }
}

}  // namespace dirledger

#include "codecs/event_codec.h"

#include <catch2/catch.hpp>
#include <random>

#include "codecs/config.h"
#include "codecs/rules_version.h"
#include "codecs/test_events.h"

namespace dirledger {
namespace {

Event WithBody(EventBody body, std::uint64_t seq = 7) {
  Event e;
  e.seq = seq;
  e.time_us = 1234567;
  e.prev_hash = std::string(32, '\x5a');
  e.body = std::move(body);
  return e;
}

void RoundTrip(const Event& in) {
  const std::string bytes = EncodeEvent(in);
  Event out;
  REQUIRE(DecodeEvent(bytes, in.seq, &out).ok());
  CHECK(out.seq == in.seq);
  CHECK(out.time_us == in.time_us);
  CHECK(out.prev_hash == in.prev_hash);
  CHECK(out.body.index() == in.body.index());
  // Re-encoding the decoded event gives the same bytes.
  CHECK(EncodeEvent(out) == bytes);
}

}  // namespace

TEST_CASE("a ConfigChange keeps its rules version; 0 is not written",
          "[codec]") {
  ConfigChange c{"data_dir = \"x\"", std::string(32, '\x11'), {}, "/x.toml"};
  const std::string before_revisions = EncodeEvent(WithBody(c));
  c.reconciler_rules = 3;
  const std::string with = EncodeEvent(WithBody(c));
  CHECK(with != before_revisions);
  Event out;
  REQUIRE(DecodeEvent(with, 7, &out).ok());
  CHECK(std::get<ConfigChange>(out.body).reconciler_rules == 3);
  REQUIRE(DecodeEvent(before_revisions, 7, &out).ok());
  CHECK(std::get<ConfigChange>(out.body).reconciler_rules == 0);
  // A log written before revisions existed re-encodes to the same bytes.
  CHECK(EncodeEvent(out) == before_revisions);
}

TEST_CASE("every event type round-trips byte for byte", "[codec]") {
  ObservedChange c = testing::PersonChange(42);
  c.value_adds = {{"member", {"uid=a"}}};
  c.value_deletes = {{"member", {"uid=b"}}};
  c.origin_intent = 99;
  RoundTrip(WithBody(c));
  // A delete of an entry that left the scope names where it is; a change
  // that does not encodes as before the field existed.
  ObservedChange left = testing::PersonChange(43, ChangeOp::kDelete);
  const std::string plain = EncodeEvent(WithBody(left));
  left.remains_at = "uid=p43,ou=elsewhere,dc=example,dc=com";
  RoundTrip(WithBody(left));
  Event moved;
  REQUIRE(DecodeEvent(EncodeEvent(WithBody(left)), 7, &moved).ok());
  CHECK(std::get<ObservedChange>(moved.body).remains_at == left.remains_at);
  CHECK(EncodeEvent(WithBody(left)).size() > plain.size());
  RoundTrip(
      WithBody(CursorAdvance{"corp/syncrepl", std::string("\x00\x01rid", 5)}));
  RoundTrip(WithBody(RefreshPhase{"corp/syncrepl", "corp", PhaseKind::kEnd,
                                  RefreshMode::kPresent, 10, 8, 2}));
  RoundTrip(WithBody(ConfigChange{"data_dir = \"x\"",
                                  std::string(32, 'h'),
                                  {{"schema.toml", "[account]"}},
                                  "d.toml"}));
  RoundTrip(WithBody(ConfigChange{"data_dir = \"x\"",
                                  std::string(32, 'h'),
                                  {},
                                  "d.toml",
                                  kReconcilerRules}));
  OperatorAction a;
  a.kind = ActionKind::kRollback;
  a.actor = "root";
  a.to_seq = 5;
  a.targets.push_back(ObjectTarget{Side::kMail,
                                   ObjectKind::kAccount,
                                   "a@b.c",
                                   "a@b.c",
                                   "b.c",
                                   "corp",
                                   true,
                                   {{"firstName", {"A"}}},
                                   ""});
  const std::string without = EncodeEvent(WithBody(a));
  RoundTrip(WithBody(a));
  // A target renamed back keeps the address it is renamed from; one that is
  // not encodes as before the field existed.
  a.targets.back().renamed_from = "x@b.c";
  RoundTrip(WithBody(a));
  Event renamed;
  REQUIRE(DecodeEvent(EncodeEvent(WithBody(a)), 7, &renamed).ok());
  CHECK(std::get<OperatorAction>(renamed.body).targets.at(0).renamed_from ==
        "x@b.c");
  CHECK(EncodeEvent(WithBody(a)).size() > without.size());
  RoundTrip(WithBody(WriteOutcome{MakeIntentId(5, 1), true, "ok", Side::kMail,
                                  "a@b.c", "", false, 1, false}));
  DeleteHold h;
  h.hold_id = "h-12";
  h.deletes.push_back(
      ObjectRef{Side::kLdap, ObjectKind::kGroup, "id", "cn=g", "b.c", ""});
  RoundTrip(WithBody(h));
  h.deletes.push_back(ObjectRef{Side::kLdap, ObjectKind::kAccount, "id2",
                                "uid=m", "b.c", "uid=m,ou=out"});
  RoundTrip(WithBody(h));
  RoundTrip(WithBody(ObjectError{Side::kLdap, "s", "corp", "id", "cn=x",
                                 "invalid UTF-8 in cn"}));
}

TEST_CASE("decoded change keeps every field", "[codec]") {
  ObservedChange c = testing::PersonChange(3, ChangeOp::kAdd);
  Event in = WithBody(c);
  Event out;
  REQUIRE(DecodeEvent(EncodeEvent(in), 7, &out).ok());
  const auto& o = std::get<ObservedChange>(out.body);
  CHECK(o.id == c.id);
  CHECK(o.dn == c.dn);
  CHECK(o.op == ChangeOp::kAdd);
  CHECK(o.full_image);
  CHECK(o.attrs == c.attrs);
}

TEST_CASE("binary and non-UTF-8 values survive", "[codec]") {
  ObservedChange c;
  c.id = std::string("\x12\x00\xff", 3);
  c.attrs = {{"jpegPhoto", {std::string("\xff\xd8\x00\x00\xc3", 5)}}};
  Event out;
  REQUIRE(DecodeEvent(EncodeEvent(WithBody(c)), 7, &out).ok());
  CHECK(std::get<ObservedChange>(out.body).attrs == c.attrs);
  CHECK(std::get<ObservedChange>(out.body).id == c.id);
}

TEST_CASE("the decoder rejects garbage with Corruption naming the sequence",
          "[codec]") {
  std::mt19937 rng(1234);
  for (int i = 0; i < 2000; ++i) {
    std::string junk(rng() % 200, '\0');
    for (char& ch : junk) ch = static_cast<char>(rng());
    Event out;
    Status s = DecodeEvent(junk, 31, &out);
    if (s.ok()) continue;  // astronomically unlikely, but not a failure
    CHECK(s.IsCorruption());
    CHECK(s.message().find("31") != std::string::npos);
  }
  Event out;
  CHECK(DecodeEvent("", 1, &out).IsCorruption());
}

TEST_CASE("a record stored under another sequence is rejected", "[codec]") {
  const std::string bytes = EncodeEvent(WithBody(CursorAdvance{"s", "c"}, 8));
  Event out;
  Status s = DecodeEvent(bytes, 9, &out);
  CHECK(s.IsCorruption());
  CHECK(s.message().find("record 9") != std::string::npos);
}

TEST_CASE("truncated records never decode", "[codec]") {
  const std::string bytes = EncodeEvent(WithBody(testing::PersonChange(1)));
  for (size_t n = 0; n < bytes.size(); n += 7) {
    Event out;
    CHECK_FALSE(DecodeEvent(bytes.substr(0, n), 7, &out).ok());
  }
}

TEST_CASE("decisions round-trip with intents", "[codec]") {
  Decision d;
  d.seq = 12;
  d.rule = "direction/ldap_to_axigen";
  d.outcome = Outcome::kPropagated;
  d.reason = "LDAP is authoritative";
  Intent i;
  i.id = MakeIntentId(12, 0);
  i.target = Side::kMail;
  i.op = IntentOp::kModify;
  i.target_id = "user@example.com";
  i.set = {{"firstName", {"A"}}};
  i.expect = {{"firstName", {"B"}}};
  d.intents.push_back(i);
  d.object_ids = {"user@example.com", "uuid"};
  const std::string bytes = EncodeDecision(d);
  Decision out;
  REQUIRE(DecodeDecision(bytes, 12, &out).ok());
  CHECK(EncodeDecision(out) == bytes);
  CHECK(out.intents.at(0).set == i.set);
  CHECK(DecodeDecision(bytes, 13, &out).IsCorruption());
  CHECK(DecodeDecision("garbage", 12, &out).IsCorruption());
}

TEST_CASE("intent ids are replay-stable and carry their sequence", "[codec]") {
  CHECK(IntentSeq(MakeIntentId(123456, 7)) == 123456);
  CHECK(MakeIntentId(1, 0) != MakeIntentId(1, 1));
}

}  // namespace dirledger

#include "dirledger/fb/event_generated.h"

namespace dirledger {

TEST_CASE("an event whose union type has no body is Corruption, not a crash",
          "[codec]") {
  flatbuffers::FlatBufferBuilder b;
  fb::EventBuilder eb(b);
  eb.add_seq(4);
  eb.add_body_type(fb::EventBody::OperatorAction);
  b.Finish(eb.Finish());
  Event out;
  Status s = DecodeEvent(
      std::string_view(reinterpret_cast<const char*>(b.GetBufferPointer()),
                       b.GetSize()),
      4, &out);
  CHECK(s.IsCorruption());
  CHECK(s.message().find("has no body") != std::string::npos);
}

}  // namespace dirledger

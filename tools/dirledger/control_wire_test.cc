#include "tools/dirledger/control_wire.h"

#include <catch2/catch.hpp>

namespace dirledger::cli {
namespace {

TEST_CASE("a request goes through the wire and back whole", "[control]") {
  ControlRequest r;
  r.argv = {"dirledger",
            "--config",
            "/etc/d.toml",
            "mail",
            "set",
            "a@example.com",
            "displayName=Ada \"Countess\"\nLovelace"};
  r.actor = "alice";
  r.password = "s3cret";
  auto line = EncodeRequest(r);
  REQUIRE(line.ok());
  CHECK(line->back() == '\n');
  CHECK(line->find('\n') == line->size() - 1);  // one line
  auto back = DecodeRequest(*line);
  REQUIRE(back.ok());
  CHECK(back->argv == r.argv);
  CHECK(back->actor == "alice");
  REQUIRE(back->password);
  CHECK(*back->password == "s3cret");
}

TEST_CASE("a reply over the limit is cut to fit, even when it escapes long",
          "[control]") {
  ControlReply r;
  r.exit = 0;
  // Each control byte is six bytes of JSON (\u0001).
  r.out.assign(kMaxReplyBytes, '\x01');
  r.err = "done\n";
  const std::string line = EncodeReply(r);
  CHECK(line.size() <= kMaxReplyBytes);
  ControlReply back;
  std::string note;
  REQUIRE(DecodeServiceLine(line, &back, &note).ok());
  CHECK(note.empty());
  CHECK(back.exit == 1);  // output that did not arrive whole never exits 0
  CHECK(back.err.find("the output was cut") != std::string::npos);
  CHECK(back.out.size() < r.out.size());
}

TEST_CASE("a request without actor or password has neither", "[control]") {
  auto back = DecodeRequest(R"({"argv":["dirledger","approve","hold-3"]})");
  REQUIRE(back.ok());
  CHECK(back->actor.empty());
  CHECK_FALSE(back->password);
}

TEST_CASE("malformed requests are refused, saying what is wrong", "[control]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"garbage\n", "not one JSON object"},
      {"", "not one JSON object"},
      {"[1,2]\n", "not a JSON object"},
      {R"({"argv":"approve"})", "not an array of strings"},
      {R"({"argv":["dirledger",3]})", "not an array of strings"},
      {R"({"argv":["dirledger"]})", "holds no command"},
      {R"({})", "has no \"argv\""},
      {R"({"argv":["dirledger","approve","h"],"actor":1})",
       "\"actor\" is not a string"},
      {R"({"argv":["dirledger","approve","h"],"password":[]})",
       "\"password\" is not a string"},
      {R"({"argv":["dirledger","approve","h"],"exec":"sh"})",
       "unknown key \"exec\""},
      {"{\"argv\":[\"dirledger\",\"approve\",\"\xff\"]}", "not one JSON"},
  };
  for (const auto& [line, says] : cases) {
    INFO(line);
    auto r = DecodeRequest(line);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kInvalidArgument);
    CHECK(r.status().message().find(says) != std::string::npos);
  }
}

TEST_CASE("requests over the limits are refused on both sides", "[control]") {
  ControlRequest big;
  big.argv = {"dirledger", "mail", "set", "a@example.com",
              "displayName=" + std::string(kMaxRequestBytes, 'x')};
  auto encoded = EncodeRequest(big);
  REQUIRE_FALSE(encoded.ok());
  CHECK(encoded.status().message().find("more than the control socket takes") !=
        std::string::npos);

  const std::string line = R"({"argv":["dirledger","x"],"actor":")" +
                           std::string(kMaxRequestBytes, 'a') + "\"}\n";
  auto decoded = DecodeRequest(line);
  REQUIRE_FALSE(decoded.ok());
  CHECK(decoded.status().message().find("longer than the limit") !=
        std::string::npos);

  ControlRequest many;
  many.argv.assign(kMaxRequestWords + 1, "w");
  CHECK_FALSE(EncodeRequest(many).ok());
  std::string words = R"({"argv":[)";
  for (std::size_t i = 0; i <= kMaxRequestWords; ++i)
    words += std::string(i ? "," : "") + "\"w\"";
  words += "]}";
  auto too_many = DecodeRequest(words);
  REQUIRE_FALSE(too_many.ok());
  CHECK(too_many.status().message().find("words") != std::string::npos);
}

TEST_CASE("a word that is not UTF-8 is refused before it is sent",
          "[control]") {
  ControlRequest r;
  r.argv = {"dirledger", "dismiss", "F\xff"};
  auto line = EncodeRequest(r);
  REQUIRE_FALSE(line.ok());
  CHECK(line.status().message().find("UTF-8") != std::string::npos);
}

TEST_CASE("the service's notes and reply are told apart", "[control]") {
  ControlReply reply;
  std::string note;
  REQUIRE(DecodeServiceLine(EncodeNote("waiting for the service's current "
                                       "cycle"),
                            &reply, &note)
              .ok());
  CHECK(note == "waiting for the service's current cycle");

  ControlReply sent;
  sent.exit = 3;
  sent.out = "rollback to sequence 5:\n\x1b[31m\n";
  sent.err = "dirledger: the rollback deletes 5 objects\n";
  REQUIRE(DecodeServiceLine(EncodeReply(sent), &reply, &note).ok());
  CHECK(note.empty());
  CHECK(reply.exit == 3);
  CHECK(reply.out == sent.out);
  CHECK(reply.err == sent.err);

  CHECK_FALSE(DecodeServiceLine("{\"exit\":0}\n", &reply, &note).ok());
  CHECK_FALSE(DecodeServiceLine("nonsense\n", &reply, &note).ok());
}

TEST_CASE("output that is not UTF-8 still makes a reply", "[control]") {
  ControlReply sent;
  sent.out = "caf\xe9\n";
  ControlReply reply;
  std::string note;
  REQUIRE(DecodeServiceLine(EncodeReply(sent), &reply, &note).ok());
  CHECK(reply.out == "caf\xef\xbf\xbd\n");  // U+FFFD
}

}  // namespace
}  // namespace dirledger::cli

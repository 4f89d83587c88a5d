#include "engine/axigen/cli_quoting.h"

#include <catch2/catch.hpp>

namespace dirledger {
namespace {

TEST_CASE("values are double-quoted with \" and \\ escaped", "[cli_quoting]") {
  REQUIRE(*QuoteValue("Ada", "f") == "\"Ada\"");
  REQUIRE(*QuoteValue("", "f") == "\"\"");
  REQUIRE(*QuoteValue("a \"b\" c", "f") == "\"a \\\"b\\\" c\"");
  REQUIRE(*QuoteValue("C:\\dir\\", "f") == "\"C:\\\\dir\\\\\"");
  REQUIRE(*QuoteValue("'single'", "f") == "\"'single'\"");
  REQUIRE(*QuoteValue("Zo\xc3\xab \xe6\x97\xa5\xe6\x9c\xac", "f") ==
          "\"Zo\xc3\xab \xe6\x97\xa5\xe6\x9c\xac\"");
}

TEST_CASE("control characters are refused, naming where", "[cli_quoting]") {
  for (std::string bad :
       {std::string("a\r\nUPDATE Domain name x"), std::string("a\nb"),
        std::string("a\rb"), std::string("a\0b", 3), std::string("tab\there"),
        std::string("del\x7f")}) {
    auto r = QuoteValue(bad, "ada@example.com: title");
    REQUIRE_FALSE(r.ok());
    REQUIRE(r.status().code() == StatusCode::kInvalidArgument);
    REQUIRE(r.status().message().find("ada@example.com: title") == 0);
    REQUIRE(r.status().message().find("control character") !=
            std::string::npos);
  }
}

TEST_CASE("quoting round-trips through unquoting", "[cli_quoting]") {
  std::string all;
  for (int c = 0x20; c < 0x7f; ++c) all += static_cast<char>(c);
  all += "\xc3\xa9\xf0\x9f\x98\x80";
  const std::string big(100 * 1024, '\\');
  for (const std::string& v : {all, big, std::string("\"\"\"\\\\\""),
                               std::string(" leading and trailing ")}) {
    auto q = QuoteValue(v, "f");
    REQUIRE(q.ok());
    auto back = UnquoteValue(*q);
    REQUIRE(back.ok());
    REQUIRE(*back == v);
  }
}

TEST_CASE("malformed quoted strings are errors", "[cli_quoting]") {
  for (const char* bad : {"", "\"", "abc", "\"abc", "\"a\"b", "\"a\\\"",
                          "\"a\\nb\"", "\"a\\", "\"\"\""}) {
    INFO(bad);
    REQUIRE_FALSE(UnquoteValue(bad).ok());
  }
}

}  // namespace
}  // namespace dirledger

namespace dirledger {
namespace {

TEST_CASE("passwords are hidden from commands shown in messages",
          "[cli_quoting]") {
  CHECK(HidePasswords("ADD Account name \"ada\" password \"5980f8b0783d\"") ==
        "ADD Account name \"ada\" password \"***\"");
  CHECK(HidePasswords("ADD Account name \"ada\" PASSWORD \"a \\\" b\" x") ==
        "ADD Account name \"ada\" PASSWORD \"***\" x");
  CHECK(HidePasswords("SET password 'p w'") == "SET password \"***\"");
  CHECK(HidePasswords("SET password p\\ w next") ==
        "SET password \"***\" next");
  CHECK(HidePasswords("SET password \"unterminated") == "SET password \"***\"");
  CHECK(HidePasswords("SET passwords \"x\"") == "SET passwords \"x\"");
  CHECK(HidePasswords("SET firstName \"Ada\"") == "SET firstName \"Ada\"");
  CHECK(HidePasswords("password") == "password");
}

}  // namespace
}  // namespace dirledger

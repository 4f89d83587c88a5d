#include "engine/axigen/cli_reply.h"

#include <catch2/catch.hpp>
#include <random>

namespace dirledger {
namespace {

TEST_CASE("prompts are recognized only at the end", "[cli_reply]") {
  REQUIRE(EndsWithPrompt("<login> "));
  REQUIRE(EndsWithPrompt("Welcome\r\n<login> "));
  REQUIRE(EndsWithPrompt("+OK: x\r\n<domain-account#> "));
  REQUIRE(EndsWithPrompt("+OK: x\r\n<#> "));
  REQUIRE_FALSE(EndsWithPrompt(""));
  REQUIRE_FALSE(EndsWithPrompt("+OK: x\r\n<#>"));
  REQUIRE_FALSE(EndsWithPrompt("+OK: x\r\n<#> \r\n"));
  REQUIRE_FALSE(EndsWithPrompt("firstName = \"<#> "));
  REQUIRE_FALSE(EndsWithPrompt("+OK\r\n<a b#> "));
  REQUIRE_FALSE(EndsWithPrompt("+OK\r\n<a.b#> "));
}

TEST_CASE("a reply splits into lines, status and prompt", "[cli_reply]") {
  auto r =
      ParseReply("ada\r\nbob\r\n+OK: command successful\r\n<domain#> ", true);
  REQUIRE(r.ok());
  REQUIRE(r->lines == std::vector<std::string>{"ada", "bob"});
  REQUIRE(r->ok);
  REQUIRE(r->status_text == "command successful");
  REQUIRE(r->prompt == "domain#");
  REQUIRE(r->context() == "domain");
  REQUIRE(r->logged_in());
  REQUIRE(ParseList(*r) == std::vector<std::string>{"ada", "bob"});

  auto e = ParseReply("-ERR: no such account\r\n<domain#> ", true);
  REQUIRE_FALSE(e->ok);
  REQUIRE(e->has_status);
  REQUIRE(e->status_text == "no such account");

  auto root = ParseReply("+OK: Authentication successful\r\n<#> ", true);
  REQUIRE(root->context().empty());
  REQUIRE(root->logged_in());

  auto login = ParseReply("Welcome\r\nYou must login first\r\n<login> ", false);
  REQUIRE(login->prompt == "login");
  REQUIRE_FALSE(login->logged_in());
}

TEST_CASE("a reply without a status line is an error when one is due",
          "[cli_reply]") {
  auto r = ParseReply("\x01\xff<garbled>\r\n<#> ", true);
  REQUIRE_FALSE(r.ok());
  REQUIRE(r.status().message().find("no +OK/-ERR line") != std::string::npos);
  REQUIRE(r.status().message().find("\\x01") != std::string::npos);
  REQUIRE_FALSE(ParseReply("+OK: fine\r\n", true).ok());
}

TEST_CASE("SHOW values: quoted ones decoded, others as they stand",
          "[cli_reply]") {
  auto r = ParseReply(
      "The attributes:\r\n"
      "firstName = \"Ada \\\"the\\\" = \\\\ Countess\"\r\n"
      "lastName = Lovelace\r\n"
      "title = \"\"\r\n"
      "+OK: command successful\r\n<domain-account-contactinfo#> ",
      true);
  auto show = ParseShow(*r);
  REQUIRE(show.ok());
  REQUIRE(show->size() == 3);
  REQUIRE((*show)[0] == std::pair<std::string, std::string>(
                            "firstName", "Ada \"the\" = \\ Countess"));
  REQUIRE((*show)[1].second == "Lovelace");
  REQUIRE((*show)[2].second.empty());
  auto bad = ParseReply("firstName = \"unterminated\r\n+OK\r\n<#> ", true);
  REQUIRE_FALSE(ParseShow(*bad).ok());
}

TEST_CASE("random bytes never crash the parser", "[cli_reply]") {
  std::mt19937 rng(12345);
  const std::string alphabet = "<>#-+OKER: =\"\\\r\nab\x01\xff";
  for (int i = 0; i < 20000; ++i) {
    std::string s;
    const int len = static_cast<int>(rng() % 64);
    for (int k = 0; k < len; ++k) s += alphabet[rng() % alphabet.size()];
    (void)EndsWithPrompt(s);
    auto r = ParseReply(s, (i & 1) != 0);
    if (r.ok()) {
      (void)ParseShow(*r);
      (void)ParseList(*r);
    }
  }
  SUCCEED();
}

}  // namespace
}  // namespace dirledger

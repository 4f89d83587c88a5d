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
  REQUIRE(ParseList(*r, "LIST Accounts").value() ==
          std::vector<std::string>{"ada", "bob"});

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

// The reply to `command` whose output lines are `lines`, as the CLI sends it.
CliReply Listing(const std::vector<std::string>& lines) {
  std::string raw;
  for (const auto& l : lines) raw += l + "\r\n";
  raw += "+OK: command successful\r\n<domain#> ";
  return ParseReply(raw, true).value();
}

TEST_CASE("LIST Accounts as Axigen prints it: a table under a title",
          "[cli_reply][list]") {
  const auto r = Listing({"The list of accounts:", "", "name",
                          "------------------------------", "", "ada",
                          "bob.smith", "carol+test", ""});
  auto list = ParseList(r, "LIST Accounts");
  REQUIRE(list.ok());
  REQUIRE(*list == std::vector<std::string>{"ada", "bob.smith", "carol+test"});
  // The header word is never an item, whatever the command's case.
  REQUIRE(ParseList(r, "list groups").value().front() == "ada");
  // An empty domain: the table with no rows.
  auto empty = ParseList(
      Listing({"The list of accounts:", "", "name", "-------", "", ""}),
      "LIST Accounts");
  REQUIRE(empty.ok());
  REQUIRE(empty->empty());
  // Several columns: the first is the name.
  auto wide = ParseList(Listing({"The list of domains:", "", "name  | status",
                                 "------+-------", "", "example.com | ok", ""}),
                        "LIST Domains");
  REQUIRE(wide.ok());
  REQUIRE(*wide == std::vector<std::string>{"example.com"});
}

TEST_CASE("LIST Aliases as Axigen prints it: items under a title",
          "[cli_reply][list]") {
  auto list = ParseList(
      Listing({"The list of aliases:", "", "countess", "ada.king", ""}),
      "LIST Aliases");
  REQUIRE(list.ok());
  REQUIRE(*list == std::vector<std::string>{"countess", "ada.king"});
  auto none =
      ParseList(Listing({"The list of aliases:", "", ""}), "LIST Aliases");
  REQUIRE(none.ok());
  REQUIRE(none->empty());
}

TEST_CASE("the bare form: one item per line", "[cli_reply][list]") {
  REQUIRE(ParseList(Listing({"ada", "", "bob"}), "LIST Accounts").value() ==
          std::vector<std::string>{"ada", "bob"});
  REQUIRE(ParseList(Listing({"a@example.com"}), "LIST Addresses").value() ==
          std::vector<std::string>{"a@example.com"});
  REQUIRE(ParseList(Listing({}), "LIST Accounts").value().empty());
}

TEST_CASE("a listing that does not parse is an error naming command and line",
          "[cli_reply][list]") {
  auto expect_error = [](const std::vector<std::string>& lines,
                         const std::string& command, const std::string& line,
                         const std::string& why) {
    auto list = ParseList(Listing(lines), command);
    INFO(command << ": " << (list.ok() ? "parsed" : list.status().message()));
    REQUIRE_FALSE(list.ok());
    REQUIRE(list.status().code() == StatusCode::kUnavailable);
    const std::string& m = list.status().message();
    REQUIRE(m.find("`" + command + "`") != std::string::npos);
    REQUIRE(m.find(line) != std::string::npos);
    REQUIRE(m.find(why) != std::string::npos);
  };
  // The rule under the header is missing: "name" must not become an account.
  expect_error({"The list of accounts:", "", "name", "", "ada", ""},
               "LIST Accounts", "line 1 \"The list of accounts:\"",
               "no column header with a dashed rule");
  // Cut short after the title, or after the header.
  expect_error({"The list of accounts:"}, "LIST Accounts", "line 1",
               "no column header");
  expect_error({"The list of groups:", "", "name"}, "LIST Groups", "line 1",
               "no column header");
  // A rule with no header above it, or a second rule.
  expect_error({"The list of accounts:", "", "------", "ada"}, "LIST Accounts",
               "line 3", "no column header above it");
  expect_error({"The list:", "", "name", "----", "", "ada", "----"},
               "LIST Accounts", "line 7", "a second dashed rule");
  // Text between the title and the header.
  expect_error({"The list:", "surprise", "name", "----", "", "ada"},
               "LIST Accounts", "line 2", "between the title");
  // An item line of several words where names are due.
  expect_error({"The list:", "", "name", "----", "", "ada", "2 accounts found"},
               "LIST Accounts", "line 7 \"2 accounts found\"",
               "not a single name");
  expect_error({"ada", "bob smith"}, "LIST Accounts", "line 2",
               "not a single name");
  // A row whose first column is empty (found by the fuzz target).
  expect_error({"The list:", "", "name | x", "-----+--", "", "| ada"},
               "LIST Domains", "line 6", "no name in its first column");
  // A titled listing without the blank line under its title.
  expect_error({"The list of aliases:", "countess"}, "LIST Aliases", "line 1",
               "without the blank line");
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
      (void)ParseList(*r, "LIST Accounts");
      (void)ParseList(*r, "LIST Aliases");
    }
  }
  SUCCEED();
}

}  // namespace
}  // namespace dirledger

// The CLI client against the fake Axigen CLI server on 127.0.0.1 (ports
// chosen by the kernel).
#include "engine/axigen/cli_client.h"

#include <catch2/catch.hpp>

#include "engine/axigen/cli_quoting.h"
#include "tests/fake_axigen/fake_axigen_server.h"

namespace dirledger {
namespace {

struct Fixture {
  test::FakeAxigenServer server;
  Fixture() {
    REQUIRE(server.Start().ok());
    server.AddDomain("example.com");
  }
  AxigenEndpoint Endpoint(std::string password = "secret") {
    AxigenEndpoint e;
    e.transport.port = server.port();
    e.transport.timeout_s = 5;
    e.password = Secret(std::move(password));
    return e;
  }
  std::unique_ptr<AxigenCliClient> Login() {
    auto c = AxigenCliClient::Connect(Endpoint());
    REQUIRE(c.ok());
    return std::move(c).value();
  }
};

// Creates account ada with `value` as its firstName and reads it back.
std::string RoundTrip(AxigenCliClient* c, const std::string& value) {
  REQUIRE(c->Expect("UPDATE Domain name \"example.com\"").ok());
  REQUIRE(c->Expect("ADD Account name ada password \"pw\"").ok());
  REQUIRE(c->context() == "domain-account");
  REQUIRE(c->Expect("CONFIG ContactInfo").ok());
  REQUIRE(c->context() == "domain-account-contactinfo");
  auto q = QuoteValue(value, "firstName");
  REQUIRE(q.ok());
  REQUIRE(c->Expect("SET firstName " + *q).ok());
  REQUIRE(c->Expect("DONE").ok());
  REQUIRE(c->Expect("COMMIT").ok());
  REQUIRE(c->context() == "domain");
  REQUIRE(c->Expect("UPDATE Account name ada").ok());
  auto show = c->Expect("SHOW ContactInfo");
  REQUIRE(show.ok());
  auto pairs = ParseShow(*show);
  REQUIRE(pairs.ok());
  REQUIRE(pairs->size() == 1);
  REQUIRE(c->Expect("BACK").ok());
  REQUIRE(c->Expect("REMOVE Account name ada").ok());
  REQUIRE(c->Expect("COMMIT").ok());
  REQUIRE(c->context().empty());
  return (*pairs)[0].second;
}

TEST_CASE("login, contexts and QUIET mode", "[axigen_client]") {
  Fixture f;
  auto c = f.Login();
  REQUIRE(c->context().empty());
  auto domains = c->Expect("LIST Domains");
  REQUIRE(domains.ok());
  REQUIRE(ParseList(*domains, "LIST Domains").value() ==
          std::vector<std::string>{"example.com"});
  REQUIRE(c->Expect("UPDATE Domain name example.com").ok());
  REQUIRE(c->context() == "domain");
  REQUIRE(c->Expect("ADD Group name staff").ok());
  REQUIRE(c->context() == "domain-group");
  REQUIRE(c->BackToRoot().ok());
  REQUIRE(c->context().empty());
  REQUIRE(f.server.State().at("example.com").groups.empty());  // BACK discards
  const auto cmds = f.server.commands();
  REQUIRE(cmds[0] == "SET QUIET on");
  REQUIRE(cmds[1] == "USER admin");
  REQUIRE(cmds[2] == "<password>");
}

TEST_CASE("a refused login is a clear error without the password",
          "[axigen_client]") {
  Fixture f;
  auto c = AxigenCliClient::Connect(f.Endpoint("wrong-pass-123"));
  REQUIRE_FALSE(c.ok());
  REQUIRE(c.status().code() == StatusCode::kInvalidArgument);
  REQUIRE(c.status().message().find("Authentication failed") !=
          std::string::npos);
  REQUIRE(c.status().message().find("wrong-pass-123") == std::string::npos);
}

TEST_CASE("each command changes the fake as documented", "[axigen_client]") {
  Fixture f;
  auto c = f.Login();
  REQUIRE(c->Expect("UPDATE Domain name example.com").ok());
  REQUIRE(c->Expect("ADD Account name ada password \"p w\"").ok());
  REQUIRE(c->Expect("CONFIG ContactInfo").ok());
  REQUIRE(c->Expect("SET firstName \"Ada\"").ok());
  REQUIRE(c->Expect("SET lastName 'King'").ok());
  REQUIRE(c->Expect("SET title Countess\\ of\\ Lovelace").ok());
  // Not in the server until the account is committed.
  REQUIRE(f.server.State().at("example.com").accounts.empty());
  REQUIRE(c->Expect("DONE").ok());
  REQUIRE(c->Expect("ADD Alias \"countess\"").ok());
  REQUIRE(c->Expect("COMMIT").ok());
  auto ada = f.server.State().at("example.com").accounts.at("ada");
  REQUIRE(ada.contact.at("firstName") == "Ada");
  REQUIRE(ada.contact.at("lastName") == "King");
  REQUIRE(ada.contact.at("title") == "Countess of Lovelace");
  REQUIRE(ada.aliases == std::set<std::string>{"countess"});
  REQUIRE(ada.password == "p w");

  auto accounts = c->Expect("LIST Accounts");
  REQUIRE(ParseList(*accounts, "LIST Accounts").value() ==
          std::vector<std::string>{"ada"});
  REQUIRE(c->Expect("UPDATE Account name ada").ok());
  REQUIRE(ParseList(*c->Expect("LIST Aliases"), "LIST Aliases").value() ==
          std::vector<std::string>{"countess"});
  REQUIRE(c->Expect("CONFIG ContactInfo").ok());
  REQUIRE(c->Expect("SET title \"\"").ok());
  REQUIRE(c->Expect("BACK").ok());  // discards the title change
  REQUIRE(c->Expect("COMMIT").ok());
  REQUIRE(f.server.State()
              .at("example.com")
              .accounts.at("ada")
              .contact.count("title") == 1);

  REQUIRE(c->Expect("ADD Group name staff").ok());
  REQUIRE(c->Expect("SET displayName \"All staff\"").ok());
  REQUIRE(c->Expect("ADD Address \"ada@example.com\"").ok());
  REQUIRE(c->Expect("COMMIT").ok());
  auto staff = f.server.State().at("example.com").groups.at("staff");
  REQUIRE(staff.addresses == std::set<std::string>{"ada@example.com"});
  REQUIRE(staff.attrs.at("displayName") == "All staff");

  REQUIRE(c->Expect("REMOVE Account name ada").ok());
  REQUIRE(f.server.State().at("example.com").accounts.count("ada") == 1);
  REQUIRE(c->Expect("COMMIT").ok());
  REQUIRE(f.server.State().at("example.com").accounts.count("ada") == 0);
}

TEST_CASE("hostile values round-trip exactly", "[axigen_client]") {
  Fixture f;
  auto c = f.Login();
  const std::vector<std::string> values = {
      "O\"Brien \"the\" \\\\ back\\slash",
      "'single' and \"double\"",
      " leading and trailing ",
      "key = value = other",
      "<#> +OK: -ERR: looks like protocol",
      "Zo\xc3\xab \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xf0\x9f\x98\x80",
      std::string(100 * 1024, 'x') + "\"\\",
  };
  for (const auto& v : values) {
    INFO(v.substr(0, 40));
    REQUIRE(RoundTrip(c.get(), v) == v);
  }
  REQUIRE(f.server.State().at("example.com").accounts.empty());
}

TEST_CASE("-ERR replies become clear failures", "[axigen_client]") {
  Fixture f;
  auto c = f.Login();
  auto r = c->Expect("UPDATE Domain name nowhere.org");
  REQUIRE_FALSE(r.ok());
  REQUIRE(r.status().message().find("no such domain") != std::string::npos);
  f.server.FailCommand("LIST Domains", 1, "storage is read-only");
  auto l = c->Expect("LIST Domains");
  REQUIRE(l.status().message().find("-ERR storage is read-only") !=
          std::string::npos);
  REQUIRE_FALSE(c->broken());
  REQUIRE(c->Expect("LIST Domains").ok());
}

TEST_CASE("garbled replies and dead servers are errors, not crashes",
          "[axigen_client]") {
  Fixture f;
  auto c = f.Login();
  f.server.GarbleCommand("LIST");
  auto r = c->Execute("LIST Domains");
  REQUIRE_FALSE(r.ok());
  REQUIRE(r.status().code() == StatusCode::kUnavailable);
  REQUIRE(r.status().message().find("malformed reply") != std::string::npos);
  REQUIRE(c->broken());
  REQUIRE_FALSE(c->Execute("LIST Domains").ok());

  const int port = f.server.port();
  f.server.Stop();
  AxigenEndpoint e;
  e.transport.port = port;
  e.transport.timeout_s = 2;
  e.password = Secret("secret");
  auto dead = AxigenCliClient::Connect(e);
  REQUIRE(dead.status().code() == StatusCode::kUnavailable);
}

TEST_CASE("slow replies are waited for up to the timeout", "[axigen_client]") {
  Fixture f;
  auto c = f.Login();
  f.server.SetReplyDelay(std::chrono::milliseconds(50));
  REQUIRE(c->Expect("LIST Domains").ok());  // well within 5 s
  f.server.SetReplyDelay(std::chrono::milliseconds(3000));
  AxigenEndpoint e = f.Endpoint();
  e.transport.timeout_s = 0.2;
  auto slow = AxigenCliClient::Connect(e);
  REQUIRE_FALSE(slow.ok());
  REQUIRE(slow.status().code() == StatusCode::kTimeout);
  f.server.SetReplyDelay(std::chrono::milliseconds(0));
}

TEST_CASE("commands that could break out of their line are refused",
          "[axigen_client]") {
  Fixture f;
  auto c = f.Login();
  auto r = c->Execute("SET firstName \"a\r\nREMOVE Account name ada\"");
  REQUIRE(r.status().code() == StatusCode::kInvalidArgument);
  REQUIRE_FALSE(c->broken());
  auto big = c->Execute("SET firstName \"" + std::string(2 << 20, 'x') + "\"");
  REQUIRE(big.status().message().find("more than the 1 MiB") !=
          std::string::npos);
}

TEST_CASE("TLS to a listener that does not speak it fails clearly",
          "[axigen_client]") {
  Fixture f;
  AxigenEndpoint e = f.Endpoint();
  e.transport.tls = true;
  auto c = AxigenCliClient::Connect(e);
  REQUIRE_FALSE(c.ok());
  REQUIRE(c.status().message().find("TLS handshake failed") !=
          std::string::npos);
  e.transport.ca_file = "/nonexistent/ca.pem";
  auto noca = AxigenCliClient::Connect(e);
  REQUIRE(noca.status().code() == StatusCode::kInvalidArgument);
  REQUIRE(noca.status().message().find("cannot load CA certificates") !=
          std::string::npos);
}

}  // namespace
}  // namespace dirledger

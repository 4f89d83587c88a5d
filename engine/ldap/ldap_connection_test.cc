// LdapConnection against a real slapd on 127.0.0.1 (port 3960 belongs to
// this file), with dead URIs before the live one.
#include "engine/ldap/ldap_connection.h"

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <iterator>
#include <sstream>

#include "tests/support/slapd_server.h"
#include "tests/support/temp_dir.h"

namespace dirledger {
namespace {

// Routes spdlog's default logger into a string for the test's lifetime.
class CapturedLog {
 public:
  CapturedLog() : old_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    auto logger = std::make_shared<spdlog::logger>("captured", sink);
    logger->set_level(spdlog::level::debug);
    logger->set_pattern("%l %v");
    spdlog::set_default_logger(logger);
  }
  ~CapturedLog() { spdlog::set_default_logger(old_); }
  std::string text() const { return out_.str(); }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> old_;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::string s((std::istreambuf_iterator<char>(in)),
                std::istreambuf_iterator<char>());
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

std::size_t Count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto p = text.find(what); p != std::string::npos;
       p = text.find(what, p + 1))
    ++n;
  return n;
}

TEST_CASE("each dead URI before the live one is logged as a warning",
          "[ldap_connection]") {
  test::TempDir tmp;
  test::SlapdServer slapd(tmp / "slapd", 3960);
  const std::string password = ReadFile(slapd.password_file());
  REQUIRE_FALSE(password.empty());
  LdapConnectOptions o;
  // Nothing listens on ports 1-4 of 127.0.0.1: refused at once.
  o.uris = {"ldap://127.0.0.1:1", "ldap://127.0.0.1:2", "ldap://127.0.0.1:3",
            "ldap://127.0.0.1:4", slapd.url()};
  o.bind_dn = test::SlapdServer::kAdminDn;
  o.password = Secret(password);
  o.timeout_s = 2;
  o.what = "connector \"corp\"";

  CapturedLog log;
  auto c = LdapConnection::Connect(o);
  REQUIRE(c.ok());
  REQUIRE((*c)->uri() == slapd.url());
  const std::string text = log.text();
  INFO(text);
  for (int port = 1; port <= 4; ++port) {
    const std::string uri = "ldap://127.0.0.1:" + std::to_string(port);
    REQUIRE(Count(text, "warning connector \"corp\": " + uri + " failed (") ==
            1);
  }
  REQUIRE(Count(text, "using " + slapd.url()) == 4);
  REQUIRE(Count(text, "Can't contact LDAP server") == 4);
  REQUIRE(text.find(password) == std::string::npos);
}

TEST_CASE("a wrong password on the first URI is logged without the password",
          "[ldap_connection]") {
  test::TempDir tmp;
  test::SlapdServer slapd(tmp / "slapd", 3960);
  const std::string password = ReadFile(slapd.password_file());
  LdapConnectOptions o;
  o.uris = {slapd.url()};
  o.bind_dn = test::SlapdServer::kAdminDn;
  o.password = Secret("not-" + password + "-at-all");
  o.timeout_s = 2;
  o.what = "connector \"corp\"";

  CapturedLog log;
  auto c = LdapConnection::Connect(o);
  REQUIRE_FALSE(c.ok());
  const std::string text = log.text();
  INFO(text);
  // Nothing worked: the error names every failure; the log has them at debug.
  REQUIRE(Count(text, "debug connector \"corp\": " + slapd.url() +
                          " failed (bind to") == 1);
  REQUIRE(text.find("warning") == std::string::npos);
  REQUIRE(text.find("not-" + password) == std::string::npos);
  REQUIRE(c.status().message().find(slapd.url()) != std::string::npos);
}

}  // namespace
}  // namespace dirledger

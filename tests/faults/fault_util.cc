#include "tests/faults/fault_util.h"

#include <catch2/catch.hpp>
#include <cstdio>

namespace dirledger::test {

std::map<std::string, nlohmann::json> MailObjects(const DirledgerCli& cli) {
  CliResult r = cli.Run({"mail", "list", "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  std::map<std::string, nlohmann::json> out;
  for (nlohmann::json& j : JsonLines(r.out)) {
    REQUIRE(j.is_object());
    const std::string address = j.value("address", "");
    REQUIRE_FALSE(address.empty());
    INFO(address);
    CHECK(out.count(address) == 0);
    out[address] = std::move(j);
  }
  return out;
}

std::map<std::string, nlohmann::json> MailObjectsSoFar(
    const DirledgerCli& cli) {
  std::map<std::string, nlohmann::json> out;
  CliResult r = cli.Run({"mail", "list", "--json"});
  if (r.exit_code != 0) return out;
  for (nlohmann::json& j : JsonLines(r.out)) {
    if (!j.is_object()) continue;
    const std::string address = j.value("address", "");
    out[address] = std::move(j);
  }
  return out;
}

std::set<std::string> MailAddresses(const DirledgerCli& cli) {
  std::set<std::string> out;
  for (const auto& [address, j] : MailObjects(cli)) out.insert(address);
  return out;
}

LogFigures ReadLog(const DirledgerCli& cli) {
  CliResult r = cli.Run({"log", "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  LogFigures f;
  f.lines = JsonLines(r.out);
  std::map<std::string, int> outcomes;
  std::set<std::string> intents;
  for (const nlohmann::json& j : f.lines) {
    REQUIRE(j.is_object());
    ++f.events;
    if (j.contains("intents"))
      for (const auto& i : j["intents"]) intents.insert(i.value("id", ""));
    const std::string kind = j.value("kind", "");
    if (kind == "outcome") {
      ++outcomes[j.value("intent", "")];
      ++f.outcomes;
      if (!j.value("ok", false)) ++f.failed_outcomes;
    } else if (kind == "error") {
      ++f.errors;
    }
  }
  f.intents = intents.size();
  for (const auto& [id, n] : outcomes)
    if (n > 1) f.duplicate_outcomes.push_back(id);
  for (const std::string& id : intents)
    if (!outcomes.count(id)) f.without_outcome.push_back(id);
  return f;
}

bool VerifyClean(const DirledgerCli& cli, std::string* out) {
  CliResult r = cli.Run({"verify"});
  if (out) *out = r.text();
  return r.exit_code == 0;
}

std::size_t PendingIntents(const DirledgerCli& cli) {
  CliResult r = cli.Run({"status", "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  std::size_t n = 0;
  for (const nlohmann::json& j : JsonLines(r.out))
    if (j.is_object() && j.value("type", "") == "pending") ++n;
  return n;
}

std::uint64_t LastSeq(const DirledgerCli& cli) {
  CliResult r = cli.Run({"status", "--json"});
  if (r.exit_code != 0) return 0;
  for (const nlohmann::json& j : JsonLines(r.out))
    if (j.is_object() && j.value("type", "") == "log")
      return j.value("last_seq", std::uint64_t{0});
  return 0;
}

std::string PersonUid(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "user%06d", i);
  return buf;
}

std::string PersonDn(int i) {
  return "uid=" + PersonUid(i) + ",ou=people,dc=example,dc=com";
}

}  // namespace dirledger::test

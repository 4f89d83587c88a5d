// End to end, the mail side cross-check: the same real slapd synced by
// dirledger into the embedded mail directory and, with [mail] kind =
// "axigen", into the fake Axigen CLI server ends in the same accounts (with
// their contact fields and aliases) and the same groups (with their
// members), after the first sync and after changes, renames of membership
// and deletes.
#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <set>

#include "tests/e2e/e2e_env.h"
#include "tests/fake_axigen/fake_axigen_server.h"

namespace dirledger::test {
namespace {

constexpr int kPort = 4157;

// One mail object as both sides can show it: kind, fields, and the sets of
// aliases and members as full addresses.
struct MailObject {
  std::string kind;
  std::map<std::string, std::string> fields;
  std::set<std::string> aliases;
  std::set<std::string> members;

  friend bool operator==(const MailObject&, const MailObject&) = default;
};
using MailState = std::map<std::string, MailObject>;

std::ostream& operator<<(std::ostream& os, const MailState& state) {
  for (const auto& [address, o] : state) {
    os << address << " (" << o.kind << ")";
    for (const auto& [k, v] : o.fields) os << " " << k << "=" << v;
    for (const auto& a : o.aliases) os << " alias=" << a;
    for (const auto& m : o.members) os << " member=" << m;
    os << "\n";
  }
  return os;
}

// What `dirledger mail list --json` shows of the embedded directory.
MailState EmbeddedState(CliRunner& dl) {
  auto r = dl.Run({"mail", "list", "--json"});
  INFO(r.Describe());
  REQUIRE(r.exit_code == 0);
  MailState state;
  for (const auto& j : r.Json()) {
    MailObject o;
    o.kind = j["kind"];
    for (const auto& [k, v] : j.items()) {
      if (k == "address" || k == "kind" || k == "domain" || k == "password_set")
        continue;
      if (k == "aliases")
        for (const auto& a : v) o.aliases.insert(a.get<std::string>());
      else if (k == "members")
        for (const auto& m : v) o.members.insert(m.get<std::string>());
      else
        o.fields[k] = v.get<std::string>();
    }
    state[j["address"]] = o;
  }
  return state;
}

// The fake Axigen server's state, in the same terms.
MailState AxigenState(const FakeAxigenServer& server) {
  MailState state;
  for (const auto& [domain, d] : server.State()) {
    for (const auto& [name, a] : d.accounts) {
      MailObject o;
      o.kind = "account";
      for (const auto& [k, v] : a.contact)
        if (!v.empty()) o.fields[k] = v;
      for (const auto& alias : a.aliases)
        o.aliases.insert(alias + "@" + domain);
      state[name + "@" + domain] = o;
    }
    for (const auto& [name, g] : d.groups) {
      MailObject o;
      o.kind = "group";
      for (const auto& [k, v] : g.attrs)
        if (!v.empty()) o.fields[k] = v;
      o.members = g.addresses;
      state[name + "@" + domain] = o;
    }
  }
  return state;
}

void RequireSameMailState(CliRunner& embedded, const FakeAxigenServer& axigen,
                          size_t expected_objects) {
  const MailState a = EmbeddedState(embedded);
  const MailState b = AxigenState(axigen);
  INFO("embedded:\n" << a << "axigen:\n" << b);
  REQUIRE(a.size() == expected_objects);
  REQUIRE(a == b);
}

TEST_CASE(
    "the embedded directory and Axigen end in the same accounts and groups",
    "[e2e][axigen]") {
  E2eEnv env(kPort, 6);
  // A second address for user000001 (an alias), and two groups.
  env.Ldap("dn: " + PersonDn("user000001") +
           "\nchangetype: modify\nadd: mail\nmail: ada.alias@example.com\n");
  env.Ldap(
      "dn: cn=engineering,ou=groups,dc=example,dc=com\nchangetype: add\n"
      "objectClass: groupOfNames\ncn: engineering\ndescription: Engineers\n"
      "member: " +
      PersonDn("user000001") + "\nmember: " + PersonDn("user000002") +
      "\nmember: " + PersonDn("user000003") + "\n");
  env.Ldap(
      "dn: cn=sales,ou=groups,dc=example,dc=com\nchangetype: add\n"
      "objectClass: groupOfNames\ncn: sales\ndescription: Sales people\n"
      "member: " +
      PersonDn("user000004") + "\n");

  FakeAxigenServer axigen;
  axigen.AddDomain("example.com");
  REQUIRE(axigen.Start().ok());
  const std::string ax_dir = env.tmp() / "axigen-side";
  std::filesystem::create_directories(ax_dir);
  WriteFile(ax_dir + "/axigen.pw", "secret\n");
  CliRunner ax(ax_dir);
  E2eConfig ax_config;
  ax_config.mail_table =
      "[mail]\nkind = \"axigen\"\nhost = \"127.0.0.1\"\nport = " +
      std::to_string(axigen.port()) +
      "\nuser = \"admin\"\npassword_file = \"axigen.pw\"\n";
  ax.WriteConfig(
      ConfigText(ax_config, env.slapd().url(), env.slapd().password_file()));
  auto run_both = [&] {
    env.RunOnce();
    auto r = ax.Run({"run", "--once"});
    INFO("axigen side: " << r.Describe());
    REQUIRE(r.exit_code == 0);
  };

  run_both();
  RequireSameMailState(env.cli(), axigen, 8);
  const MailState first = EmbeddedState(env.cli());
  REQUIRE(first.at("user000001@example.com").aliases ==
          std::set<std::string>{"ada.alias@example.com"});
  REQUIRE(first.at("engineering@example.com").members.size() == 3);
  REQUIRE(first.at("user000002@example.com").fields.at("title") == "Engineer");

  // Changes: a field, an alias, membership, a new person, a delete.
  env.LdapReplace("user000002", "title", "Staff Engineer");
  env.Ldap("dn: " + PersonDn("user000001") +
           "\nchangetype: modify\ndelete: mail\nmail: ada.alias@example.com\n"
           "-\nadd: mail\nmail: ada.new@example.com\n");
  env.Ldap(
      "dn: cn=engineering,ou=groups,dc=example,dc=com\nchangetype: modify\n"
      "delete: member\nmember: " +
      PersonDn("user000003") +
      "\n-\n"
      "add: member\nmember: " +
      PersonDn("user000005") + "\n");
  env.LdapAddPerson("user000007", "Intern");
  env.LdapDelete(PersonDn("user000006"));
  run_both();
  RequireSameMailState(env.cli(), axigen, 8);
  const MailState second = EmbeddedState(env.cli());
  REQUIRE(second.at("user000002@example.com").fields.at("title") ==
          "Staff Engineer");
  REQUIRE(second.at("user000001@example.com").aliases ==
          std::set<std::string>{"ada.new@example.com"});
  REQUIRE(second.count("user000006@example.com") == 0);
  REQUIRE(second.at("user000007@example.com").fields.at("title") == "Intern");
  REQUIRE(second.at("engineering@example.com").members ==
          std::set<std::string>{"user000001@example.com",
                                "user000002@example.com",
                                "user000005@example.com"});

  // Both logs verify; `dirledger mail` refuses an Axigen mail side.
  REQUIRE(env.cli().Run({"verify"}).exit_code == 0);
  REQUIRE(ax.Run({"verify"}).exit_code == 0);
  auto refused = ax.Run({"mail", "list"});
  REQUIRE(refused.exit_code == 2);
  REQUIRE(Contains(refused.err, "embedded mail directory only"));
  // The Axigen password appears nowhere dirledger writes.
  auto log = ax.Run({"log", "--json"});
  REQUIRE_FALSE(Contains(log.out, "secret"));
  axigen.Stop();
}

}  // namespace
}  // namespace dirledger::test

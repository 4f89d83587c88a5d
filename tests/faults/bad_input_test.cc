// Bad LDAP data, end to end through `dirledger run` against a real slapd
// (127.0.0.1:4125): invalid UTF-8 in a mapped string attribute, binary
// values, a 1 MB attribute, a group of 10,000 members, DNs with escaped
// characters, entries without a mail or a name attribute. Each bad entry
// gets one clear per-object ObjectError event naming it (or is synced
// correctly), everyone else is synced, and the entry syncs once it is fixed.
#include <catch2/catch.hpp>
#include <fstream>
#include <set>
#include <sstream>

#include "tests/faults/dirledger_cli.h"
#include "tests/faults/fault_util.h"
#include "tests/support/sanitized_build.h"
#include "tests/support/slapd_server.h"
#include "tests/support/temp_dir.h"

namespace dirledger::test {
namespace {

constexpr const char* kPeople = "ou=people,dc=example,dc=com";

std::string AddPerson(const std::string& rdn, const std::string& extra,
                      const std::string& uid_line = "") {
  return "dn: " + rdn + "," + kPeople +
         "\nchangetype: add\nobjectClass: inetOrgPerson\n" + uid_line +
         "cn: Someone\nsn: Else\n" + extra + "\n";
}

std::string Lower(std::string s) {
  for (char& ch : s)
    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
  return s;
}

// The ObjectError events of the log, by DN (lower case).
std::map<std::string, std::string> Errors(const LogFigures& f) {
  std::map<std::string, std::string> out;
  for (const nlohmann::json& j : f.lines)
    if (j.value("kind", "") == "error")
      out[Lower(j.value("dn", ""))] = j.value("message", "");
  return out;
}

TEST_CASE(
    "bad LDAP data: a clear error per object, the sync goes on for "
    "everyone else",
    "[faults][bad_input][integration]") {
  TempDir tmp;
  constexpr int kMany = ScaledForSanitizers(10000);
  SlapdServer slapd(tmp / "slapd", 4125, kMany);
  DirledgerCli cli(tmp.path());
  // office is mapped to an octet-string attribute, which slapd stores
  // without checking UTF-8 (it refuses invalid UTF-8 in directory strings).
  std::ofstream(tmp / "schema.toml")
      << "[account.fields]\noffice = \"audio\"\n";
  TestConfig c = TestConfig::For(slapd);
  c.connector_extra = "custom_schema_file = \"schema.toml\"";
  cli.WriteConfig(c.ToToml());

  const std::string big(1 << 20, 'x');
  std::string members;
  for (int i = 1; i <= kMany; ++i) members += "member: " + PersonDn(i) + "\n";
  // Bad: each must get an error. Odd but valid: each must sync.
  const std::string ldif =
      AddPerson("uid=badutf8", "audio:: /79ueA==\n", "uid: badutf8\n") + "\n" +
      AddPerson("uid=huge", "displayName: " + big + "\n", "uid: huge\n") +
      "\n" + AddPerson("cn=No Uid", "") + "\n" +
      AddPerson("uid=a\\2Cb", "", "uid: a,b\n") + "\n" +
      AddPerson("uid=photo",
                "jpegPhoto:: /9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAP////8=\n"
                "title: Has a photo\n",
                "uid: photo\n") +
      "\n" + AddPerson("uid=nomail", "", "uid: nomail\n") + "\n" +
      AddPerson("uid=o\\2Bbrien", "title: Escaped RDN\n", "uid: o+brien\n") +
      "\n" +
      "dn: cn=everyone,ou=groups,dc=example,dc=com\nchangetype: add\n"
      "objectClass: groupOfNames\ncn: everyone\ndescription: All " +
      std::to_string(kMany) + "\n" + members + "\n";
  REQUIRE(slapd.Modify(ldif) == 0);

  CliResult r = cli.Run({"run", "--once"});
  INFO(r.err.substr(0, 4000));
  // Object errors are recorded and the sync goes on; the run reports them
  // in its exit code, and `status` lists them until they are resolved.
  CHECK(r.exit_code == 1);
  auto object_errors = [&] {
    CliResult st = cli.Run({"status", "--json"});
    REQUIRE(st.exit_code == 0);
    std::set<std::string> dns;
    std::istringstream in(st.out);
    std::string line;
    while (std::getline(in, line)) {
      const auto j = nlohmann::json::parse(line);
      if (j.value("type", "") == "object_error")
        dns.insert(Lower(j.value("dn", "")));
    }
    return dns;
  };
  CHECK(object_errors() ==
        std::set<std::string>{Lower("uid=badutf8," + std::string(kPeople)),
                              Lower("uid=huge," + std::string(kPeople)),
                              Lower("cn=No Uid," + std::string(kPeople)),
                              Lower("uid=a\\2Cb," + std::string(kPeople))});

  LogFigures f = ReadLog(cli);
  const auto errors = Errors(f);
  auto error_for = [&](const std::string& rdn) {
    auto it = errors.find(Lower(rdn + "," + kPeople));
    return it == errors.end() ? std::string("(no error)") : it->second;
  };
  INFO("errors: " << errors.size());
  CHECK(error_for("uid=badutf8").find("UTF-8") != std::string::npos);
  CHECK(error_for("uid=badutf8").find("audio") != std::string::npos);
  CHECK(error_for("uid=huge").find("displayName") != std::string::npos);
  CHECK(error_for("uid=huge").find("bytes") != std::string::npos);
  CHECK(error_for("cn=No Uid").find("no uid") != std::string::npos);
  CHECK(error_for("uid=a\\2Cb").find("a,b") != std::string::npos);
  CHECK(errors.size() == 4);  // nothing else was refused
  // An error message is one readable line, not the 1 MB value.
  for (const auto& [dn, message] : errors) CHECK(message.size() < 1000);

  const auto mail = MailObjects(cli);
  for (int i = 1; i <= kMany; ++i)
    CHECK(mail.count(PersonUid(i) + "@example.com") == 1);
  CHECK(mail.at("photo@example.com").value("title", "") == "Has a photo");
  CHECK(mail.count("nomail@example.com") == 1);
  CHECK(mail.at("o+brien@example.com").value("title", "") == "Escaped RDN");
  REQUIRE(mail.count("everyone@example.com") == 1);
  CHECK(mail.at("everyone@example.com")["members"].size() == kMany);
  CHECK(mail.count("badutf8@example.com") == 0);
  CHECK(mail.count("huge@example.com") == 0);
  CHECK(mail.size() == kMany + 4);

  // Fixed in LDAP, the entries sync.
  REQUIRE(slapd.Modify(
              std::string("dn: uid=huge,") + kPeople +
              "\nchangetype: modify\nreplace: displayName\n"
              "displayName: Not So Huge\n\n"
              "dn: uid=badutf8," +
              kPeople +
              "\nchangetype: modify\nreplace: audio\naudio: Room 1\n") == 0);
  r = cli.Run({"run", "--once"});
  INFO(r.text());
  CHECK(r.exit_code == 0);
  // Their errors are resolved; the two entries still invalid stay listed.
  CHECK(object_errors() ==
        std::set<std::string>{Lower("cn=No Uid," + std::string(kPeople)),
                              Lower("uid=a\\2Cb," + std::string(kPeople))});
  const auto fixed = MailObjects(cli);
  REQUIRE(fixed.count("huge@example.com") == 1);
  CHECK(fixed.at("huge@example.com").value("displayName", "") == "Not So Huge");
  REQUIRE(fixed.count("badutf8@example.com") == 1);
  CHECK(fixed.at("badutf8@example.com").value("office", "") == "Room 1");
  CHECK(PendingIntents(cli) == 0);
  std::string verify;
  CHECK(VerifyClean(cli, &verify));
  INFO(verify);
}

// The failed outcomes of the log: their messages.
std::vector<std::string> FailedWrites(const LogFigures& f) {
  std::vector<std::string> out;
  for (const nlohmann::json& j : f.lines)
    if (j.contains("ok") && !j.value("ok", true))
      out.push_back(j.value("message", ""));
  return out;
}

bool AnyContains(const std::vector<std::string>& texts,
                 const std::string& part) {
  for (const std::string& t : texts)
    if (t.find(part) != std::string::npos) return true;
  return false;
}

// The `status --json` records of `type`.
std::vector<nlohmann::json> StatusRecords(DirledgerCli& cli,
                                          const std::string& type) {
  CliResult r = cli.Run({"status", "--json"});
  std::vector<nlohmann::json> out;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.value("type", "") == type) out.push_back(j);
  }
  return out;
}

TEST_CASE(
    "an LDAP entry claiming other objects' addresses, or an unmanaged "
    "domain's, does not get them in the mail directory",
    "[faults][bad_input][ownership][integration]") {
  TempDir tmp;
  SlapdServer slapd(tmp / "slapd", 4126, 3);
  DirledgerCli cli(tmp.path());
  cli.WriteConfig(TestConfig::For(slapd).ToToml());
  CliResult r = cli.Run({"run", "--once"});
  INFO(r.text());
  REQUIRE(r.exit_code == 0);

  const std::string user2 = PersonUid(2) + "@example.com";
  REQUIRE(slapd.Modify(AddPerson("uid=evil",
                                 "mail: " + user2 +
                                     "\n"
                                     "mail: postmaster@example.com\n"
                                     "mail: boss@othercorp.org\n",
                                 "uid: evil\n") +
                       "\n" +
                       AddPerson("uid=dup1", "mail: shared@example.com\n",
                                 "uid: dup1\n") +
                       "\n" +
                       AddPerson("uid=dup2", "mail: shared@example.com\n",
                                 "uid: dup2\n")) == 0);
  r = cli.Run({"run", "--once"});
  INFO(r.text());
  // Refusals are failures of the run.
  CHECK(r.exit_code == 1);

  auto mail = MailObjects(cli);
  // Nobody took another account's address.
  REQUIRE(mail.count(user2) == 1);
  for (const auto& [address, o] : mail) {
    INFO(address);
    for (const auto& a : o.value("aliases", nlohmann::json::array())) {
      CHECK(a != user2);
      CHECK(a != "boss@othercorp.org");
    }
  }
  // evil's account is made, with the alias it may have (rules version 6:
  // decided by the reconciler, not a failed write of the whole account).
  REQUIRE(mail.count("evil@example.com") == 1);
  CHECK(mail.at("evil@example.com")["aliases"] ==
        nlohmann::json::array({"postmaster@example.com"}));
  // The refusal is listed by `status`, naming each alias and why.
  std::vector<nlohmann::json> refused = StatusRecords(cli, "refused_address");
  REQUIRE(refused.size() == 1);
  CHECK(Lower(refused[0].value("dn", "")) ==
        "uid=evil," + std::string(kPeople));
  CHECK(refused[0].value("message", "") ==
        "aliases not given to evil@example.com: boss@othercorp.org (its "
        "domain othercorp.org is not a configured domain); " +
            user2 + " (it is the address of mail account " + user2 + ")");

  // The first entry with an alias keeps it; the second does not get it (the
  // mail directory refuses it: both were decided in one pass, before the
  // first write put the alias into the projection's alias index).
  REQUIRE(mail.count("dup1@example.com") == 1);
  CHECK(mail.at("dup1@example.com")["aliases"] ==
        nlohmann::json::array({"shared@example.com"}));
  if (mail.count("dup2@example.com"))
    CHECK(
        mail.at("dup2@example.com").value("aliases", nlohmann::json::array()) ==
        nlohmann::json::array());
  const auto failed = FailedWrites(ReadLog(cli));
  INFO(failed.size());
  CHECK(AnyContains(failed,
                    "alias shared@example.com of dup2@example.com refused: it "
                    "is an alias of dup1@example.com"));
  CHECK_FALSE(AnyContains(failed, "of evil@example.com refused"));

  // An idle run writes nothing, and the refusal stays listed.
  const LogFigures before = ReadLog(cli);
  r = cli.Run({"run", "--once"});
  CHECK(r.exit_code == 0);
  const LogFigures after = ReadLog(cli);
  CHECK(after.intents == before.intents);
  CHECK(StatusRecords(cli, "refused_address").size() == 1);

  // The entry fixed in LDAP: the record goes, the account keeps its alias,
  // and the values dirledger refused were never taken out of the entry.
  REQUIRE(slapd.Modify("dn: uid=evil," + std::string(kPeople) +
                       "\nchangetype: modify\ndelete: mail\nmail: " + user2 +
                       "\n-\n") == 0);
  r = cli.Run({"run", "--once"});
  CHECK(r.exit_code == 0);
  CHECK(StatusRecords(cli, "refused_address").size() == 1);  // boss@ left
  REQUIRE(slapd.Modify("dn: uid=evil," + std::string(kPeople) +
                       "\nchangetype: modify\ndelete: mail\n"
                       "mail: boss@othercorp.org\n-\n") == 0);
  r = cli.Run({"run", "--once"});
  CHECK(r.exit_code == 0);
  CHECK(StatusRecords(cli, "refused_address").empty());
  mail = MailObjects(cli);
  CHECK(mail.at("evil@example.com")["aliases"] ==
        nlohmann::json::array({"postmaster@example.com"}));
  r = cli.Run({"verify"});
  INFO(r.text());
  CHECK(r.exit_code == 0);
}

}  // namespace
}  // namespace dirledger::test

// Rollback of a delete on Active Directory: a real Samba AD DC
// (tests/harness/samba.sh, on 127.0.0.32). A user synced by DirSync is
// deleted, the delete is synced, and `rollback --to` the point before
// brings the user back by reanimating its tombstone (MS-ADTS 3.1.1.5.3.7),
// so objectGUID and objectSid are those it had, and its mail account
// comes back too. A user moved out of the base (which DirSync reports as
// gone) is moved back by a rollback, the same object.
#include <catch2/catch.hpp>
#include <cstdlib>

#include "tests/faults/dirledger_cli.h"
#include "tests/faults/fault_util.h"
#include "tests/support/samba_dc.h"
#include "tests/support/temp_dir.h"

namespace dirledger::test {
namespace {

std::string DcDir() {
  const char* t = std::getenv("TMPDIR");
  return std::string(t && *t ? t : "/tmp") + "/dirledger-samba-127.0.0.32";
}

// "objectGUID:: ..." and "objectSid:: ..." of the user, as ldapsearch
// prints them ("" when there is no such user).
std::string Identity(const SambaDc& dc, const std::string& base,
                     const std::string& sam) {
  const std::string out =
      dc.Search("(sAMAccountName=" + sam + ")", "objectGUID objectSid", base);
  std::string id;
  for (const char* attr : {"objectGUID:: ", "objectSid:: "}) {
    const size_t p = out.find(attr);
    if (p == std::string::npos) return "";
    id += out.substr(p, out.find('\n', p) - p) + "\n";
  }
  return id;
}

TEST_CASE(
    "AD: rolling back a delete reanimates the tombstone, rolling back a "
    "move out of the base moves the object back: same objectGUID and "
    "objectSid",
    "[samba][rollback][whole][integration]") {
  SambaDc dc(DcDir(), "127.0.0.32");
  const std::string people = "OU=RbPeople," + dc.base();
  std::string out;
  REQUIRE(dc.Add("dn: " + people + "\nobjectClass: organizationalUnit\n",
                 &out) == 0);
  dc.AddUsers(3, people, "rb");

  TempDir tmp;
  DirledgerCli cli(tmp.path());
  TestConfig c;
  c.server_type = "activedirectory";
  c.uri = dc.url();
  c.password_file = dc.password_file();
  c.account_base_dn = people;
  c.group_base_dn = people;
  c.bind_dn = dc.admin();
  cli.WriteConfig(c.ToToml());

  CliResult first = cli.Run({"run", "--once"});
  INFO(first.text());
  REQUIRE(first.exit_code == 0);
  REQUIRE(MailAddresses(cli).count("rb000001@example.com") == 1);
  const std::uint64_t good = LastSeq(cli);
  const std::string before = Identity(dc, people, "rb000001");
  REQUIRE_FALSE(before.empty());

  REQUIRE(dc.Modify("dn: CN=rb000001," + people + "\nchangetype: delete\n",
                    &out) == 0);
  CliResult synced = cli.Run({"run", "--once"});
  INFO(synced.text());
  REQUIRE(synced.exit_code == 0);
  REQUIRE(MailAddresses(cli).count("rb000001@example.com") == 0);
  REQUIRE(Identity(dc, people, "rb000001").empty());

  CliResult plan =
      cli.Run({"rollback", "--to", std::to_string(good), "--dry-run"});
  INFO(plan.text());
  REQUIRE(plan.exit_code == 0);
  CHECK(plan.out.find("tombstone") != std::string::npos);
  CHECK(plan.out.find("unicodePwd not restored: secrets are never stored") !=
        std::string::npos);

  CliResult rolled =
      cli.Run({"rollback", "--to", std::to_string(good), "--yes"});
  INFO(rolled.text());
  REQUIRE(rolled.exit_code == 0);
  // The same object: reanimated, not created anew.
  CHECK(Identity(dc, people, "rb000001") == before);
  CHECK(dc.Search("(sAMAccountName=rb000001)", "givenName", people)
            .find("givenName: Given1") != std::string::npos);
  CliResult log = cli.Run({"log", "--json"});
  CHECK(log.out.find("reanimated the tombstone") != std::string::npos);
  CHECK(MailAddresses(cli).count("rb000001@example.com") == 1);

  // DirSync reports the reanimated user: our own write, nothing more to do.
  CliResult after = cli.Run({"run", "--once"});
  INFO(after.text());
  REQUIRE(after.exit_code == 0);
  CHECK(MailAddresses(cli).count("rb000001@example.com") == 1);
  CliResult v = cli.Run({"verify"});
  INFO(v.text());
  CHECK(v.exit_code == 0);

  // Moved out of the base (DirSync reports it gone: a delete that names
  // where it is), then rolled back: the same object is moved back.
  const std::string outside = "OU=RbOutside," + dc.base();
  REQUIRE(dc.Add("dn: " + outside + "\nobjectClass: organizationalUnit\n",
                 &out) == 0);
  const std::uint64_t in_base = LastSeq(cli);
  const std::string second = Identity(dc, people, "rb000002");
  REQUIRE_FALSE(second.empty());
  // A mapped value given after the point, then the move.
  REQUIRE(dc.Modify("dn: CN=rb000002," + people +
                        "\nchangetype: modify\nreplace: mobile\nmobile: 555\n",
                    &out) == 0);
  REQUIRE(dc.Modify("dn: CN=rb000002," + people +
                        "\nchangetype: modrdn\nnewrdn: CN=rb000002\n"
                        "deleteoldrdn: 1\nnewsuperior: " +
                        outside + "\n",
                    &out) == 0);
  CliResult moved = cli.Run({"run", "--once"});
  INFO(moved.text());
  REQUIRE(moved.exit_code == 0);
  REQUIRE(MailAddresses(cli).count("rb000002@example.com") == 0);
  CliResult deleted = cli.Run({"log", "--json"});
  CHECK(deleted.out.find("\"remains_at\":\"CN=rb000002,OU=RbOutside") !=
        std::string::npos);
  CliResult back =
      cli.Run({"rollback", "--to", std::to_string(in_base), "--yes"});
  INFO(back.text());
  REQUIRE(back.exit_code == 0);
  CHECK(Identity(dc, people, "rb000002") == second);
  CHECK(Identity(dc, outside, "rb000002").empty());
  CHECK(dc.Search("(sAMAccountName=rb000002)", "mobile", people)
            .find("mobile:") == std::string::npos);
  CliResult told = cli.Run({"log", "--json"});
  CHECK(told.out.find("moved \\\"CN=rb000002,OU=RbOutside") !=
        std::string::npos);
  CHECK(MailAddresses(cli).count("rb000002@example.com") == 1);
  CliResult settled = cli.Run({"run", "--once"});
  INFO(settled.text());
  REQUIRE(settled.exit_code == 0);
  CHECK(MailAddresses(cli).count("rb000002@example.com") == 1);
  CliResult v2 = cli.Run({"verify"});
  INFO(v2.text());
  CHECK(v2.exit_code == 0);
}

}  // namespace
}  // namespace dirledger::test

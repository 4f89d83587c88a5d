// AdWriter against a real Samba AD DC (tests/harness/samba.sh) on
// 127.0.0.23, over LDAPS with the DC's test CA. Every write is checked with
// ldapsearch, as an administrator would.
#include "engine/ad_writer/ad_writer.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "engine/dirsync/object_guid.h"
#include "tests/support/samba_dc.h"
#include "tests/support/slapd_server.h"

namespace dirledger {
namespace {

using test::SambaDc;

SambaDc& Dc() {
  const char* t = std::getenv("TMPDIR");
  static SambaDc dc(
      std::string(t && *t ? t : "/tmp") + "/dirledger-samba-127.0.0.23",
      "127.0.0.23");
  static const bool ous = [] {
    std::string out;
    const int rc = dc.Add("dn: OU=WPeople," + dc.base() +
                              "\nobjectClass: organizationalUnit\n\ndn: "
                              "OU=WGroups," +
                              dc.base() + "\nobjectClass: organizationalUnit\n",
                          &out);
    if (rc != 0) throw std::runtime_error("creating the OUs failed: " + out);
    return true;
  }();
  (void)ous;
  return dc;
}

std::string People() { return "OU=WPeople," + Dc().base(); }
std::string Groups() { return "OU=WGroups," + Dc().base(); }

AdWriterOptions Options(const std::string& uri, const std::string& ca_file,
                        const std::string& direction = "axigen_to_ldap") {
  SambaDc& dc = Dc();
  std::string text =
      "[[connector]]\nname = \"ad\"\nserver_type = \"activedirectory\"\n"
      "uris = [\"" +
      uri +
      "\"]\n"
      "bind_dn = \"" +
      dc.admin() +
      "\"\n"
      "bind_password_file = \"" +
      dc.password_file() +
      "\"\n"
      "direction = \"" +
      direction +
      "\"\n"
      "account_base_dn = \"" +
      People() + "\"\n";
  if (!ca_file.empty()) text += "ca_file = \"" + ca_file + "\"\n";
  Result<Config> cfg = ParseConfig(text, "/nonexistent/dirledger.toml");
  INFO(cfg.status().ToString());
  REQUIRE(cfg.ok());
  auto rules = RuleSet::Compile(std::move(cfg).value());
  REQUIRE(rules.ok());
  Result<AdWriterOptions> o = AdWriterOptionsFor(**rules, "ad");
  INFO(o.status().ToString());
  REQUIRE(o.ok());
  return std::move(o).value();
}

AdWriterOptions Ldaps() { return Options(Dc().ldaps_url(), Dc().ca_file()); }

Intent CreateUser(const std::string& cn, AttrList extra = {}) {
  Intent i;
  i.id = 1;
  i.target = Side::kLdap;
  i.kind = ObjectKind::kAccount;
  i.op = IntentOp::kAdd;
  i.dn = "CN=" + cn + "," + People();
  i.domain = "example.com";
  i.connector = "ad";
  i.set = {
      {"displayName", {"User " + cn}},
      {"givenName", {"G" + cn}},
      {"proxyAddresses",
       {"SMTP:" + cn + "@example.com", "smtp:" + cn + ".alias@example.com"}},
      {"sAMAccountName", {cn}},
      {"sn", {"S" + cn}}};
  for (Attribute& a : extra) SetAttr(&i.set, a.name, a.values);
  return i;
}

Intent Modify(const std::string& id, AttrList set, AttrList expect = {}) {
  Intent i;
  i.id = 2;
  i.target = Side::kLdap;
  i.kind = ObjectKind::kAccount;
  i.op = IntentOp::kModify;
  i.target_id = id;
  i.connector = "ad";
  i.set = std::move(set);
  i.expect = std::move(expect);
  return i;
}

// The whole ldapsearch output for the object with objectGUID `id`.
std::string Show(const std::string& id, const std::string& attrs = "'*'") {
  return Dc().Search("(objectClass=*)", attrs, "<GUID=" + id + ">", "-s base");
}

std::string Usn(const std::string& id) {
  const std::string s = Show(id, "uSNChanged");
  const size_t p = s.find("uSNChanged: ");
  REQUIRE(p != std::string::npos);
  return s.substr(p + 12, s.find('\n', p) - p - 12);
}

}  // namespace

TEST_CASE(
    "create, modify, rename and delete are visible in ldapsearch, and "
    "re-applying changes nothing",
    "[integration][adwriter]") {
  AdWriter w(Ldaps());
  // Create: disabled (no password known), UPN from the mail domain.
  const Intent create = CreateUser("wendy");
  ApplyResult r = w.Apply(create);
  INFO(r.status.ToString());
  REQUIRE(r.status.ok());
  CHECK_FALSE(r.already_applied);
  REQUIRE(IsObjectGuidString(r.assigned_id));
  const std::string id = r.assigned_id;
  std::string s = Show(id);
  CHECK(s.find("dn: CN=wendy," + People()) != std::string::npos);
  CHECK(s.find("givenName: Gwendy") != std::string::npos);
  CHECK(s.find("userAccountControl: 514") != std::string::npos);
  CHECK(s.find("userPrincipalName: wendy@example.com") != std::string::npos);
  CHECK(s.find("proxyAddresses: smtp:wendy.alias@example.com") !=
        std::string::npos);
  std::string usn = Usn(id);
  r = w.Apply(create);
  REQUIRE(r.status.ok());
  CHECK(r.already_applied);
  CHECK(r.assigned_id == id);
  CHECK(Usn(id) == usn);

  // Modify with the expected prior values; a cleared attribute goes.
  const Intent mod = Modify(id, {{"givenName", {"Wanda"}}, {"sn", {}}},
                            {{"givenName", {"Gwendy"}}, {"sn", {"Swendy"}}});
  r = w.Apply(mod);
  INFO(r.status.ToString());
  REQUIRE(r.status.ok());
  CHECK_FALSE(r.already_applied);
  s = Show(id);
  CHECK(s.find("givenName: Wanda") != std::string::npos);
  CHECK(s.find("sn:") == std::string::npos);
  CHECK(s.find("userAccountControl: 514") != std::string::npos);
  usn = Usn(id);
  r = w.Apply(mod);
  REQUIRE(r.status.ok());
  CHECK(r.already_applied);
  CHECK(Usn(id) == usn);

  // userAccountControl is only written on create.
  r = w.Apply(
      Modify(id, {{"userAccountControl", {"512"}}, {"title", {"Ops"}}}));
  REQUIRE(r.status.ok());
  s = Show(id);
  CHECK(s.find("userAccountControl: 514") != std::string::npos);
  CHECK(s.find("title: Ops") != std::string::npos);

  // Rename (a move to another parent too), by objectGUID.
  Intent rename;
  rename.id = 3;
  rename.target = Side::kLdap;
  rename.op = IntentOp::kRename;
  rename.target_id = id;
  rename.new_dn = "CN=wanda," + Groups();
  r = w.Apply(rename);
  INFO(r.status.ToString());
  REQUIRE(r.status.ok());
  CHECK(Show(id, "dn").find("dn: CN=wanda," + Groups()) != std::string::npos);
  r = w.Apply(rename);
  REQUIRE(r.status.ok());
  CHECK(r.already_applied);

  // Delete, by objectGUID; again: already gone.
  Intent del;
  del.id = 4;
  del.target = Side::kLdap;
  del.op = IntentOp::kDelete;
  del.target_id = id;
  r = w.Apply(del);
  REQUIRE(r.status.ok());
  CHECK_FALSE(r.already_applied);
  CHECK(Show(id).find("No such object") != std::string::npos);
  r = w.Apply(del);
  REQUIRE(r.status.ok());
  CHECK(r.already_applied);
}

TEST_CASE("groups: create with members, membership by values, idempotent",
          "[integration][adwriter]") {
  AdWriter w(Ldaps());
  ApplyResult a = w.Apply(CreateUser("gm1"));
  ApplyResult b = w.Apply(CreateUser("gm2"));
  REQUIRE(a.status.ok());
  REQUIRE(b.status.ok());
  Intent g;
  g.id = 5;
  g.target = Side::kLdap;
  g.kind = ObjectKind::kGroup;
  g.op = IntentOp::kAdd;
  g.dn = "CN=crew," + Groups();
  g.set = {{"description", {"the crew"}},
           {"member", {"CN=gm1," + People()}}};  // sAMAccountName from the RDN
  ApplyResult r = w.Apply(g);
  INFO(r.status.ToString());
  REQUIRE(r.status.ok());
  const std::string gid = r.assigned_id;
  std::string s = Show(gid);
  CHECK(s.find("sAMAccountName: crew") != std::string::npos);
  CHECK(s.find("member: CN=gm1," + People()) != std::string::npos);
  CHECK(s.find("userAccountControl") == std::string::npos);

  Intent m;
  m.id = 6;
  m.target = Side::kLdap;
  m.kind = ObjectKind::kGroup;
  m.op = IntentOp::kModify;
  m.target_id = gid;
  // The DN spelled differently from the server's: the same member.
  std::string gm2 = "cn=gm2, ou=wpeople," + Dc().base();
  m.add_values = {{"member", {gm2}}};
  m.delete_values = {{"member", {"CN=gm1," + People()}}};
  r = w.Apply(m);
  INFO(r.status.ToString());
  REQUIRE(r.status.ok());
  CHECK_FALSE(r.already_applied);
  s = Show(gid);
  CHECK(s.find("member: CN=gm2," + People()) != std::string::npos);
  CHECK(s.find("CN=gm1") == std::string::npos);
  const std::string usn = Usn(gid);
  r = w.Apply(m);
  REQUIRE(r.status.ok());
  CHECK(r.already_applied);
  CHECK(Usn(gid) == usn);
}

TEST_CASE("a writer whose connection the DC closed reconnects by itself",
          "[integration][adwriter]") {
  AdWriter w(Ldaps());
  ApplyResult r = w.Apply(CreateUser("rc1"));
  REQUIRE(r.status.ok());
  const std::string id = r.assigned_id;
  Dc().Stop();
  Dc().Start();
  r = w.Apply(Modify(id, {{"title", {"After restart"}}}));
  INFO(r.status.ToString());
  REQUIRE(r.status.ok());
  CHECK(Show(id).find("title: After restart") != std::string::npos);
}

TEST_CASE(
    "a prior value other than expected is a Conflict naming the attribute",
    "[integration][adwriter]") {
  AdWriter w(Ldaps());
  ApplyResult r = w.Apply(CreateUser("carl"));
  REQUIRE(r.status.ok());
  const std::string id = r.assigned_id;
  std::string out;
  REQUIRE(Dc().Modify("dn: CN=carl," + People() +
                          "\nchangetype: modify\nreplace: title\ntitle: "
                          "Changed by someone\n",
                      &out) == 0);
  const std::string usn = Usn(id);
  r = w.Apply(Modify(id, {{"title", {"Ours"}}, {"givenName", {"Carlos"}}},
                     {{"title", {"Before"}}, {"givenName", {"Gcarl"}}}));
  CHECK(r.status.code() == StatusCode::kConflict);
  CHECK(r.status.message().find("attribute title") != std::string::npos);
  CHECK(r.status.message().find("Changed by someone") != std::string::npos);
  CHECK(Usn(id) == usn);  // nothing written, not even givenName
  CHECK(Show(id).find("givenName: Gcarl") != std::string::npos);

  // A create where another object already sits at the DN.
  Intent other = CreateUser("carl", {{"givenName", {"Someone else"}}});
  r = w.Apply(other);
  CHECK(r.status.code() == StatusCode::kConflict);
  CHECK(r.status.message().find("givenName") != std::string::npos);
  CHECK(Usn(id) == usn);

  // A delete expecting a value that changed.
  Intent del;
  del.id = 9;
  del.target = Side::kLdap;
  del.op = IntentOp::kDelete;
  del.target_id = id;
  del.expect = {{"title", {"Before"}}};
  r = w.Apply(del);
  CHECK(r.status.code() == StatusCode::kConflict);
  CHECK(Show(id).find("dn: CN=carl") != std::string::npos);
}

TEST_CASE("a known password creates an enabled user, only over TLS",
          "[integration][adwriter]") {
  const std::string pw = "Wr1ter!Secret";
  auto with_password = [&](AdWriterOptions o) {
    o.password_for = [&](const Intent&) { return std::optional<Secret>(pw); };
    return o;
  };
  {
    AdWriter plain(with_password(Options(Dc().url(), "")));
    ApplyResult r = plain.Apply(CreateUser("pwplain"));
    CHECK(r.status.code() == StatusCode::kInvalidArgument);
    CHECK(r.status.message().find("unencrypted") != std::string::npos);
    CHECK(r.status.message().find(pw) == std::string::npos);
    CHECK(Dc().Search("(sAMAccountName=pwplain)", "dn").find("dn:") ==
          std::string::npos);
  }
  AdWriter w(with_password(Ldaps()));
  ApplyResult r = w.Apply(CreateUser("pwuser"));
  INFO(r.status.ToString());
  REQUIRE(r.status.ok());
  CHECK(r.message.find(pw) == std::string::npos);
  CHECK(Show(r.assigned_id).find("userAccountControl: 512") !=
        std::string::npos);
  // The user can bind with it.
  const std::string pwfile = Dc().dir() + "/pwuser.pw";
  std::ofstream(pwfile) << pw;
  std::filesystem::permissions(pwfile, std::filesystem::perms::owner_read |
                                           std::filesystem::perms::owner_write);
  std::string out;
  const int rc = test::RunCommand(
      "ldapsearch -x -LLL -H " + Dc().url() + " -D pwuser@" + Dc().realm() +
          " -y '" + pwfile + "' -b '' -s base defaultNamingContext 2>&1",
      &out);
  INFO(out);
  CHECK(rc == 0);
}

TEST_CASE("LDAPS verifies the DC's certificate by default",
          "[integration][adwriter]") {
  // No ca_file: the test CA is not among the system's, so the handshake
  // fails and nothing is written...
  AdWriter unverified(Options(Dc().ldaps_url(), ""));
  ApplyResult r = unverified.Apply(CreateUser("nocert"));
  CHECK_FALSE(r.status.ok());
  INFO(r.status.message());
  CHECK(r.status.message().find("certificate") != std::string::npos);
  CHECK(Dc().Search("(sAMAccountName=nocert)", "dn").find("dn:") ==
        std::string::npos);
  // ...while the same server with its CA is fine: verification was the cause.
  AdWriter verified(Ldaps());
  r = verified.Apply(CreateUser("nocert"));
  CHECK(r.status.ok());
}

TEST_CASE("the writer is only for Active Directory connectors that write LDAP",
          "[integration][adwriter]") {
  auto refused = [](const std::string& text) {
    Result<Config> cfg = ParseConfig(text, "/nonexistent/dirledger.toml");
    INFO(cfg.status().ToString());
    REQUIRE(cfg.ok());
    auto rules = RuleSet::Compile(std::move(cfg).value());
    REQUIRE(rules.ok());
    Result<AdWriterOptions> o = AdWriterOptionsFor(**rules, "c");
    REQUIRE_FALSE(o.ok());
    return o.status().message();
  };
  CHECK(refused(
            "[[connector]]\nname = \"c\"\nserver_type = \"openldap\"\n"
            "uris = [\"ldap://127.0.0.23\"]\n"
            "account_base_dn = \"OU=WPeople,DC=example,DC=test\"\n"
            "direction = \"both_ways\"\nconflict_resolution = \"ldap_wins\"\n")
            .find("activedirectory") != std::string::npos);
}

}  // namespace dirledger

// LdapWriter against a real slapd (memberof overlay) started by the harness
// on 127.0.0.1; results are checked with plain ldapsearch. Ports 3920-3929
// belong to this file.
#include "engine/ldap_writer/ldap_writer.h"

#include <catch2/catch.hpp>

#include "engine/ldap/ldap_ops.h"
#include "tests/support/slapd_server.h"
#include "tests/support/temp_dir.h"

namespace dirledger {
namespace {

using test::SlapdServer;
using test::TempDir;

constexpr const char* kPeople = "ou=people,dc=example,dc=com";
constexpr const char* kGroups = "ou=groups,dc=example,dc=com";

Config MakeConfig(const std::vector<std::string>& uris,
                  const std::string& password_file,
                  Direction direction = Direction::kBothWays) {
  Config c;
  ConnectorConfig corp;
  corp.name = "corp";
  corp.uris = uris;
  corp.bind_dn = SlapdServer::kAdminDn;
  corp.bind_password_file = password_file;
  corp.timeout_s = 4;
  corp.direction = direction;
  corp.account_base_dn = "ou=people,%D";
  corp.group_sync = true;
  corp.group_base_dn = "ou=groups,%D";
  c.connectors.push_back(corp);
  c.domains.push_back({"example.com", true, "corp"});
  return c;
}

std::unique_ptr<LdapWriter> MakeWriter(const SlapdServer& slapd) {
  auto rules =
      RuleSet::Compile(MakeConfig({slapd.url()}, slapd.password_file()));
  REQUIRE(rules.ok());
  auto w = LdapWriter::Create(*rules, "corp");
  REQUIRE(w.ok());
  return std::move(w).value();
}

std::uint64_t next_id = 1;

Intent AccountIntent(IntentOp op, const std::string& uid) {
  Intent i;
  i.id = MakeIntentId(next_id++, 0);
  i.target = Side::kLdap;
  i.kind = ObjectKind::kAccount;
  i.op = op;
  i.dn = "uid=" + uid + "," + kPeople;
  i.domain = "example.com";
  i.connector = "corp";
  return i;
}

Intent GroupIntent(IntentOp op, const std::string& cn) {
  Intent i = AccountIntent(op, cn);
  i.kind = ObjectKind::kGroup;
  i.dn = "cn=" + cn + "," + kGroups;
  return i;
}

std::string Dn(const std::string& uid) { return "uid=" + uid + "," + kPeople; }

bool Has(const std::string& ldif, const std::string& line) {
  return ldif.find(line + "\n") != std::string::npos;
}

// Adds ou=outside (where entries are moved out of the synced base) and
// applies `add`; returns the new entry's entryUUID.
std::string AddWithOutside(SlapdServer& slapd, LdapWriter& w,
                           const Intent& add) {
  REQUIRE(slapd.Modify("dn: ou=outside,dc=example,dc=com\nchangetype: add\n"
                       "objectClass: organizationalUnit\nou: outside\n") == 0);
  ApplyResult first = w.Apply(add);
  REQUIRE(first.status.ok());
  REQUIRE_FALSE(first.assigned_id.empty());
  return first.assigned_id;
}

}  // namespace

TEST_CASE("add, modify, rename and delete are visible to ldapsearch",
          "[ldap_writer][integration]") {
  TempDir tmp;
  SlapdServer slapd(tmp / "slapd", 3920);
  auto writer = MakeWriter(slapd);
  CHECK(writer->side() == Side::kLdap);

  Intent add = AccountIntent(IntentOp::kAdd, "jdoe");
  add.set = {{"givenName", {"Jane"}},
             {"sn", {"Doe"}},
             {"mail", {"jdoe@example.com"}},
             {"title", {"Engineer (R&D) *lead*"}}};
  ApplyResult r = writer->Apply(add);
  REQUIRE(r.status.ok());
  CHECK_FALSE(r.already_applied);
  CHECK(r.assigned_id == slapd.EntryUuid(Dn("jdoe")));
  std::string out = slapd.Search("(uid=jdoe)");
  CHECK(Has(out, "dn: " + Dn("jdoe")));
  CHECK(Has(out, "objectClass: inetOrgPerson"));
  CHECK(Has(out, "givenName: Jane"));
  CHECK(Has(out, "cn: jdoe"));  // required by person, from the name
  CHECK(Has(out, "title: Engineer (R&D) *lead*"));
  const std::string id = r.assigned_id;

  Intent modify = AccountIntent(IntentOp::kModify, "jdoe");
  modify.target_id = id;
  modify.set = {{"sn", {"Roe"}}, {"title", {}}, {"displayName", {"Jane Roe"}}};
  modify.expect = {{"sn", {"Doe"}},
                   {"title", {"Engineer (R&D) *lead*"}},
                   {"displayName", {}}};
  r = writer->Apply(modify);
  REQUIRE(r.status.ok());
  CHECK_FALSE(r.already_applied);
  out = slapd.Search("(uid=jdoe)");
  CHECK(Has(out, "sn: Roe"));
  CHECK(Has(out, "displayName: Jane Roe"));
  CHECK_FALSE(Has(out, "title: Engineer (R&D) *lead*"));

  Intent rename = AccountIntent(IntentOp::kRename, "jdoe");
  rename.target_id = id;
  rename.new_dn = Dn("jroe");
  r = writer->Apply(rename);
  REQUIRE(r.status.ok());
  out = slapd.Search("(uid=jroe)");
  CHECK(Has(out, "dn: " + Dn("jroe")));
  CHECK(slapd.EntryUuid(Dn("jroe")) == id);
  CHECK(slapd.Search("(uid=jdoe)").empty());

  Intent del = AccountIntent(IntentOp::kDelete, "jroe");
  del.target_id = id;
  del.expect = {{"sn", {"Roe"}}};
  r = writer->Apply(del);
  REQUIRE(r.status.ok());
  CHECK_FALSE(r.already_applied);
  CHECK(slapd.EntryUuid(Dn("jroe")).empty());
}

TEST_CASE("groups: members are added and removed; memberof keeps memberOf",
          "[ldap_writer][integration]") {
  TempDir tmp;
  SlapdServer slapd(tmp / "slapd", 3921, 3);
  auto writer = MakeWriter(slapd);
  const std::string u1 = Dn("user000001"), u2 = Dn("user000002");

  Intent add = GroupIntent(IntentOp::kAdd, "team");
  add.set = {{"description", {"The team"}}, {"member", {u1}}};
  ApplyResult r = writer->Apply(add);
  REQUIRE(r.status.ok());
  const std::string gid = r.assigned_id;
  CHECK(gid == slapd.EntryUuid(std::string("cn=team,") + kGroups));
  CHECK(Has(slapd.Search("(uid=user000001)", "memberOf"),
            std::string("memberOf: cn=team,") + kGroups));

  Intent more = GroupIntent(IntentOp::kModify, "team");
  more.target_id = gid;
  more.add_values = {{"member", {u2}}};
  REQUIRE(writer->Apply(more).status.ok());
  CHECK(Has(slapd.Search("(uid=user000002)", "memberOf"),
            std::string("memberOf: cn=team,") + kGroups));

  Intent fewer = GroupIntent(IntentOp::kModify, "team");
  fewer.target_id = gid;
  fewer.delete_values = {{"member", {u1, u2}}};
  r = writer->Apply(fewer);
  REQUIRE(r.status.ok());
  const std::string group = slapd.Search("(cn=team)", "member");
  CHECK(Has(group, "member:"));  // the placeholder of an empty groupOfNames
  CHECK_FALSE(Has(slapd.Search("(uid=user000001)", "memberOf"),
                  std::string("memberOf: cn=team,") + kGroups));

  Intent empty = GroupIntent(IntentOp::kAdd, "nobody");
  REQUIRE(writer->Apply(empty).status.ok());
  CHECK(Has(slapd.Search("(cn=nobody)", "member"), "member:"));
}

TEST_CASE("a concurrent edit is detected and not overwritten",
          "[ldap_writer][integration]") {
  TempDir tmp;
  SlapdServer slapd(tmp / "slapd", 3922, 2);
  auto writer = MakeWriter(slapd);
  const std::string dn = Dn("user000001");
  const std::string id = slapd.EntryUuid(dn);
  // Someone else edits sn after the change the intent is based on.
  REQUIRE(slapd.Modify("dn: " + dn +
                       "\nchangetype: modify\nreplace: sn\nsn: Edited\n\n") ==
          0);

  Intent modify = AccountIntent(IntentOp::kModify, "user000001");
  modify.target_id = id;
  modify.set = {{"sn", {"FromMail"}}};
  modify.expect = {{"sn", {"Number1"}}};
  ApplyResult r = writer->Apply(modify);
  REQUIRE_FALSE(r.status.ok());
  CHECK(r.status.code() == StatusCode::kConflict);
  CHECK(r.status.message().find("sn: expected \"Number1\", found \"Edited\"") !=
        std::string::npos);
  CHECK(Has(slapd.Search("(uid=user000001)", "sn"), "sn: Edited"));

  Intent del = AccountIntent(IntentOp::kDelete, "user000001");
  del.target_id = id;
  del.expect = {{"sn", {"Number1"}}};
  r = writer->Apply(del);
  CHECK(r.status.code() == StatusCode::kConflict);
  CHECK_FALSE(slapd.EntryUuid(dn).empty());

  SECTION("the server enforces the assertion (RFC 4528)") {
    LdapConnectOptions o;
    o.uris = {slapd.url()};
    o.bind_dn = SlapdServer::kAdminDn;
    o.password = Secret("secret");
    auto conn = LdapConnection::Connect(o);
    REQUIRE(conn.ok());
    LdapModList mods;
    mods.Append(ModOp::kReplace, "sn", {"Overwritten"});
    WriteControls controls;
    controls.assertion = "(sn=Number1)";
    auto reply = ModifyEntry(**conn, dn, mods, controls);
    REQUIRE_FALSE(reply.ok());
    CHECK(reply.status().code() == StatusCode::kConflict);
    CHECK(reply.status().message().find("assertion failed") !=
          std::string::npos);
    CHECK(Has(slapd.Search("(uid=user000001)", "sn"), "sn: Edited"));
    controls.assertion = "(sn=Edited)";
    REQUIRE(ModifyEntry(**conn, dn, mods, controls).ok());
    CHECK(Has(slapd.Search("(uid=user000001)", "sn"), "sn: Overwritten"));
  }
}

TEST_CASE("re-applying an applied intent changes nothing",
          "[ldap_writer][integration]") {
  TempDir tmp;
  SlapdServer slapd(tmp / "slapd", 3923, 1);
  auto writer = MakeWriter(slapd);
  auto csn = [&](const std::string& filter) {
    return slapd.Search(filter, "entryCSN");
  };

  Intent add = AccountIntent(IntentOp::kAdd, "again");
  add.set = {{"sn", {"Again"}}, {"givenName", {"Once"}}};
  ApplyResult first = writer->Apply(add);
  REQUIRE(first.status.ok());
  const std::string added_csn = csn("(uid=again)");
  ApplyResult second = writer->Apply(add);
  REQUIRE(second.status.ok());
  CHECK(second.already_applied);
  CHECK(second.assigned_id == first.assigned_id);
  CHECK(csn("(uid=again)") == added_csn);

  Intent modify = AccountIntent(IntentOp::kModify, "again");
  modify.target_id = first.assigned_id;
  modify.set = {{"sn", {"Twice"}}};
  modify.expect = {{"sn", {"Again"}}};
  modify.add_values = {{"mail", {"again@example.com"}}};
  REQUIRE(writer->Apply(modify).status.ok());
  const std::string modified_csn = csn("(uid=again)");
  CHECK(modified_csn != added_csn);
  ApplyResult re = writer->Apply(modify);
  REQUIRE(re.status.ok());
  CHECK(re.already_applied);
  CHECK(csn("(uid=again)") == modified_csn);

  Intent rename = AccountIntent(IntentOp::kRename, "again");
  rename.target_id = first.assigned_id;
  rename.new_dn = Dn("moved");
  REQUIRE(writer->Apply(rename).status.ok());
  ApplyResult rename_again = writer->Apply(rename);
  REQUIRE(rename_again.status.ok());
  CHECK(rename_again.already_applied);

  Intent del = AccountIntent(IntentOp::kDelete, "moved");
  del.target_id = first.assigned_id;
  REQUIRE(writer->Apply(del).status.ok());
  ApplyResult del_again = writer->Apply(del);
  REQUIRE(del_again.status.ok());
  CHECK(del_again.already_applied);

  SECTION("an add over a different entry is a conflict") {
    Intent other = AccountIntent(IntentOp::kAdd, "user000001");
    other.set = {{"sn", {"Someone else"}}};
    ApplyResult r = writer->Apply(other);
    CHECK(r.status.code() == StatusCode::kConflict);
    CHECK(r.status.message().find("sn: intended \"Someone else\"") !=
          std::string::npos);
  }
}

TEST_CASE(
    "an add naming the entryUUID of an entry still there, outside the "
    "synced base, moves that entry back and writes its values",
    "[ldap_writer][integration]") {
  TempDir tmp;
  SlapdServer slapd(tmp / "slapd", 3924);
  auto w = MakeWriter(slapd);
  Intent add = AccountIntent(IntentOp::kAdd, "cat");
  add.set = {{"cn", {"cat"}}, {"sn", {"cat"}}, {"title", {"before"}}};
  const std::string id = AddWithOutside(slapd, *w, add);
  Intent group = GroupIntent(IntentOp::kAdd, "staff");
  group.set = {{"member", {Dn("cat")}}};
  REQUIRE(w->Apply(group).status.ok());
  // Moved out of the synced base and renamed there (syncrepl reports a
  // delete; refint renames the member), then changed.
  REQUIRE(slapd.Modify("dn: " + Dn("cat") +
                       "\nchangetype: modrdn\nnewrdn: uid=kit\n"
                       "deleteoldrdn: 1\nnewsuperior: "
                       "ou=outside,dc=example,dc=com\n") == 0);
  REQUIRE(slapd.Modify("dn: uid=kit,ou=outside,dc=example,dc=com\n"
                       "changetype: modify\nreplace: title\ntitle: out\n"
                       "-\nadd: description\ndescription: kept\n"
                       "-\nadd: mobile\nmobile: 555\n") == 0);
  CHECK(Has(slapd.Search("(cn=staff)", "member"),
            "member: uid=kit,ou=outside,dc=example,dc=com"));

  // A rollback brings it back at its DN, asking back its entryUUID.
  Intent again = AccountIntent(IntentOp::kAdd, "cat");
  again.target_id = id;
  again.set = add.set;
  ApplyResult back = w->Apply(again);
  INFO(back.message);
  REQUIRE(back.status.ok());
  CHECK(back.assigned_id == id);
  CHECK_FALSE(back.already_applied);
  CHECK(back.message.find("moved back from "
                          "\"uid=kit,ou=outside,dc=example,dc=com\"") !=
        std::string::npos);
  // One entry, at the intent's DN, with the values the add names; a mapped
  // attribute it gained outside goes, an unmapped one stays (the log may
  // not hold it).
  const std::string ldif =
      slapd.Search("(entryUUID=" + id + ")", "uid title description mobile");
  CHECK(Has(ldif, "dn: " + Dn("cat")));
  CHECK(Has(ldif, "uid: cat"));
  CHECK_FALSE(Has(ldif, "uid: kit"));
  CHECK(Has(ldif, "title: before"));
  CHECK(Has(ldif, "description: kept"));
  CHECK(ldif.find("mobile:") == std::string::npos);
  CHECK(slapd.Search("(|(uid=cat)(uid=kit))", "dn").find("outside") ==
        std::string::npos);
  // Its group lists it where it is again.
  CHECK(Has(slapd.Search("(cn=staff)", "member"), "member: " + Dn("cat")));
  // Applied again: the entry is there with those values.
  ApplyResult twice = w->Apply(again);
  CHECK(twice.status.ok());
  CHECK(twice.already_applied);
  CHECK(twice.assigned_id == id);

  // An attempt that moved the entry back and stopped before its values:
  // applied again, the values are written (not a conflict with itself).
  REQUIRE(slapd.Modify("dn: " + Dn("cat") +
                       "\nchangetype: modify\nreplace: title\ntitle: half\n"
                       "-\nadd: mobile\nmobile: 556\n") == 0);
  ApplyResult resumed = w->Apply(again);
  INFO(resumed.message);
  REQUIRE(resumed.status.ok());
  CHECK_FALSE(resumed.already_applied);
  CHECK(resumed.assigned_id == id);
  const std::string after =
      slapd.Search("(entryUUID=" + id + ")", "title mobile");
  CHECK(Has(after, "title: before"));
  CHECK(after.find("mobile:") == std::string::npos);
}

TEST_CASE(
    "an add naming an entryUUID no entry has keeps it; an add whose DN is "
    "taken by another entry is a conflict and moves nothing",
    "[ldap_writer][integration]") {
  TempDir tmp;
  SlapdServer slapd(tmp / "slapd", 3925);
  auto w = MakeWriter(slapd);
  Intent add = AccountIntent(IntentOp::kAdd, "cat");
  add.set = {{"cn", {"cat"}}, {"sn", {"cat"}}};
  const std::string id = AddWithOutside(slapd, *w, add);
  REQUIRE(slapd.Modify("dn: " + Dn("cat") +
                       "\nchangetype: modrdn\nnewrdn: uid=cat\n"
                       "deleteoldrdn: 1\nnewsuperior: "
                       "ou=outside,dc=example,dc=com\n") == 0);
  // Another entry took the DN meanwhile.
  Intent other = AccountIntent(IntentOp::kAdd, "cat");
  other.set = {{"cn", {"other"}}, {"sn", {"other"}}};
  REQUIRE(w->Apply(other).status.ok());
  Intent again = AccountIntent(IntentOp::kAdd, "cat");
  again.target_id = id;
  again.set = add.set;
  ApplyResult back = w->Apply(again);
  CHECK(back.status.code() == StatusCode::kConflict);
  CHECK(Has(slapd.Search("(entryUUID=" + id + ")", "dn"),
            "dn: uid=cat,ou=outside,dc=example,dc=com"));

  // Deleted for good: the add brings it back under its entryUUID.
  REQUIRE(slapd.Modify("dn: uid=cat,ou=outside,dc=example,dc=com\n"
                       "changetype: delete\n") == 0);
  REQUIRE(slapd.Modify("dn: " + Dn("cat") + "\nchangetype: delete\n") == 0);
  ApplyResult made = w->Apply(again);
  INFO(made.message);
  REQUIRE(made.status.ok());
  CHECK(made.assigned_id == id);
  CHECK(made.message.find("kept") != std::string::npos);
}

TEST_CASE(
    "the writer is built for any direction (operator rollbacks write "
    "under ldap_to_axigen too) and reports unreachable servers as retryable",
    "[ldap_writer][integration]") {
  auto one_way = RuleSet::Compile(
      MakeConfig({"ldap://127.0.0.1:3929"}, "", Direction::kLdapToAxigen));
  REQUIRE(one_way.ok());
  CHECK(LdapWriter::Create(*one_way, "corp").ok());

  auto rules = RuleSet::Compile(MakeConfig({"ldap://127.0.0.1:3929"}, ""));
  REQUIRE(rules.ok());
  auto writer = LdapWriter::Create(*rules, "corp");
  REQUIRE(writer.ok());
  ApplyResult r = (*writer)->Apply(AccountIntent(IntentOp::kAdd, "x"));
  CHECK(r.status.code() == StatusCode::kUnavailable);
  CHECK(r.status.retryable());
  CHECK(r.status.message().find("ldap://127.0.0.1:3929") != std::string::npos);

  Intent mail = AccountIntent(IntentOp::kAdd, "x");
  mail.target = Side::kMail;
  CHECK((*writer)->Apply(mail).status.code() == StatusCode::kInvalidArgument);
}

}  // namespace dirledger

#include "engine/dirsync/dirsync_entry.h"

#include <catch2/catch.hpp>

namespace dirledger {
namespace {

const char* kConfig = R"(
[[connector]]
name = "ad"
server_type = "activedirectory"
uris = ["ldap://127.0.0.21"]
bind_dn = "Administrator@EXAMPLE.TEST"
account_base_dn = "OU=People,DC=example,DC=test"
group_sync = true
group_base_dn = "OU=Groups,DC=example,DC=test"

[[domain]]
name = "example.com"
ldap_sync = true
connector = "ad"
)";

std::shared_ptr<const RuleSet> Rules(const std::string& text = kConfig) {
  Result<Config> cfg = ParseConfig(text, "test.toml");
  REQUIRE(cfg.ok());
  auto rules = RuleSet::Compile(std::move(cfg).value());
  REQUIRE(rules.ok());
  return *rules;
}

constexpr char kGuid[] = "775bf4d5-1524-466d-8042-0844fb6c789e";

DirSyncEntry User(const std::string& cn, const std::string& ou = "People") {
  DirSyncEntry e;
  e.dn = "CN=" + cn + ",OU=" + ou + ",DC=example,DC=test";
  e.guid = kGuid;
  e.attrs = {
      {"objectClass", {"top", "person", "organizationalPerson", "user"}},
      {"sAMAccountName", {cn}},
      {"givenName", {"Alice"}},
      {"sn", {"Liddell"}},
      {"name", {cn}},
      {"instanceType", {"4"}},
      {"proxyAddresses", {"SMTP:alice@example.com", "smtp:al@example.com"}}};
  return e;
}

ObjectState Known(const ObservedChange& c) {
  ObjectState o;
  o.kind = c.kind;
  o.id = c.id;
  o.dn = c.dn;
  o.domain = c.domain;
  o.connector = c.connector;
  o.attrs = c.attrs;
  return o;
}

}  // namespace

TEST_CASE("entry attributes are sorted out by their descriptions",
          "[dirsync]") {
  DirSyncEntry e;
  const std::string raw(
      "\xd5\xf4\x5b\x77\x24\x15\x6d\x46\x80\x42\x08\x44\xfb\x6c\x78\x9e", 16);
  AddEntryAttribute(&e, "objectGUID", {raw});
  AddEntryAttribute(&e, "isDeleted", {"TRUE"});
  AddEntryAttribute(&e, "whenCreated", {"20261122000126.0Z"});
  AddEntryAttribute(&e, "member;range=1-1", {"CN=a,DC=x", "CN=b,DC=x"});
  AddEntryAttribute(&e, "member;range=0-0", {"CN=c,DC=x"});
  AddEntryAttribute(&e, "sn", {});
  AddEntryAttribute(&e, "userCertificate;binary", {"der"});
  CHECK(e.guid == kGuid);
  CHECK(e.is_deleted);
  CHECK(e.created);
  REQUIRE(e.value_adds.size() == 1);
  CHECK(e.value_adds[0].name == "member");
  CHECK(e.value_adds[0].values.size() == 2);
  REQUIRE(e.value_deletes.size() == 1);
  CHECK(e.value_deletes[0].values == std::vector<std::string>{"CN=c,DC=x"});
  REQUIRE(e.attrs.size() == 2);
  CHECK(e.attrs[0].name == "sn");
  CHECK(e.attrs[0].values.empty());
  CHECK(e.attrs[1].name == "userCertificate");
  DirSyncEntry bad;
  AddEntryAttribute(&bad, "objectGUID", {"short"});
  CHECK(bad.guid.empty());
}

TEST_CASE("the search asks for mapped attributes and what the source needs",
          "[dirsync]") {
  const AttributeMap m = AttributeMap::Default(ServerType::kActiveDirectory);
  const std::vector<std::string> attrs = DirSyncSearchAttributes(m, true);
  for (const char* a : {"objectGUID", "isDeleted", "whenCreated", "name",
                        "objectClass", "sAMAccountName", "member",
                        "proxyAddresses", "givenName", "sn", "mail"}) {
    const bool has = std::any_of(attrs.begin(), attrs.end(), [&](auto& x) {
      return EqualsIgnoreCase(x, a);
    });
    if (std::string_view(a) == "mail") {
      CHECK_FALSE(has);  // not mapped: proxyAddresses carries the aliases
    } else {
      CHECK(has);
    }
  }
  CHECK(DirSyncSearchFilter(m, true) ==
        "(|(&(objectClass=user)(!(objectClass=computer)))(objectClass=group))");
  CHECK(DirSyncSearchFilter(m, false) ==
        "(&(objectClass=user)(!(objectClass=computer)))");
}

TEST_CASE("mail names", "[dirsync]") {
  CHECK(IsValidMailName("alice"));
  CHECK(IsValidMailName("a.b-c_d+e"));
  CHECK_FALSE(IsValidMailName(""));
  CHECK_FALSE(IsValidMailName("John Smith"));
  CHECK_FALSE(IsValidMailName(".alice"));
  CHECK_FALSE(IsValidMailName("alice."));
  CHECK_FALSE(IsValidMailName("a..b"));
  CHECK_FALSE(IsValidMailName("a@b"));
  CHECK_FALSE(IsValidMailName(std::string(65, 'a')));
}

TEST_CASE("a full entry in scope is an add with its mapped attributes only",
          "[dirsync]") {
  DirSyncEntryMapper m(Rules(), "ad", "ad/dirsync");
  EntryDecision d = m.Map(User("alice"), true, std::nullopt);
  REQUIRE(d.action == EntryDecision::Action::kChange);
  CHECK(d.in_scope);
  const ObservedChange& c = d.change;
  CHECK(c.op == ChangeOp::kAdd);
  CHECK(c.full_image);
  CHECK(c.kind == ObjectKind::kAccount);
  CHECK(c.domain == "example.com");
  CHECK(c.id == kGuid);
  CHECK(c.source == "ad/dirsync");
  CHECK(c.connector == "ad");
  CHECK(FindAttr(c.attrs, "name") == nullptr);
  CHECK(FindAttr(c.attrs, "instanceType") == nullptr);
  CHECK(FirstValue(c.attrs, "givenName") == "Alice");
  CHECK(AttrValues(c.attrs, "proxyAddresses").size() == 2);
  CHECK(IsCanonical(c.attrs));
}

TEST_CASE("entries outside the base DNs are not taken", "[dirsync]") {
  DirSyncEntryMapper m(Rules(), "ad", "ad/dirsync");
  EntryDecision d = m.Map(User("admin", "Elsewhere"), true, std::nullopt);
  CHECK(d.action == EntryDecision::Action::kSkip);
  CHECK_FALSE(d.in_scope);
  DirSyncEntry computer = User("ws1");
  computer.attrs[0].values.push_back("computer");
  d = m.Map(computer, true, std::nullopt);
  CHECK(d.action == EntryDecision::Action::kSkip);
}

TEST_CASE("a group's member additions fold into a full image", "[dirsync]") {
  DirSyncEntryMapper m(Rules(), "ad", "ad/dirsync");
  DirSyncEntry g;
  g.dn = "CN=staff,OU=Groups,DC=example,DC=test";
  g.guid = kGuid;
  g.attrs = {{"objectClass", {"top", "group"}}, {"sAMAccountName", {"staff"}}};
  g.value_adds = {{"member",
                   {"CN=b,OU=People,DC=example,DC=test",
                    "CN=a,OU=People,DC=example,DC=test"}}};
  g.value_deletes = {{"member", {"CN=gone,OU=People,DC=example,DC=test"}}};
  EntryDecision d = m.Map(g, true, std::nullopt);
  REQUIRE(d.action == EntryDecision::Action::kChange);
  CHECK(d.change.kind == ObjectKind::kGroup);
  CHECK(AttrValues(d.change.attrs, "member") ==
        std::vector<std::string>{"CN=a,OU=People,DC=example,DC=test",
                                 "CN=b,OU=People,DC=example,DC=test"});
  CHECK(d.change.value_adds.empty());
  CHECK(d.change.value_deletes.empty());
}

TEST_CASE("a partial change of a known object is classified on the known image",
          "[dirsync]") {
  DirSyncEntryMapper m(Rules(), "ad", "ad/dirsync");
  const ObjectState known =
      Known(m.Map(User("alice"), true, std::nullopt).change);
  DirSyncEntry e;
  e.dn = "CN=alice,OU=People,DC=example,DC=test";
  e.guid = kGuid;
  e.attrs = {{"givenName", {"Alicia"}}, {"sn", {}}};
  EntryDecision d = m.Map(e, false, known);
  REQUIRE(d.action == EntryDecision::Action::kChange);
  CHECK(d.change.op == ChangeOp::kModify);
  CHECK_FALSE(d.change.full_image);
  CHECK(d.change.domain == "example.com");
  REQUIRE(d.change.attrs.size() == 2);
  CHECK(d.change.attrs[0].name == "givenName");
  CHECK(d.change.attrs[1].name == "sn");
  CHECK(d.change.attrs[1].values.empty());  // cleared
}

TEST_CASE("a partial entry of an unknown object needs the whole object",
          "[dirsync]") {
  DirSyncEntryMapper m(Rules(), "ad", "ad/dirsync");
  DirSyncEntry e;
  e.dn = "CN=carol,OU=People,DC=example,DC=test";
  e.guid = kGuid;
  e.attrs = {{"name", {"carol"}}};
  CHECK(m.Map(e, false, std::nullopt).action ==
        EntryDecision::Action::kNeedFullImage);
  // Elsewhere in the domain it cannot be ours: not worth a read.
  e.dn = "CN=carol,OU=Elsewhere,DC=example,DC=test";
  CHECK(m.Map(e, false, std::nullopt).action == EntryDecision::Action::kSkip);
}

TEST_CASE("group membership changes arrive as value adds and deletes",
          "[dirsync]") {
  DirSyncEntryMapper m(Rules(), "ad", "ad/dirsync");
  ObjectState known;
  known.kind = ObjectKind::kGroup;
  known.id = kGuid;
  known.dn = "CN=staff,OU=Groups,DC=example,DC=test";
  known.domain = "example.com";
  known.attrs = {{"member", {"CN=a,OU=People,DC=example,DC=test"}},
                 {"objectClass", {"group", "top"}},
                 {"sAMAccountName", {"staff"}}};
  DirSyncEntry e;
  e.dn = known.dn;
  e.guid = kGuid;
  e.value_adds = {{"member", {"CN=b,OU=People,DC=example,DC=test"}}};
  e.value_deletes = {{"member", {"CN=a,OU=People,DC=example,DC=test"}}};
  EntryDecision d = m.Map(e, false, known);
  REQUIRE(d.action == EntryDecision::Action::kChange);
  CHECK(d.change.kind == ObjectKind::kGroup);
  CHECK(d.change.attrs.empty());
  REQUIRE(d.change.value_adds.size() == 1);
  CHECK(d.change.value_adds[0].values[0] ==
        "CN=b,OU=People,DC=example,DC=test");
  REQUIRE(d.change.value_deletes.size() == 1);
  CHECK(d.change.value_deletes[0].values[0] ==
        "CN=a,OU=People,DC=example,DC=test");
}

TEST_CASE("tombstones of known objects are deletes named as the log knows them",
          "[dirsync]") {
  DirSyncEntryMapper m(Rules(), "ad", "ad/dirsync");
  const ObjectState known =
      Known(m.Map(User("alice"), true, std::nullopt).change);
  DirSyncEntry t;
  t.dn =
      "CN=alice\\0ADEL:775bf4d5-1524-466d-8042-0844fb6c789e,CN=Deleted "
      "Objects,DC=example,DC=test";
  t.guid = kGuid;
  t.is_deleted = true;
  EntryDecision d = m.Map(t, false, known);
  REQUIRE(d.action == EntryDecision::Action::kChange);
  CHECK(d.change.op == ChangeOp::kDelete);
  CHECK(d.change.kind == ObjectKind::kAccount);
  CHECK(d.change.dn == "CN=alice,OU=People,DC=example,DC=test");
  CHECK(d.change.domain == "example.com");
  CHECK(m.Map(t, false, std::nullopt).action == EntryDecision::Action::kSkip);
  // In a full pass a tombstone is just not present.
  d = m.Map(t, true, known);
  CHECK(d.action == EntryDecision::Action::kSkip);
  CHECK_FALSE(d.in_scope);
}

TEST_CASE(
    "a known object moved out of the base DNs is a delete that names where "
    "it is",
    "[dirsync]") {
  DirSyncEntryMapper m(Rules(), "ad", "ad/dirsync");
  const ObjectState known =
      Known(m.Map(User("alice"), true, std::nullopt).change);
  DirSyncEntry e;
  e.dn = "CN=alice,OU=Elsewhere,DC=example,DC=test";
  e.guid = kGuid;
  e.attrs = {{"name", {"alice"}}};
  EntryDecision d = m.Map(e, false, known);
  REQUIRE(d.action == EntryDecision::Action::kChange);
  CHECK(d.change.op == ChangeOp::kDelete);
  CHECK(d.change.dn == known.dn);
  CHECK(d.change.remains_at == e.dn);
  CHECK_FALSE(d.in_scope);
}

TEST_CASE("a rename within the scope is a modify with the new DN",
          "[dirsync]") {
  DirSyncEntryMapper m(Rules(), "ad", "ad/dirsync");
  const ObjectState known =
      Known(m.Map(User("alice"), true, std::nullopt).change);
  DirSyncEntry e;
  e.dn = "CN=alice2,OU=People,DC=example,DC=test";
  e.guid = kGuid;
  e.attrs = {{"name", {"alice2"}}};
  EntryDecision d = m.Map(e, false, known);
  REQUIRE(d.action == EntryDecision::Action::kChange);
  CHECK(d.change.op == ChangeOp::kModify);
  CHECK(d.change.dn == e.dn);
  CHECK(d.change.attrs.empty());
  // The same DN, nothing mapped changed: nothing to report.
  e.dn = known.dn;
  e.attrs = {{"name", {"alice"}}};
  CHECK(m.Map(e, false, known).action == EntryDecision::Action::kSkip);
}

TEST_CASE("invalid data is an ObjectError for that object", "[dirsync]") {
  DirSyncEntryMapper m(Rules(), "ad", "ad/dirsync");
  DirSyncEntry e = User("john smith");
  EntryDecision d = m.Map(e, true, std::nullopt);
  REQUIRE(d.action == EntryDecision::Action::kError);
  CHECK(d.in_scope);  // still present: a full pass must not delete it
  CHECK(d.error.id == kGuid);
  CHECK(d.error.message.find(
            "sAMAccountName \"john smith\" is not a valid mail name") !=
        std::string::npos);
  e = User("alice");
  e.attrs[2].values = {std::string("Al\xc3\x28ice")};  // invalid UTF-8
  d = m.Map(e, true, std::nullopt);
  REQUIRE(d.action == EntryDecision::Action::kError);
  CHECK(d.error.message.find("givenName holds a value that is not UTF-8") !=
        std::string::npos);
  e = User("alice");
  e.attrs.erase(e.attrs.begin() + 1);  // no sAMAccountName
  d = m.Map(e, true, std::nullopt);
  REQUIRE(d.action == EntryDecision::Action::kError);
  CHECK(d.error.message.find("account has no sAMAccountName") !=
        std::string::npos);
  e = User("alice");
  e.guid.clear();
  d = m.Map(e, true, std::nullopt);
  REQUIRE(d.action == EntryDecision::Action::kError);
  CHECK_FALSE(d.in_scope);
}

TEST_CASE("a custom schema mapping the RDN attribute gets it from the DN",
          "[dirsync]") {
  std::string text = kConfig;
  text.replace(text.find("group_sync"), 0,
               "custom_schema_file = \"schema.toml\"\n");
  Result<Config> cfg = ParseConfig(text, "test.toml", [](const std::string&) {
    return Result<std::string>(
        std::string("[account.fields]\ndisplayName = \"cn\"\n"));
  });
  REQUIRE(cfg.ok());
  auto rules = RuleSet::Compile(std::move(cfg).value());
  REQUIRE(rules.ok());
  DirSyncEntryMapper m(*rules, "ad", "ad/dirsync");
  EntryDecision d = m.Map(User("alice"), true, std::nullopt);
  REQUIRE(d.action == EntryDecision::Action::kChange);
  CHECK(FirstValue(d.change.attrs, "cn") == "alice");
  const ObjectState known = Known(d.change);
  DirSyncEntry r;
  r.dn = "CN=Alice\\2C Queen,OU=People,DC=example,DC=test";
  r.guid = kGuid;
  r.attrs = {{"name", {"Alice, Queen"}}};
  d = m.Map(r, false, known);
  REQUIRE(d.action == EntryDecision::Action::kChange);
  CHECK(FirstValue(d.change.attrs, "cn") == "Alice, Queen");
}

}  // namespace dirledger

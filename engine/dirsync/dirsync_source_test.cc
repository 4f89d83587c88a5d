// DirSyncSource against a real Samba AD DC (tests/harness/samba.sh), on
// 127.0.0.21 (and a second domain on 127.0.0.22). One DC for the whole
// binary; each test works in its own OUs and configures its connector's base
// DNs on them, so tests do not see each other's objects.
#include "engine/dirsync/dirsync_source.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "engine/dirsync/dirsync_cursor.h"
#include "engine/dirsync/object_guid.h"
#include "engine/dirsync/recording_sink.h"
#include "tests/support/samba_dc.h"
#include "tests/support/slapd_server.h"

namespace dirledger {
namespace {

using test::SambaDc;

std::string DcDir(const std::string& addr) {
  const char* t = std::getenv("TMPDIR");
  return std::string(t && *t ? t : "/tmp") + "/dirledger-samba-" + addr;
}

SambaDc& Dc() {
  static SambaDc dc(DcDir("127.0.0.21"), "127.0.0.21");
  return dc;
}

// A second domain, for cookies of another domain.
SambaDc& OtherDc() {
  static SambaDc dc(DcDir("127.0.0.22"), "127.0.0.22", "OTHER.TEST");
  return dc;
}

// OU=<name>People and OU=<name>Groups under the domain.
void MakeOus(SambaDc& dc, const std::string& name) {
  std::string out;
  const int rc = dc.Add("dn: OU=" + name + "People," + dc.base() +
                            "\nobjectClass: organizationalUnit\n\n"
                            "dn: OU=" +
                            name + "Groups," + dc.base() +
                            "\nobjectClass: organizationalUnit\n",
                        &out);
  INFO(out);
  REQUIRE(rc == 0);
}

std::string People(SambaDc& dc, const std::string& name) {
  return "OU=" + name + "People," + dc.base();
}
std::string Groups(SambaDc& dc, const std::string& name) {
  return "OU=" + name + "Groups," + dc.base();
}

std::string UserLdif(SambaDc& dc, const std::string& ou_name,
                     const std::string& cn, const std::string& extra = "") {
  return "dn: CN=" + cn + "," + People(dc, ou_name) +
         "\nobjectClass: user\nsAMAccountName: " + cn + "\ngivenName: G" + cn +
         "\nsn: S" + cn + "\nproxyAddresses: SMTP:" + cn +
         "@example.com\nproxyAddresses: smtp:" + cn + ".alias@example.com\n" +
         extra + "\n";
}

void Apply(SambaDc& dc, const std::string& ldif) {
  std::string out;
  const int rc = dc.Modify(ldif, &out);
  INFO(ldif << "\n" << out);
  REQUIRE(rc == 0);
}

// A connector on `dc` whose account and group bases are the test's OUs.
DirSyncOptions Options(SambaDc& dc, const std::string& name,
                       const std::string& extra = "",
                       const std::string& bind = "",
                       const std::string& pwfile = "",
                       const std::string& people = "") {
  const std::string text =
      "batch_size = 100\n"
      "[[connector]]\n"
      "name = \"ad\"\n"
      "server_type = \"activedirectory\"\n"
      "uris = [\"" +
      dc.url() +
      "\"]\n"
      "bind_dn = \"" +
      (bind.empty() ? dc.admin() : bind) +
      "\"\n"
      "bind_password_file = \"" +
      (pwfile.empty() ? dc.password_file() : pwfile) +
      "\"\n"
      "account_base_dn = \"" +
      (people.empty() ? People(dc, name) : people) +
      "\"\n"
      "group_sync = true\n"
      "group_base_dn = \"" +
      Groups(dc, name) +
      "\"\n"
      "polling_interval_s = 0.2\n" +
      extra +
      "\n[[domain]]\nname = \"example.com\"\nldap_sync = true\n"
      "connector = \"ad\"\n";
  Result<Config> cfg = ParseConfig(text, "/nonexistent/dirledger.toml");
  INFO(cfg.status().ToString());
  REQUIRE(cfg.ok());
  auto rules = RuleSet::Compile(std::move(cfg).value());
  REQUIRE(rules.ok());
  Result<DirSyncOptions> o = DirSyncOptionsFor(*rules, "ad");
  INFO(o.status().ToString());
  REQUIRE(o.ok());
  o->wait = [](double s, const SourceSink& sink) {
    const auto until = std::chrono::steady_clock::now() +
                       std::chrono::duration<double>(std::min(s, 2.0));
    while (!sink.StopRequested() && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
  };
  return std::move(o).value();
}

std::optional<ObservedChange> ChangeFor(const RecordingSink& sink,
                                        const std::string& id) {
  std::optional<ObservedChange> out;
  for (const ObservedChange& c : sink.Changes())
    if (c.id == id) out = c;
  return out;
}

std::string GuidOf(const RecordingSink& sink, const std::string& dn) {
  std::optional<ObjectState> o = sink.KnownByDn(dn);
  INFO(dn);
  REQUIRE(o);
  return o->id;
}

}  // namespace

TEST_CASE("a full pass takes every account and group in scope, nothing else",
          "[integration][dirsync]") {
  SambaDc& dc = Dc();
  MakeOus(dc, "Bulk");
  constexpr int kUsers = 3000;
  constexpr int kGroups = 60;
  dc.AddUsers(kUsers, People(dc, "Bulk"), "bulk");
  std::string groups;
  for (int g = 1; g <= kGroups; ++g) {
    groups += "dn: CN=bgroup" + std::to_string(g) + "," + Groups(dc, "Bulk") +
              "\nobjectClass: group\nsAMAccountName: bgroup" +
              std::to_string(g) + "\ndisplayName: Group " + std::to_string(g) +
              "\n";
    for (int m = 0; m < 25; ++m) {
      char cn[32];
      std::snprintf(cn, sizeof cn, "bulk%06d", (g * 25 + m) % kUsers + 1);
      groups +=
          "member: CN=" + std::string(cn) + "," + People(dc, "Bulk") + "\n";
    }
    groups += "\n";
  }
  // Out of scope: a user elsewhere, a computer among the people.
  groups += "dn: CN=outsider,CN=Users," + dc.base() +
            "\nobjectClass: user\nsAMAccountName: outsider\n\n";
  groups += "dn: CN=ws1," + People(dc, "Bulk") +
            "\nobjectClass: computer\nsAMAccountName: ws1$\n\n";
  std::string out;
  REQUIRE(dc.Add(groups, &out) == 0);

  DirSyncSource source(Options(dc, "Bulk"));
  RecordingSink sink;
  Status s = source.RunOnce("", &sink);
  INFO(s.ToString());
  REQUIRE(s.ok());
  const DirSyncPassReport& r = source.last_pass();
  CHECK(r.full);
  CHECK(r.full_reason == "no stored cursor");
  CHECK_FALSE(r.object_security);  // the administrator may replicate
  CHECK(r.changes == kUsers + kGroups);
  CHECK(r.errors == 0);
  CHECK(r.present == kUsers + kGroups);
  CHECK(sink.known().size() == kUsers + kGroups);
  CHECK(r.entries > kUsers + kGroups);  // the whole domain was searched

  // Begin (present), batches, then EndPresentPhase with every object.
  const auto& ds = sink.deliveries();
  REQUIRE(ds.size() >= 3);
  REQUIRE(std::holds_alternative<RefreshPhase>(ds.front().events.front()));
  CHECK(std::get<RefreshPhase>(ds.front().events.front()).mode ==
        RefreshMode::kPresent);
  CHECK_FALSE(ds.front().cookie);
  CHECK(ds.back().present_end);
  CHECK(ds.back().present_ids.size() == kUsers + kGroups);
  REQUIRE(ds.back().cookie);
  for (size_t i = 1; i + 1 < ds.size(); ++i) {
    CHECK(ds[i].events.size() <= 100);  // batch_size
    CHECK_FALSE(ds[i].cookie);
  }
  Result<DirSyncCursor> cursor = DecodeDirSyncCursor(*sink.cookie());
  REQUIRE(cursor.ok());
  CHECK(cursor->server_cookie.substr(0, 4) == "MSDS");

  // Objects are keyed by objectGUID strings the DC itself resolves.
  const std::string dn1 = "CN=bulk000001," + People(dc, "Bulk");
  const std::string id1 = GuidOf(sink, dn1);
  CHECK(IsObjectGuidString(id1));
  CHECK(dc.Search("(objectClass=*)", "dn", "<GUID=" + id1 + ">", "-s base")
            .find("dn: " + dn1) != std::string::npos);
  const ObjectState& u1 = sink.known().at(id1);
  CHECK(u1.kind == ObjectKind::kAccount);
  CHECK(u1.domain == "example.com");
  CHECK(FirstValue(u1.attrs, "sAMAccountName") == "bulk000001");
  CHECK(FirstValue(u1.attrs, "givenName") == "Given1");
  CHECK(AttrValues(u1.attrs, "proxyAddresses").size() == 2);
  const ObjectState g1 = *sink.KnownByDn("CN=bgroup1," + Groups(dc, "Bulk"));
  CHECK(g1.kind == ObjectKind::kGroup);
  CHECK(AttrValues(g1.attrs, "member").size() == 25);
  CHECK(FirstValue(g1.attrs, "displayName") == "Group 1");
  CHECK_FALSE(sink.KnownByDn("CN=ws1," + People(dc, "Bulk")));
  CHECK_FALSE(sink.KnownByDn("CN=outsider,CN=Users," + dc.base()));

  // With the stored cursor and no change: nothing is delivered.
  sink.ClearDeliveries();
  const std::string stored = *sink.cookie();
  REQUIRE(source.RunOnce(stored, &sink).ok());
  CHECK_FALSE(source.last_pass().full);
  CHECK(sink.deliveries().empty());
  CHECK(source.last_pass().cursor == stored);

  // A full pass again (no cursor) against a log that knows everything:
  // nothing differs, every object is present, nothing is deleted.
  REQUIRE(source.RunOnce("", &sink).ok());
  CHECK(source.last_pass().changes == 0);
  CHECK(source.last_pass().unchanged == kUsers + kGroups);
  CHECK(sink.deliveries().back().present_ids.size() == kUsers + kGroups);
  CHECK(sink.known().size() == kUsers + kGroups);
}

TEST_CASE("adds, modifies, renames, moves and deletes are seen with the cookie",
          "[integration][dirsync]") {
  SambaDc& dc = Dc();
  MakeOus(dc, "T2");
  MakeOus(dc, "T2Other");
  std::string out;
  REQUIRE(dc.Add(UserLdif(dc, "T2", "alice") + UserLdif(dc, "T2", "bob") +
                     UserLdif(dc, "T2", "dave") + UserLdif(dc, "T2", "frank") +
                     UserLdif(dc, "T2Other", "eve"),
                 &out) == 0);
  DirSyncSource source(Options(dc, "T2"));
  RecordingSink sink;
  REQUIRE(source.RunOnce("", &sink).ok());
  REQUIRE(sink.known().size() == 4);
  const std::string alice = GuidOf(sink, "CN=alice," + People(dc, "T2"));
  const std::string bob = GuidOf(sink, "CN=bob," + People(dc, "T2"));
  const std::string dave = GuidOf(sink, "CN=dave," + People(dc, "T2"));
  const std::string frank = GuidOf(sink, "CN=frank," + People(dc, "T2"));

  REQUIRE(dc.Add(UserLdif(dc, "T2", "carol"), &out) == 0);
  Apply(dc, "dn: CN=alice," + People(dc, "T2") +
                "\nchangetype: modify\nreplace: givenName\ngivenName: "
                "Alicia\n-\ndelete: sn\n-\nadd: proxyAddresses\n"
                "proxyAddresses: smtp:ally@example.com\n\n"
                "dn: CN=bob," +
                People(dc, "T2") +
                "\nchangetype: modrdn\nnewrdn: CN=robert\ndeleteoldrdn: 1\n\n"
                "dn: CN=dave," +
                People(dc, "T2") +
                "\nchangetype: delete\n\n"
                "dn: CN=eve," +
                People(dc, "T2Other") +
                "\nchangetype: modrdn\nnewrdn: CN=eve\ndeleteoldrdn: 1\n"
                "newsuperior: " +
                People(dc, "T2") +
                "\n\n"
                "dn: CN=frank," +
                People(dc, "T2") +
                "\nchangetype: modrdn\nnewrdn: CN=frank\ndeleteoldrdn: 1\n"
                "newsuperior: " +
                People(dc, "T2Other") + "\n");
  sink.ClearDeliveries();
  Status s = source.RunOnce(*sink.cookie(), &sink);
  INFO(s.ToString());
  REQUIRE(s.ok());
  const DirSyncPassReport& r = source.last_pass();
  CHECK_FALSE(r.full);
  CHECK(r.fetched == 1);  // eve, moved in: DirSync sent only her new name

  // One Deliver: Begin, the changes, End, and the new cursor.
  REQUIRE(sink.deliveries().size() == 1);
  const RecordingSink::Delivery& d = sink.deliveries()[0];
  REQUIRE(d.cookie);
  CHECK(*d.cookie != "");
  REQUIRE(d.events.size() == 2 + 6);
  CHECK(std::get<RefreshPhase>(d.events.front()).kind == PhaseKind::kBegin);
  CHECK(std::get<RefreshPhase>(d.events.front()).mode ==
        RefreshMode::kIncremental);
  CHECK(std::get<RefreshPhase>(d.events.back()).kind == PhaseKind::kEnd);
  CHECK(std::get<RefreshPhase>(d.events.back()).entries == 6);

  std::optional<ObjectState> carol =
      sink.KnownByDn("CN=carol," + People(dc, "T2"));
  REQUIRE(carol);
  std::optional<ObservedChange> c = ChangeFor(sink, carol->id);
  REQUIRE(c);
  CHECK(c->op == ChangeOp::kAdd);
  CHECK(c->full_image);
  CHECK(FirstValue(c->attrs, "sn") == "Scarol");

  c = ChangeFor(sink, alice);
  REQUIRE(c);
  CHECK(c->op == ChangeOp::kModify);
  CHECK_FALSE(c->full_image);
  CHECK(FirstValue(c->attrs, "givenName") == "Alicia");
  REQUIRE(FindAttr(c->attrs, "sn"));
  CHECK(FindAttr(c->attrs, "sn")->values.empty());  // cleared
  CHECK(AttrValues(c->attrs, "proxyAddresses").size() == 3);
  CHECK(FindAttr(c->attrs, "sAMAccountName") == nullptr);  // unchanged
  CHECK(FindAttr(sink.known().at(alice).attrs, "sn") == nullptr);

  c = ChangeFor(sink, bob);
  REQUIRE(c);
  CHECK(c->op == ChangeOp::kModify);
  CHECK(c->dn == "CN=robert," + People(dc, "T2"));
  CHECK(c->attrs.empty());
  CHECK(FirstValue(sink.known().at(bob).attrs, "sAMAccountName") == "bob");

  c = ChangeFor(sink, dave);
  REQUIRE(c);
  CHECK(c->op == ChangeOp::kDelete);
  CHECK(c->kind == ObjectKind::kAccount);
  CHECK(c->dn == "CN=dave," + People(dc, "T2"));  // as the log knew it
  CHECK(sink.known().count(dave) == 0);

  std::optional<ObjectState> eve = sink.KnownByDn("CN=eve," + People(dc, "T2"));
  REQUIRE(eve);
  c = ChangeFor(sink, eve->id);
  REQUIRE(c);
  CHECK(c->op == ChangeOp::kAdd);
  CHECK(c->full_image);
  CHECK(FirstValue(c->attrs, "givenName") == "Geve");

  c = ChangeFor(sink, frank);
  REQUIRE(c);
  CHECK(c->op == ChangeOp::kDelete);  // left the scope
  CHECK(sink.known().size() == 4);    // alice, robert, carol, eve
}

TEST_CASE("group membership changes arrive as incremental values",
          "[integration][dirsync]") {
  SambaDc& dc = Dc();
  MakeOus(dc, "T3");
  std::string out;
  REQUIRE(dc.Add(UserLdif(dc, "T3", "ann") + UserLdif(dc, "T3", "ben") +
                     UserLdif(dc, "T3", "cat") + "dn: CN=staff," +
                     Groups(dc, "T3") +
                     "\nobjectClass: group\nsAMAccountName: staff\nmember: "
                     "CN=ann," +
                     People(dc, "T3") + "\nmember: CN=ben," + People(dc, "T3") +
                     "\n",
                 &out) == 0);
  DirSyncSource source(Options(dc, "T3"));
  RecordingSink sink;
  REQUIRE(source.RunOnce("", &sink).ok());
  const std::string staff = GuidOf(sink, "CN=staff," + Groups(dc, "T3"));
  CHECK(AttrValues(sink.known().at(staff).attrs, "member").size() == 2);

  Apply(dc, "dn: CN=staff," + Groups(dc, "T3") +
                "\nchangetype: modify\nadd: member\nmember: CN=cat," +
                People(dc, "T3") + "\n-\ndelete: member\nmember: CN=ann," +
                People(dc, "T3") + "\n");
  sink.ClearDeliveries();
  REQUIRE(source.RunOnce(*sink.cookie(), &sink).ok());
  std::optional<ObservedChange> c = ChangeFor(sink, staff);
  REQUIRE(c);
  CHECK(c->kind == ObjectKind::kGroup);
  CHECK(c->op == ChangeOp::kModify);
  CHECK(c->attrs.empty());  // not the whole member list
  REQUIRE(c->value_adds.size() == 1);
  CHECK(c->value_adds[0].name == "member");
  CHECK(c->value_adds[0].values ==
        std::vector<std::string>{"CN=cat," + People(dc, "T3")});
  REQUIRE(c->value_deletes.size() == 1);
  CHECK(c->value_deletes[0].values ==
        std::vector<std::string>{"CN=ann," + People(dc, "T3")});
  CHECK(AttrValues(sink.known().at(staff).attrs, "member") ==
        std::vector<std::string>{"CN=ben," + People(dc, "T3"),
                                 "CN=cat," + People(dc, "T3")});
}

TEST_CASE("a restarted source resumes from the stored cookie",
          "[integration][dirsync]") {
  SambaDc& dc = Dc();
  MakeOus(dc, "T4");
  std::string out;
  REQUIRE(dc.Add(UserLdif(dc, "T4", "kim") + UserLdif(dc, "T4", "lee"), &out) ==
          0);
  RecordingSink sink;
  DirSyncSource first(Options(dc, "T4"));
  REQUIRE(first.RunOnce("", &sink).ok());
  REQUIRE(sink.known().size() == 2);
  const std::string stored = *sink.cookie();
  Apply(dc, "dn: CN=kim," + People(dc, "T4") +
                "\nchangetype: modify\nreplace: title\ntitle: Boss\n");
  // The DC restarts too: its cookie stays valid.
  dc.Stop();
  dc.Start();
  sink.ClearDeliveries();
  DirSyncSource second(Options(dc, "T4"));
  REQUIRE(second.RunOnce(stored, &sink).ok());
  CHECK_FALSE(second.last_pass().full);
  const std::vector<ObservedChange> changes = sink.Changes();
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].dn == "CN=kim," + People(dc, "T4"));
  CHECK(changes[0].attrs == AttrList{{"title", {"Boss"}}});

  // The first source kept its connection, which the restart closed: it
  // reconnects by itself and goes on from the newer cursor.
  Apply(dc, "dn: CN=lee," + People(dc, "T4") +
                "\nchangetype: modify\nreplace: title\ntitle: Deputy\n");
  sink.ClearDeliveries();
  Status s = first.RunOnce(*sink.cookie(), &sink);
  INFO(s.ToString());
  REQUIRE(s.ok());
  CHECK_FALSE(first.last_pass().full);
  REQUIRE(sink.Changes().size() == 1);
  CHECK(sink.Changes()[0].dn == "CN=lee," + People(dc, "T4"));
}

TEST_CASE("Run polls, and reconnects with backoff while the DC is down",
          "[integration][dirsync]") {
  SambaDc& dc = Dc();
  MakeOus(dc, "T5");
  std::string out;
  REQUIRE(dc.Add(UserLdif(dc, "T5", "pat"), &out) == 0);
  DirSyncSource source(Options(dc, "T5"));
  RecordingSink sink;
  REQUIRE(source.RunOnce("", &sink).ok());
  const std::string cookie = *sink.cookie();
  const std::string pat = GuidOf(sink, "CN=pat," + People(dc, "T5"));
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::minutes(2);
  sink.set_stop([&](const RecordingSink& s) {
    const auto it = s.known().find(pat);
    return std::chrono::steady_clock::now() > deadline ||
           (it != s.known().end() &&
            FirstValue(it->second.attrs, "title") == "Back");
  });
  dc.Stop();
  Status run_status;
  std::thread runner([&] { run_status = source.Run(cookie, &sink); });
  std::this_thread::sleep_for(std::chrono::seconds(3));  // several retries
  dc.Start();
  Apply(dc, "dn: CN=pat," + People(dc, "T5") +
                "\nchangetype: modify\nreplace: title\ntitle: Back\n");
  runner.join();
  INFO(run_status.ToString());
  CHECK(run_status.ok());
  CHECK(std::chrono::steady_clock::now() < deadline);
  CHECK(FirstValue(sink.known().at(pat).attrs, "title") == "Back");
}

TEST_CASE("a tombstone becomes a delete of the right object",
          "[integration][dirsync]") {
  SambaDc& dc = Dc();
  MakeOus(dc, "T6");
  MakeOus(dc, "T6b");
  std::string out;
  // Two "sam" in different OUs (different sAMAccountNames), and a group
  // holding the one to be deleted.
  REQUIRE(
      dc.Add(UserLdif(dc, "T6", "sam") + "dn: CN=sam," + People(dc, "T6b") +
                 "\nobjectClass: user\nsAMAccountName: sam2\n\n" +
                 "dn: CN=crew," + Groups(dc, "T6") +
                 "\nobjectClass: group\nsAMAccountName: crew\nmember: CN=sam," +
                 People(dc, "T6") + "\n",
             &out) == 0);
  DirSyncSource source(Options(dc, "T6"));
  RecordingSink sink;
  REQUIRE(source.RunOnce("", &sink).ok());
  const std::string sam = GuidOf(sink, "CN=sam," + People(dc, "T6"));
  const std::string crew = GuidOf(sink, "CN=crew," + Groups(dc, "T6"));
  Apply(dc, "dn: CN=sam," + People(dc, "T6") + "\nchangetype: delete\n");
  sink.ClearDeliveries();
  REQUIRE(source.RunOnce(*sink.cookie(), &sink).ok());
  std::optional<ObservedChange> c = ChangeFor(sink, sam);
  REQUIRE(c);
  CHECK(c->op == ChangeOp::kDelete);
  CHECK(c->kind == ObjectKind::kAccount);
  CHECK(c->dn == "CN=sam," + People(dc, "T6"));
  CHECK(c->domain == "example.com");
  CHECK(sink.known().count(sam) == 0);
  CHECK(sink.known().count(crew) == 1);
  // The tombstone keeps the objectGUID and sits under Deleted Objects.
  const std::string tomb =
      dc.Search("(objectClass=*)", "isDeleted lastKnownParent",
                "<GUID=" + sam + ">", "-s base -e '!1.2.840.113556.1.4.417'");
  CHECK(tomb.find("CN=Deleted Objects") != std::string::npos);
  CHECK(tomb.find("isDeleted: TRUE") != std::string::npos);
}

TEST_CASE(
    "a cookie that is not this domain's leads to a full pass as a present "
    "phase",
    "[integration][dirsync]") {
  SambaDc& dc = Dc();
  // Catch runs the case once per section: each run gets its own OUs.
  static int run = 0;
  const std::string ou = "T7r" + std::to_string(++run);
  MakeOus(dc, ou);
  std::string out;
  std::string ldif;
  for (int i = 1; i <= 12; ++i)
    ldif += UserLdif(dc, ou, ou + "u" + std::to_string(i));
  REQUIRE(dc.Add(ldif, &out) == 0);
  DirSyncSource source(Options(dc, ou));
  RecordingSink sink;
  REQUIRE(source.RunOnce("", &sink).ok());
  REQUIRE(sink.known().size() == 12);
  const std::string good = *sink.cookie();
  const std::string gone = GuidOf(sink, "CN=" + ou + "u1," + People(dc, ou));
  // Deleted while the source does not look: only a full pass reconciled
  // against the log can notice.
  Apply(dc, "dn: CN=" + ou + "u1," + People(dc, ou) + "\nchangetype: delete\n");

  auto full_pass_with = [&](const std::string& cookie, const std::string& why) {
    sink.ClearDeliveries();
    Status s = source.RunOnce(cookie, &sink);
    INFO(s.ToString());
    REQUIRE(s.ok());
    const DirSyncPassReport& r = source.last_pass();
    CHECK(r.full);
    INFO(r.full_reason);
    CHECK(r.full_reason.find(why) != std::string::npos);
    REQUIRE_FALSE(sink.deliveries().empty());
    const auto& first = sink.deliveries().front().events.front();
    REQUIRE(std::holds_alternative<RefreshPhase>(first));
    CHECK(std::get<RefreshPhase>(first).mode == RefreshMode::kPresent);
    CHECK(sink.deliveries().back().present_end);
    CHECK(sink.deliveries().back().present_ids.size() == sink.known().size());
    CHECK(sink.cookie() != cookie);
    CHECK(DecodeDirSyncCursor(*sink.cookie()).ok());
  };

  SECTION("garbage") {
    full_pass_with("garbage", "not a DirSync cursor");
    // The sink turned the object missing from the present phase into a
    // delete (the mass-delete guard would have counted it).
    std::optional<ObservedChange> c = ChangeFor(sink, gone);
    REQUIRE(c);
    CHECK(c->op == ChangeOp::kDelete);
    CHECK(sink.known().size() == 11);
  }
  SECTION("a raw server cookie, not dirledger's cursor") {
    full_pass_with(DecodeDirSyncCursor(good)->server_cookie,
                   "not a DirSync cursor");
  }
  SECTION("a well-formed cursor whose server cookie the DC rejects") {
    DirSyncCursor c = *DecodeDirSyncCursor(good);
    c.server_cookie = "MSDS garbage that Samba cannot unmarshall";
    full_pass_with(EncodeDirSyncCursor(c),
                   "the server rejected the stored cookie");
    CHECK(source.last_pass().full_reason.find("Critical extension") !=
          std::string::npos);
  }
  SECTION("a cookie of another domain") {
    SambaDc& other = OtherDc();
    REQUIRE(
        other.Add("dn: OU=OPeople," + other.base() +
                      "\nobjectClass: organizationalUnit\n\ndn: OU=OGroups," +
                      other.base() + "\nobjectClass: organizationalUnit\n",
                  &out) == 0);
    DirSyncOptions o = Options(other, "O");
    DirSyncSource other_source(o);
    RecordingSink other_sink;
    REQUIRE(other_source.RunOnce("", &other_sink).ok());
    const std::string foreign = *other_sink.cookie();
    full_pass_with(foreign, "belongs to another naming context");
    // Given raw, Samba would take it and answer everything as if new; the
    // cursor's naming context GUID is what tells the two apart.
    CHECK(DecodeDirSyncCursor(foreign)->nc_guid !=
          DecodeDirSyncCursor(good)->nc_guid);
  }
  SECTION("too many objects missing: the sink's mass-delete guard holds them") {
    sink.set_delete_threshold(0);
    sink.ClearDeliveries();
    Status s = source.RunOnce("garbage", &sink);
    CHECK(s.code() == StatusCode::kHeld);
    CHECK(sink.held_deletes() == 1);
    CHECK(sink.known().count(gone) == 1);
  }
}

TEST_CASE("every attribute of the built-in AD map is a real AD attribute",
          "[integration][dirsync]") {
  SambaDc& dc = Dc();
  MakeOus(dc, "T10");
  // The DC refuses attributes its schema does not have, so this add proves
  // the names; the pass proves each one is taken.
  std::string out;
  const int rc = dc.Add(
      "dn: CN=full," + People(dc, "T10") +
          "\nobjectClass: user\nsAMAccountName: full\n"
          "userPrincipalName: full@example.test\ngivenName: Fiona\n"
          "sn: Full\ndisplayName: Fiona Full\ncompany: Example Inc\n"
          "department: Sales\ntitle: Director\n"
          "physicalDeliveryOfficeName: Paris 3\n"
          "telephoneNumber: +33 1 00 00 00 01\nhomePhone: +33 1 00 00 00 02\n"
          "mobile: +33 6 00 00 00 03\nfacsimileTelephoneNumber: +33 1 00 00 "
          "00 04\nmail: fiona@example.com\n"
          "proxyAddresses: SMTP:fiona@example.com\n"
          "proxyAddresses: smtp:ff@example.com\n\n"
          "dn: CN=sales," +
          Groups(dc, "T10") +
          "\nobjectClass: group\nsAMAccountName: sales\n"
          "displayName: Sales Team\ndescription: everyone selling\n"
          "member: CN=full," +
          People(dc, "T10") + "\n",
      &out);
  INFO(out);
  REQUIRE(rc == 0);
  DirSyncSource source(Options(dc, "T10"));
  RecordingSink sink;
  REQUIRE(source.RunOnce("", &sink).ok());
  const AttributeMap map = AttributeMap::Default(ServerType::kActiveDirectory);
  std::optional<ObjectState> user =
      sink.KnownByDn("CN=full," + People(dc, "T10"));
  REQUIRE(user);
  for (const FieldMapping& f : map.account.fields) {
    INFO(f.field << " <- " << f.attribute);
    CHECK_FALSE(AttrValues(user->attrs, f.attribute).empty());
  }
  CHECK(FirstValue(user->attrs, "sAMAccountName") == "full");
  CHECK(AttrValues(user->attrs, "proxyAddresses") ==
        std::vector<std::string>{"SMTP:fiona@example.com",
                                 "smtp:ff@example.com"});
  std::optional<ObjectState> group =
      sink.KnownByDn("CN=sales," + Groups(dc, "T10"));
  REQUIRE(group);
  CHECK(FirstValue(group->attrs, "displayName") == "Sales Team");
  CHECK(AttrValues(group->attrs, "member") ==
        std::vector<std::string>{"CN=full," + People(dc, "T10")});
  CHECK(FindAttr(group->attrs, "description") == nullptr);
}

TEST_CASE("a narrower scope starts over: objects it leaves out become deletes",
          "[integration][dirsync]") {
  SambaDc& dc = Dc();
  MakeOus(dc, "T11");
  const std::string sub = "OU=Sub," + People(dc, "T11");
  std::string out;
  REQUIRE(dc.Add(UserLdif(dc, "T11", "t11top") + "dn: " + sub +
                     "\nobjectClass: organizationalUnit\n\n"
                     "dn: CN=t11sub," +
                     sub + "\nobjectClass: user\nsAMAccountName: t11sub\n",
                 &out) == 0);
  RecordingSink sink;
  {
    DirSyncSource wide(Options(dc, "T11"));
    REQUIRE(wide.RunOnce("", &sink).ok());
  }
  REQUIRE(sink.known().size() == 2);
  const std::string top = GuidOf(sink, "CN=t11top," + People(dc, "T11"));
  // Nothing changes on the DC; only the configured account base narrows.
  DirSyncSource narrow(Options(dc, "T11", "", "", "", sub));
  sink.ClearDeliveries();
  REQUIRE(narrow.RunOnce(*sink.cookie(), &sink).ok());
  CHECK(narrow.last_pass().full);
  CHECK(narrow.last_pass().full_reason.find("the search changed") !=
        std::string::npos);
  CHECK(sink.deliveries().back().present_ids.size() == 1);
  std::optional<ObservedChange> c = ChangeFor(sink, top);
  REQUIRE(c);
  CHECK(c->op == ChangeOp::kDelete);
  CHECK(sink.known().size() == 1);
}

TEST_CASE("invalid data is an ObjectError and the sync goes on",
          "[integration][dirsync]") {
  SambaDc& dc = Dc();
  MakeOus(dc, "T8");
  std::string out;
  REQUIRE(dc.Add(UserLdif(dc, "T8", "good") + "dn: CN=Bad Name," +
                     People(dc, "T8") +
                     "\nobjectClass: user\nsAMAccountName: bad name\n\n",
                 &out) == 0);
  DirSyncSource source(Options(dc, "T8"));
  RecordingSink sink;
  REQUIRE(source.RunOnce("", &sink).ok());
  CHECK(sink.known().size() == 1);
  const std::vector<ObjectError> errors = sink.Errors();
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].dn == "CN=Bad Name," + People(dc, "T8"));
  CHECK(IsObjectGuidString(errors[0].id));
  CHECK(errors[0].message.find("not a valid mail name") != std::string::npos);
  // Still present: it is never deleted for being invalid.
  CHECK(sink.deliveries().back().present_ids.size() == 2);
}

TEST_CASE("an account without replication rights syncs with OBJECT_SECURITY",
          "[integration][dirsync]") {
  SambaDc& dc = Dc();
  static int run = 0;  // once per section
  const std::string ou = "T9r" + std::to_string(++run);
  const std::string reader = "reader" + std::to_string(run);
  MakeOus(dc, ou);
  std::string out;
  REQUIRE(dc.Add(UserLdif(dc, ou, ou + "vis"), &out) == 0);
  // A plain domain user with a password, set over LDAPS as AD requires
  // (unicodePwd: the quoted password in UTF-16LE).
  const std::string pw = "Reader!Passw0rd";
  const std::string pwfile = dc.dir() + "/" + reader + ".pw";
  const std::string utf16_file = dc.dir() + "/" + reader + ".utf16";
  {
    std::ofstream(pwfile) << pw;
    std::ofstream f(utf16_file, std::ios::binary);
    for (char ch : "\"" + pw + "\"") f << ch << '\0';
  }
  REQUIRE(dc.Add("dn: CN=" + reader + ",CN=Users," + dc.base() +
                     "\nobjectClass: user\nsAMAccountName: " + reader + "\n",
                 &out) == 0);
  const int rc = test::RunCommand(
      "printf 'dn: CN=" + reader + ",CN=Users," + dc.base() +
          "\\nchangetype: modify\\nreplace: unicodePwd\\nunicodePwd:< file://" +
          utf16_file +
          "\\n-\\nreplace: userAccountControl\\nuserAccountControl: 512\\n' | "
          "LDAPTLS_CACERT='" +
          dc.ca_file() + "' ldapmodify -x -H " + dc.ldaps_url() + " -D " +
          dc.admin() + " -y '" + dc.password_file() + "' 2>&1",
      &out);
  INFO(out);
  REQUIRE(rc == 0);
  DirSyncOptions o = Options(dc, ou, "", reader + "@" + dc.realm(), pwfile);
  SECTION("auto: falls back to OBJECT_SECURITY") {
    DirSyncSource source(o);
    RecordingSink sink;
    Status s = source.RunOnce("", &sink);
    INFO(s.ToString());
    REQUIRE(s.ok());
    CHECK(source.last_pass().object_security);
    CHECK(sink.KnownByDn("CN=" + ou + "vis," + People(dc, ou)));
  }
  SECTION("never: the refusal is an error naming the cause") {
    o.object_security = ObjectSecurity::kNever;
    DirSyncSource source(o);
    RecordingSink sink;
    Status s = source.RunOnce("", &sink);
    CHECK_FALSE(s.ok());
    CHECK_FALSE(s.retryable());
    CHECK(s.message().find("Insufficient access") != std::string::npos);
  }
  SECTION("granted \"Replicating Directory Changes\": no OBJECT_SECURITY") {
    std::string pw;
    REQUIRE(test::RunCommand("cat '" + dc.password_file() + "'", &pw) == 0);
    const int granted = test::RunCommand(
        "samba-tool dsacl set -H " + dc.url() + " --simple-bind-dn='" +
            dc.admin() + "' --password='" + pw +
            "' --car=get-changes --action=allow --objectdn='" + dc.base() +
            "' --trusteedn='CN=" + reader + ",CN=Users," + dc.base() + "' 2>&1",
        &out);
    INFO(out);
    REQUIRE(granted == 0);
    o.object_security = ObjectSecurity::kNever;
    DirSyncSource source(o);
    RecordingSink sink;
    Status s = source.RunOnce("", &sink);
    INFO(s.ToString());
    REQUIRE(s.ok());
    CHECK_FALSE(source.last_pass().object_security);
    CHECK(sink.KnownByDn("CN=" + ou + "vis," + People(dc, ou)));
  }
}

TEST_CASE("a connector that is not Active Directory is refused",
          "[integration][dirsync]") {
  Result<Config> cfg = ParseConfig(
      "[[connector]]\nname = \"ol\"\nserver_type = \"openldap\"\n"
      "uris = [\"ldap://127.0.0.1:1\"]\naccount_base_dn = \"ou=people,%D\"\n",
      "/nonexistent/dirledger.toml");
  REQUIRE(cfg.ok());
  auto rules = RuleSet::Compile(std::move(cfg).value());
  REQUIRE(rules.ok());
  Result<DirSyncOptions> o = DirSyncOptionsFor(*rules, "ol");
  CHECK_FALSE(o.ok());
  CHECK(o.status().message().find("activedirectory") != std::string::npos);
}

}  // namespace dirledger

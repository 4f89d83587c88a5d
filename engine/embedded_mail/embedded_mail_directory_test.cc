#include "engine/embedded_mail/embedded_mail_directory.h"

#include <rocksdb/db.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <thread>

#include "codecs/projection.h"
#include "engine/embedded_mail/mail_admin.h"
#include "tests/support/temp_dir.h"

namespace dirledger {
namespace {

std::shared_ptr<const RuleSet> Rules() {
  Config c;
  ConnectorConfig corp;
  corp.name = "corp";
  corp.uris = {"ldap://127.0.0.1:1"};
  corp.account_base_dn = "ou=people,%D";
  c.connectors.push_back(corp);
  c.domains.push_back({"example.com", true, "corp"});
  c.batch_size = 2;
  return std::move(RuleSet::Compile(c)).value();
}

// Records what a source delivers.
class RecordingSink : public SourceSink {
 public:
  Status Deliver(std::vector<EventBody> events,
                 const std::optional<std::string>& cookie) override {
    std::lock_guard<std::mutex> lock(mu);
    ++deliveries;
    for (auto& e : events) {
      if (auto* c = std::get_if<ObservedChange>(&e)) changes.push_back(*c);
      if (auto* p = std::get_if<RefreshPhase>(&e)) phases.push_back(*p);
    }
    if (cookie) this->cookie = *cookie;
    return Status::Ok();
  }
  Status EndPresentPhase(std::vector<std::string>, RefreshPhase,
                         const std::optional<std::string>&) override {
    return Status::Ok();
  }
  Status ForEachKnown(const std::function<bool(ObjectKind, std::string_view,
                                               const AttrList&)>&) override {
    return Status::Ok();
  }
  std::optional<ObjectState> LookupKnown(std::string_view) override {
    return std::nullopt;
  }
  bool StopRequested() const override { return stop.load(); }

  // For tests that read while a Run thread delivers.
  std::string Cookie() {
    std::lock_guard<std::mutex> lock(mu);
    return cookie;
  }

  std::mutex mu;
  std::vector<ObservedChange> changes;
  std::vector<RefreshPhase> phases;
  std::string cookie;
  int deliveries = 0;
  std::atomic<bool> stop{false};
};

Intent AddIntent(std::uint64_t seq, std::string address, AttrList set) {
  Intent in;
  in.id = MakeIntentId(seq, 0);
  in.target = Side::kMail;
  in.kind = ObjectKind::kAccount;
  in.op = IntentOp::kAdd;
  in.target_id = std::move(address);
  in.set = std::move(set);
  return in;
}

struct Fixture {
  test::TempDir tmp;
  std::unique_ptr<EmbeddedMailDirectory> dir;
  Fixture() { Reopen(); }
  void Reopen() {
    dir.reset();
    EmbeddedMailOptions o;
    o.sync = false;
    dir = std::move(EmbeddedMailDirectory::Open(tmp / "mail", Rules(), o))
              .value();
  }
};

TEST_CASE("admin edits appear in the change feed with a cursor",
          "[embedded_mail]") {
  Fixture f;
  MailAdmin admin(f.dir.get());
  REQUIRE(admin
              .Add("Ada@example.com",
                   *ParseMailEdits({"firstName=Ada", "lastName=King"}))
              .ok());
  REQUIRE(admin.Set("ada@example.com", *ParseMailEdits({"lastName=Lovelace"}))
              .ok());
  REQUIRE(admin.Remove("ada@example.com").ok());

  RecordingSink sink;
  REQUIRE(f.dir->RunOnce("", &sink).ok());
  REQUIRE(sink.changes.size() == 3);
  REQUIRE(sink.deliveries == 2);  // batch_size 2
  REQUIRE(sink.cookie == "3");
  const ObservedChange& add = sink.changes[0];
  REQUIRE(add.side == Side::kMail);
  REQUIRE(add.source == "mail");
  REQUIRE(add.connector == "corp");
  REQUIRE(add.domain == "example.com");
  REQUIRE(add.id == "ada@example.com");
  REQUIRE(add.op == ChangeOp::kAdd);
  REQUIRE(add.full_image);
  REQUIRE(add.origin_intent == 0);
  REQUIRE(add.attrs ==
          AttrList{{"firstName", {"Ada"}}, {"lastName", {"King"}}});
  REQUIRE(sink.changes[1].op == ChangeOp::kModify);
  REQUIRE(FirstValue(sink.changes[1].attrs, "lastName") == "Lovelace");
  REQUIRE(FirstValue(sink.changes[1].attrs, "firstName") == "Ada");
  REQUIRE(sink.changes[2].op == ChangeOp::kDelete);
  REQUIRE(sink.changes[2].attrs.empty());
}

TEST_CASE("a source resumes from its cursor", "[embedded_mail]") {
  Fixture f;
  MailAdmin admin(f.dir.get());
  REQUIRE(admin.Add("a@example.com", {}).ok());
  RecordingSink first;
  REQUIRE(f.dir->RunOnce("", &first).ok());
  REQUIRE(first.cookie == "1");
  REQUIRE(admin.Add("b@example.com", {}).ok());
  RecordingSink second;
  REQUIRE(f.dir->RunOnce(first.cookie, &second).ok());
  REQUIRE(second.changes.size() == 1);
  REQUIRE(second.changes[0].id == "b@example.com");
  REQUIRE(second.cookie == "2");
  RecordingSink third;
  REQUIRE(f.dir->RunOnce(second.cookie, &third).ok());
  REQUIRE(third.changes.empty());
  REQUIRE(third.deliveries == 0);
  RecordingSink bad;
  REQUIRE(f.dir->RunOnce("not-a-number", &bad).code() ==
          StatusCode::kInvalidArgument);
}

TEST_CASE("a first poll that finds nothing is an empty full refresh",
          "[embedded_mail]") {
  Fixture f;
  RecordingSink sink;
  REQUIRE(f.dir->RunOnce("", &sink).ok());
  // The log shows the side was polled, and held nothing.
  CHECK(sink.changes.empty());
  REQUIRE(sink.phases.size() == 2);
  CHECK(sink.phases[0].kind == PhaseKind::kBegin);
  CHECK(sink.phases[1].kind == PhaseKind::kEnd);
  for (const RefreshPhase& p : sink.phases) {
    CHECK(p.mode == RefreshMode::kFull);
    CHECK(p.source == "mail");
  }
  CHECK(sink.cookie == "0");
  // Only the first poll says so.
  RecordingSink again;
  REQUIRE(f.dir->RunOnce(sink.cookie, &again).ok());
  CHECK(again.deliveries == 0);
  // A first poll that finds objects delivers them, unbracketed, as before.
  MailAdmin admin(f.dir.get());
  REQUIRE(admin.Add("a@example.com", {}).ok());
  RecordingSink held;
  REQUIRE(f.dir->RunOnce("", &held).ok());
  CHECK(held.changes.size() == 1);
  CHECK(held.phases.empty());
  // Run does the same on its first pass.
  Fixture g;
  RecordingSink run;
  Status run_status;
  std::thread runner([&] { run_status = g.dir->Run("", &run); });
  for (int i = 0; i < 400 && run.Cookie() != "0"; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  run.stop = true;
  runner.join();
  REQUIRE(run_status.ok());
  CHECK(run.phases.size() == 2);
}

TEST_CASE("an intent applied twice changes nothing the second time",
          "[embedded_mail]") {
  Fixture f;
  Intent in = AddIntent(5, "ada@example.com", {{"firstName", {"Ada"}}});
  ApplyResult r1 = f.dir->Apply(in);
  REQUIRE(r1.status.ok());
  REQUIRE_FALSE(r1.already_applied);
  REQUIRE(f.dir->last_change() == 1);
  ApplyResult r2 = f.dir->Apply(in);  // a crash between apply and outcome
  REQUIRE(r2.status.ok());
  REQUIRE(r2.already_applied);
  REQUIRE(f.dir->last_change() == 1);

  RecordingSink sink;
  REQUIRE(f.dir->RunOnce("", &sink).ok());
  REQUIRE(sink.changes.size() == 1);
  REQUIRE(sink.changes[0].origin_intent == in.id);

  // The same state reached by another intent id: already applied too.
  Intent same = AddIntent(6, "ada@example.com", {{"firstName", {"Ada"}}});
  ApplyResult r3 = f.dir->Apply(same);
  REQUIRE(r3.already_applied);
  REQUIRE(f.dir->last_change() == 1);

  // An intent applied once, then overwritten by an admin: a re-apply of
  // the first intent still changes nothing.
  MailAdmin admin(f.dir.get());
  REQUIRE(
      admin.Set("ada@example.com", *ParseMailEdits({"firstName=Eve"})).ok());
  REQUIRE(f.dir->Apply(in).already_applied);
  REQUIRE(FirstValue((*f.dir->Get("ada@example.com"))->attrs, "firstName") ==
          "Eve");
}

TEST_CASE("an expect mismatch is a Conflict naming the field",
          "[embedded_mail]") {
  Fixture f;
  REQUIRE(f.dir
              ->Apply(AddIntent(1, "ada@example.com",
                                {{"firstName", {"Ada"}}, {"title", {"Dr"}}}))
              .status.ok());
  Intent mod;
  mod.id = MakeIntentId(2, 0);
  mod.target = Side::kMail;
  mod.op = IntentOp::kModify;
  mod.target_id = "ada@example.com";
  mod.set = {{"title", {"Countess"}}};
  mod.expect = {{"title", {"Prof"}}};
  ApplyResult r = f.dir->Apply(mod);
  REQUIRE(r.status.code() == StatusCode::kConflict);
  REQUIRE(r.status.message().find("title") != std::string::npos);
  REQUIRE(f.dir->last_change() == 1);
  mod.expect = {{"title", {"Dr"}}};
  REQUIRE(f.dir->Apply(mod).status.ok());
  REQUIRE(FirstValue((*f.dir->Get("ada@example.com"))->attrs, "title") ==
          "Countess");

  Intent del;
  del.id = MakeIntentId(3, 0);
  del.target = Side::kMail;
  del.op = IntentOp::kDelete;
  del.target_id = "ada@example.com";
  del.expect = {{"title", {"Dr"}}};
  REQUIRE(f.dir->Apply(del).status.code() == StatusCode::kConflict);
  del.expect = {};
  REQUIRE(f.dir->Apply(del).status.ok());
  REQUIRE_FALSE((*f.dir->Get("ada@example.com")).has_value());
  del.id = MakeIntentId(4, 0);
  REQUIRE(f.dir->Apply(del).already_applied);
}

TEST_CASE("intents for unknown domains or bad input fail clearly",
          "[embedded_mail]") {
  Fixture f;
  ApplyResult r = f.dir->Apply(AddIntent(1, "ada@other.org", {}));
  REQUIRE(r.status.IsNotFound());
  REQUIRE(r.status.message().find("domain other.org") != std::string::npos);
  r = f.dir->Apply(AddIntent(2, "a\"b@example.com", {}));
  REQUIRE(r.status.code() == StatusCode::kInvalidArgument);
  r = f.dir->Apply(AddIntent(3, "ada@example.com", {{"colour", {"red"}}}));
  REQUIRE(r.status.message().find("unknown account field") !=
          std::string::npos);
  REQUIRE(f.dir->last_change() == 0);
}

TEST_CASE(
    "an address belongs to one object: an alias that is another object's "
    "address or alias, or in a domain the directory lacks, is refused",
    "[embedded_mail]") {
  Fixture f;
  MailAdmin admin(f.dir.get());
  REQUIRE(f.dir
              ->Apply(AddIntent(1, "ada@example.com",
                                {{"aliases", {"countess@example.com"}}}))
              .status.ok());
  REQUIRE(f.dir->Apply(AddIntent(2, "bob@example.com", {})).status.ok());
  const std::uint64_t changes = f.dir->last_change();
  struct Case {
    std::string alias;
    std::string says;
  };
  for (const Case& c :
       {Case{"ada@example.com", "it is the address of account ada@example.com"},
        Case{"countess@example.com", "it is an alias of ada@example.com"},
        Case{"boss@othercorp.org",
             "domain othercorp.org is not in the mail directory"}}) {
    INFO(c.alias);
    ApplyResult r = f.dir->Apply(
        AddIntent(3, "evil@example.com", {{"aliases", {c.alias}}}));
    REQUIRE(r.status.code() == StatusCode::kConflict);
    CHECK(r.status.message() ==
          "alias " + c.alias + " of evil@example.com refused: " + c.says);
    // Nor by a modify of an existing object, nor through the admin.
    auto s =
        admin.Set("bob@example.com", *ParseMailEdits({"aliases=" + c.alias}));
    CHECK(s.status().code() == StatusCode::kConflict);
  }
  CHECK_FALSE((*f.dir->Get("evil@example.com")).has_value());
  CHECK(f.dir->last_change() == changes);
  // An account whose own address is another's alias is refused too.
  ApplyResult r = f.dir->Apply(AddIntent(4, "countess@example.com", {}));
  CHECK(r.status.code() == StatusCode::kConflict);
  CHECK(r.status.message() ==
        "account countess@example.com refused: the address is an alias of "
        "ada@example.com");

  // Released by its owner, the alias can be taken; the ownership survives a
  // restart (it is rebuilt from the objects).
  REQUIRE(admin
              .Set("ada@example.com",
                   *ParseMailEdits({"aliases-=countess@example.com"}))
              .ok());
  REQUIRE(admin
              .Set("bob@example.com",
                   *ParseMailEdits({"aliases=countess@example.com"}))
              .ok());
  f.Reopen();
  r = f.dir->Apply(
      AddIntent(5, "eve@example.com", {{"aliases", {"countess@example.com"}}}));
  CHECK(r.status.code() == StatusCode::kConflict);
  CHECK(r.status.message().find("it is an alias of bob@example.com") !=
        std::string::npos);
}

// Stores `alias` on `address` behind the directory's back, as a directory
// written before addresses had owners may hold it, and drops the "aliases"
// family and its marker, as a directory written before them has neither.
// (An empty `alias` plants nothing.)
void PlantAlias(const std::string& dir, const std::string& address,
                const std::string& alias) {
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const char* name : {"default", "objects", "domains", "secrets",
                           "changes", "applied", "aliases"})
    cfs.emplace_back(name, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  REQUIRE(
      rocksdb::DB::Open(rocksdb::DBOptions(), dir, cfs, &handles, &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  std::string bytes;
  REQUIRE(db->Get(rocksdb::ReadOptions(), handles[1], address, &bytes).ok());
  ObjectState o;
  REQUIRE(DecodeObjectState(bytes, &o).ok());
  if (!alias.empty()) {
    SetAttr(&o.attrs, "aliases", {alias});
    REQUIRE(db->Put(rocksdb::WriteOptions(), handles[1], address,
                    EncodeObjectState(o))
                .ok());
  }
  REQUIRE(db->Delete(rocksdb::WriteOptions(), handles[0], "alias_index").ok());
  REQUIRE(db->DropColumnFamily(handles[6]).ok());
  for (auto* h : handles) REQUIRE(db->DestroyColumnFamilyHandle(h).ok());
}

TEST_CASE("a directory made before the alias index gets it at its next open",
          "[embedded_mail]") {
  // The aliases are indexed as they are written; a directory without the
  // index has it built from its objects, once.
  Fixture f;
  REQUIRE(f.dir
              ->Apply(AddIntent(1, "ada@example.com",
                                {{"aliases", {"countess@example.com"}}}))
              .status.ok());
  f.dir.reset();
  PlantAlias(f.tmp / "mail", "ada@example.com", "");
  {
    // Read-only, it opens as it is (no index: it writes nothing).
    EmbeddedMailOptions ro;
    ro.read_only = true;
    auto d = EmbeddedMailDirectory::Open(f.tmp / "mail", Rules(), ro);
    REQUIRE(d.ok());
    auto ada = (*d)->Get("ada@example.com");
    REQUIRE(ada.ok());
    CHECK(ada->has_value());
  }
  f.Reopen();
  auto r = f.dir->Apply(
      AddIntent(2, "eve@example.com", {{"aliases", {"countess@example.com"}}}));
  CHECK(r.status.code() == StatusCode::kConflict);
  CHECK(r.status.message().find("it is an alias of ada@example.com") !=
        std::string::npos);
  // The alias given up is free again, after another reopen.
  MailAdmin admin(f.dir.get());
  REQUIRE(admin
              .Set("ada@example.com",
                   *ParseMailEdits({"aliases-=countess@example.com"}))
              .ok());
  f.Reopen();
  CHECK(f.dir
            ->Apply(AddIntent(3, "eve@example.com",
                              {{"aliases", {"countess@example.com"}}}))
            .status.ok());
}

TEST_CASE(
    "an alias two objects held before owners were checked locks neither out",
    "[embedded_mail]") {
  Fixture f;
  REQUIRE(f.dir
              ->Apply(AddIntent(1, "ada@example.com",
                                {{"aliases", {"shared@example.com"}}}))
              .status.ok());
  REQUIRE(f.dir->Apply(AddIntent(2, "bob@example.com", {})).status.ok());
  f.dir.reset();
  PlantAlias(f.tmp / "mail", "bob@example.com", "shared@example.com");
  f.Reopen();
  // Both can still be changed, the alias kept as it is.
  MailAdmin admin(f.dir.get());
  for (const char* who : {"ada@example.com", "bob@example.com"}) {
    INFO(who);
    auto s = admin.Set(who, *ParseMailEdits({"lastName=Changed"}));
    REQUIRE(s.ok());
    CHECK((*f.dir->Get(who))->attrs.size() > 0);
  }
  // A new claim on another object's address is still refused.
  auto taken = admin.Set("bob@example.com",
                         *ParseMailEdits({"aliases=ada@example.com"}));
  CHECK(taken.status().code() == StatusCode::kConflict);
}

Intent RenameIntent(std::uint64_t seq, std::string from, std::string to,
                    AttrList set = {}) {
  Intent in;
  in.id = MakeIntentId(seq, 0);
  in.target = Side::kMail;
  in.kind = ObjectKind::kAccount;
  in.op = IntentOp::kRename;
  in.dn = std::move(from);
  in.target_id = to;
  in.new_dn = std::move(to);
  in.set = std::move(set);
  return in;
}

TEST_CASE(
    "a rename moves the account, its password and its group memberships in "
    "one change",
    "[embedded_mail][rename]") {
  Fixture f;
  MailAdmin admin(f.dir.get());
  REQUIRE(admin
              .Add("ada@example.com",
                   *ParseMailEdits({"firstName=Ada", "title=Countess",
                                    "aliases=countess@example.com"}),
                   Secret("pw"))
              .ok());
  REQUIRE(admin
              .Add("staff@example.com",
                   *ParseMailEdits({"kind=group", "members=ada@example.com"}))
              .ok());
  REQUIRE(admin
              .Add("other@example.com",
                   *ParseMailEdits({"kind=group", "displayName=Other"}))
              .ok());
  const std::uint64_t before = f.dir->last_change();

  // The rename carries the entry's field writes; the old address is not
  // kept as an alias unless the writes say so.
  Intent rename = RenameIntent(7, "ada@example.com", "ada.king@example.com",
                               {{"title", {"Analyst"}}});
  ApplyResult r = f.dir->Apply(rename);
  INFO(r.status.ToString());
  REQUIRE(r.status.ok());
  REQUIRE_FALSE(r.already_applied);
  REQUIRE_FALSE((*f.dir->Get("ada@example.com")).has_value());
  auto moved = *f.dir->Get("ada.king@example.com");
  REQUIRE(moved.has_value());
  REQUIRE(FirstValue(moved->attrs, "firstName") == "Ada");
  REQUIRE(FirstValue(moved->attrs, "title") == "Analyst");
  REQUIRE(AttrValues(moved->attrs, "aliases") ==
          std::vector<std::string>{"countess@example.com"});
  REQUIRE(f.dir->CheckPassword("ada.king@example.com", "pw"));
  REQUIRE_FALSE(f.dir->HasPassword("ada@example.com"));
  REQUIRE(AttrValues((*f.dir->Get("staff@example.com"))->attrs, "members") ==
          std::vector<std::string>{"ada.king@example.com"});

  // The feed: the group's change, the old address gone, the new one added,
  // each naming the rename as its origin.
  REQUIRE(f.dir->last_change() == before + 3);
  std::vector<ObservedChange> changes;
  std::uint64_t last = 0;
  REQUIRE(f.dir->ReadChanges(before, 10, &changes, &last).ok());
  REQUIRE(changes.size() == 3);
  REQUIRE(changes[0].id == "staff@example.com");
  REQUIRE(changes[0].op == ChangeOp::kModify);
  REQUIRE(changes[1].id == "ada@example.com");
  REQUIRE(changes[1].op == ChangeOp::kDelete);
  REQUIRE(changes[2].id == "ada.king@example.com");
  REQUIRE(changes[2].op == ChangeOp::kAdd);
  REQUIRE(changes[2].attrs == moved->attrs);
  for (const auto& c : changes) REQUIRE(c.origin_intent == rename.id);

  // Applied again (a crash before its outcome), or by another intent with
  // the same effect: nothing is written.
  REQUIRE(f.dir->Apply(rename).already_applied);
  Intent again = rename;
  again.id = MakeIntentId(8, 0);
  REQUIRE(f.dir->Apply(again).already_applied);
  REQUIRE(f.dir->last_change() == before + 3);

  // The alias index follows: the old address is free, the alias still
  // belongs to the renamed account.
  REQUIRE(f.dir->Apply(AddIntent(9, "ada@example.com", {})).status.ok());
  ApplyResult taken = f.dir->Apply(
      AddIntent(10, "x@example.com", {{"aliases", {"countess@example.com"}}}));
  REQUIRE(taken.status.code() == StatusCode::kConflict);
  REQUIRE(taken.status.message().find("alias of ada.king@example.com") !=
          std::string::npos);

  // A restart finds the same state.
  f.Reopen();
  REQUIRE((*f.dir->Get("ada.king@example.com"))->attrs == moved->attrs);
  REQUIRE(f.dir->CheckPassword("ada.king@example.com", "pw"));
}

TEST_CASE("a rename onto an address another object holds is refused",
          "[embedded_mail][rename]") {
  Fixture f;
  MailAdmin admin(f.dir.get());
  REQUIRE(
      admin.Add("ada@example.com", *ParseMailEdits({"firstName=Ada"})).ok());
  REQUIRE(admin
              .Add("bob@example.com",
                   *ParseMailEdits({"aliases=robert@example.com"}))
              .ok());
  const std::uint64_t before = f.dir->last_change();

  ApplyResult r =
      f.dir->Apply(RenameIntent(3, "ada@example.com", "bob@example.com"));
  REQUIRE(r.status.code() == StatusCode::kConflict);
  REQUIRE(r.status.message().find("ada@example.com") != std::string::npos);
  REQUIRE(r.status.message().find("account bob@example.com") !=
          std::string::npos);

  r = f.dir->Apply(RenameIntent(4, "ada@example.com", "robert@example.com"));
  REQUIRE(r.status.code() == StatusCode::kConflict);
  REQUIRE(r.status.message().find("ada@example.com") != std::string::npos);
  REQUIRE(r.status.message().find("alias of bob@example.com") !=
          std::string::npos);

  r = f.dir->Apply(RenameIntent(5, "nobody@example.com", "new@example.com"));
  REQUIRE(r.status.IsNotFound());
  r = f.dir->Apply(RenameIntent(6, "ada@example.com", "ada@other.org"));
  REQUIRE(r.status.IsNotFound());
  REQUIRE(r.status.message().find("domain other.org") != std::string::npos);

  // An expect that no longer holds: nothing moves.
  Intent stale = RenameIntent(7, "ada@example.com", "ada.king@example.com");
  stale.expect = {{"firstName", {"Eve"}}};
  REQUIRE(f.dir->Apply(stale).status.code() == StatusCode::kConflict);

  REQUIRE(f.dir->last_change() == before);
  REQUIRE((*f.dir->Get("ada@example.com")).has_value());
  REQUIRE_FALSE((*f.dir->Get("ada.king@example.com")).has_value());

  // Renamed onto one of its own aliases: the alias becomes the address.
  REQUIRE(admin
              .Set("ada@example.com",
                   *ParseMailEdits({"aliases=ada.king@example.com"}))
              .ok());
  r = f.dir->Apply(RenameIntent(8, "ada@example.com", "ada.king@example.com"));
  INFO(r.status.ToString());
  REQUIRE(r.status.ok());
  REQUIRE(AttrValues((*f.dir->Get("ada.king@example.com"))->attrs, "aliases")
              .empty());
}

TEST_CASE("a restart keeps objects, domains, passwords and the feed",
          "[embedded_mail]") {
  Fixture f;
  MailAdmin admin(f.dir.get());
  REQUIRE(admin.AddDomain("Other.org").ok());
  REQUIRE(admin
              .Add("ada@other.org", *ParseMailEdits({"nickName=ada"}),
                   Secret("s3cret"))
              .ok());
  REQUIRE(
      f.dir->Apply(AddIntent(9, "bob@example.com", {{"firstName", {"Bob"}}}))
          .status.ok());
  f.Reopen();
  MailAdmin again(f.dir.get());
  REQUIRE(*again.Domains() ==
          std::vector<std::string>{"example.com", "other.org"});
  auto ada = again.Show("ada@other.org");
  REQUIRE(ada.ok());
  REQUIRE(ada->has_password);
  REQUIRE(f.dir->CheckPassword("ada@other.org", "s3cret"));
  REQUIRE_FALSE(f.dir->CheckPassword("ada@other.org", "s3cre"));
  REQUIRE(f.dir->last_change() == 2);
  // The intent id is remembered across the restart.
  REQUIRE(
      f.dir->Apply(AddIntent(9, "bob@example.com", {{"firstName", {"Bob"}}}))
          .already_applied);
  RecordingSink sink;
  REQUIRE(f.dir->RunOnce("1", &sink).ok());
  REQUIRE(sink.changes.size() == 1);
  REQUIRE(sink.changes[0].origin_intent == MakeIntentId(9, 0));
  REQUIRE(sink.changes[0].connector == "corp");
  REQUIRE((*again.Show("bob@example.com")).fields ==
          AttrList{{"firstName", {"Bob"}}});
  // Nothing about the password is in the feed.
  RecordingSink all;
  REQUIRE(f.dir->RunOnce("", &all).ok());
  for (const auto& c : all.changes)
    for (const auto& a : c.attrs)
      REQUIRE_FALSE(EqualsIgnoreCase(a.name, "password"));
}

TEST_CASE("Run delivers changes as they are written, until stopped",
          "[embedded_mail]") {
  Fixture f;
  RecordingSink sink;
  Status run_status;
  std::thread runner([&] { run_status = f.dir->Run("", &sink); });
  MailAdmin admin(f.dir.get());
  REQUIRE(admin.Add("a@example.com", {}).ok());
  REQUIRE(f.dir->Apply(AddIntent(1, "b@example.com", {})).status.ok());
  // Wait (bounded) for both changes; the assertion below does not depend on
  // how long delivery takes.
  for (int i = 0; i < 400 && sink.Cookie() != "2"; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  sink.stop = true;
  runner.join();
  REQUIRE(run_status.ok());
  REQUIRE(sink.cookie == "2");
  REQUIRE(sink.changes.size() == 2);
}

TEST_CASE("a second process cannot open the same directory",
          "[embedded_mail]") {
  Fixture f;
  auto second = EmbeddedMailDirectory::Open(f.tmp / "mail", Rules());
  REQUIRE_FALSE(second.ok());
  REQUIRE(second.status().message().find("in use") != std::string::npos);
}

TEST_CASE("password hashes verify and never hold the password",
          "[embedded_mail]") {
  const std::string h = HashPassword("correct horse");
  REQUIRE(h.rfind("pbkdf2-sha256$", 0) == 0);
  REQUIRE(h.find("correct") == std::string::npos);
  REQUIRE(VerifyPassword(h, "correct horse"));
  REQUIRE_FALSE(VerifyPassword(h, "correct horsE"));
  REQUIRE(HashPassword("correct horse") != h);  // salted
  REQUIRE_FALSE(VerifyPassword("garbage", "x"));
  REQUIRE_FALSE(VerifyPassword("pbkdf2-sha256$0$00$00", "x"));
}

// Hidden (run with "[bench]"): prints apply and feed rates. Measures only.
TEST_CASE("embedded apply and feed timings", "[.][bench]") {
  test::TempDir tmp;
  for (bool sync : {false, true}) {
    EmbeddedMailOptions o;
    o.sync = sync;
    o.batch_size = 1000;
    auto dir = std::move(EmbeddedMailDirectory::Open(
                             tmp / (sync ? "sync" : "nosync"), Rules(), o))
                   .value();
    const int n = sync ? 500 : 5000;
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i)
      REQUIRE(
          dir->Apply(AddIntent(i + 1, "u" + std::to_string(i) + "@example.com",
                               {{"firstName", {"F"}}, {"lastName", {"L"}}}))
              .status.ok());
    auto t1 = std::chrono::steady_clock::now();
    RecordingSink sink;
    REQUIRE(dir->RunOnce("", &sink).ok());
    auto t2 = std::chrono::steady_clock::now();
    auto ms = [](auto a, auto b) {
      return std::chrono::duration<double, std::milli>(b - a).count();
    };
    std::printf(
        "sync=%d: %d applies %.0f ms (%.0f/s); feed of %zu changes "
        "%.0f ms\n",
        sync, n, ms(t0, t1), n / ms(t0, t1) * 1000, sink.changes.size(),
        ms(t1, t2));
  }
}

}  // namespace
}  // namespace dirledger

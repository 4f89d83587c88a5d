// The Axigen connector against the fake Axigen CLI server on 127.0.0.1
// (ports chosen by the kernel).
#include "engine/axigen/axigen_mail_directory.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <thread>

#include "engine/embedded_mail/embedded_mail_directory.h"
#include "tests/fake_axigen/fake_axigen_server.h"
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
  return std::move(RuleSet::Compile(c)).value();
}

// Stands for the log: remembers what the source delivered, so the next poll
// is diffed against it.
class LogSink : public SourceSink {
 public:
  Status Deliver(std::vector<EventBody> events,
                 const std::optional<std::string>& cookie) override {
    std::lock_guard<std::mutex> lock(mu);
    ++deliveries;
    last.clear();
    for (auto& e : events) {
      if (auto* c = std::get_if<ObservedChange>(&e)) {
        if (c->op == ChangeOp::kDelete) {
          known.erase(c->id);
        } else {
          known[c->id] = {c->kind, c->attrs};
        }
        last.push_back(*c);
      } else if (auto* err = std::get_if<ObjectError>(&e)) {
        errors.push_back(*err);
      } else if (auto* p = std::get_if<RefreshPhase>(&e)) {
        phases.push_back(*p);
      }
    }
    if (cookie) this->cookie = *cookie;
    return Status::Ok();
  }
  Status EndPresentPhase(std::vector<std::string>, RefreshPhase,
                         const std::optional<std::string>&) override {
    return Status::Ok();
  }
  Status ForEachKnown(const std::function<bool(ObjectKind, std::string_view,
                                               const AttrList&)>& fn) override {
    std::lock_guard<std::mutex> lock(mu);
    for (const auto& [id, v] : known)
      if (!fn(v.first, id, v.second)) break;
    return Status::Ok();
  }
  std::optional<ObjectState> LookupKnown(std::string_view) override {
    return std::nullopt;
  }
  bool StopRequested() const override { return stop.load(); }

  const ObservedChange* Find(const std::string& id) const {
    for (const auto& c : last)
      if (c.id == id) return &c;
    return nullptr;
  }

  // For tests that read while a Run thread delivers.
  bool Knows(const std::string& id) {
    std::lock_guard<std::mutex> lock(mu);
    return known.count(id) > 0;
  }

  std::mutex mu;
  std::map<std::string, std::pair<ObjectKind, AttrList>> known;
  std::vector<ObservedChange> last;
  std::vector<ObjectError> errors;
  std::vector<RefreshPhase> phases;
  std::string cookie;
  int deliveries = 0;
  std::atomic<bool> stop{false};
};

Intent MakeIntent(std::uint64_t seq, IntentOp op, ObjectKind kind,
                  std::string address, AttrList set = {}) {
  Intent in;
  in.id = MakeIntentId(seq, 0);
  in.target = Side::kMail;
  in.kind = kind;
  in.op = op;
  in.target_id = std::move(address);
  in.set = std::move(set);
  return in;
}

struct Fixture {
  test::FakeAxigenServer server;
  std::unique_ptr<AxigenMailDirectory> dir;
  Fixture() {
    REQUIRE(server.Start().ok());
    server.AddDomain("example.com");
    AxigenMailOptions o;
    o.endpoint.transport.port = server.port();
    o.endpoint.transport.timeout_s = 5;
    o.endpoint.password = Secret("secret");
    o.polling_interval_s = 0.05;
    o.transient_error_retry_interval_s = 0.05;
    dir = std::make_unique<AxigenMailDirectory>(o, Rules());
  }
  test::FakeAccount Account(const std::string& name) {
    return server.State().at("example.com").accounts.at(name);
  }
};

const AttrList kAda = {{"aliases", {"ada.king@example.com"}},
                       {"firstName", {"Ada"}},
                       {"lastName", {"King"}}};

TEST_CASE("an add is applied once; again it is already applied",
          "[axigen_directory]") {
  Fixture f;
  Intent add = MakeIntent(1, IntentOp::kAdd, ObjectKind::kAccount,
                          "ada@example.com", kAda);
  ApplyResult r = f.dir->Apply(add);
  REQUIRE(r.status.ok());
  REQUIRE_FALSE(r.already_applied);
  REQUIRE(f.server.commits() == 1);
  auto ada = f.Account("ada");
  REQUIRE(ada.contact == std::map<std::string, std::string>{
                             {"firstName", "Ada"}, {"lastName", "King"}});
  REQUIRE(ada.aliases == std::set<std::string>{"ada.king"});
  REQUIRE_FALSE(ada.password.empty());

  ApplyResult again = f.dir->Apply(add);
  REQUIRE(again.status.ok());
  REQUIRE(again.already_applied);
  REQUIRE(f.server.commits() == 1);

  auto read = f.dir->ReadObject("ada@example.com");
  REQUIRE(read.ok());
  REQUIRE((*read)->attrs == kAda);
}

TEST_CASE("modify with expect; delete; groups", "[axigen_directory]") {
  Fixture f;
  REQUIRE(f.dir
              ->Apply(MakeIntent(1, IntentOp::kAdd, ObjectKind::kAccount,
                                 "ada@example.com", kAda))
              .status.ok());
  Intent mod = MakeIntent(2, IntentOp::kModify, ObjectKind::kAccount,
                          "ada@example.com", {{"lastName", {"Lovelace"}}});
  mod.add_values = {{"aliases", {"countess@example.com"}}};
  mod.delete_values = {{"aliases", {"ada.king@example.com"}}};
  mod.expect = {{"lastName", {"Byron"}}};
  ApplyResult conflict = f.dir->Apply(mod);
  REQUIRE(conflict.status.code() == StatusCode::kConflict);
  REQUIRE(conflict.status.message().find("lastName") != std::string::npos);
  REQUIRE(f.server.commits() == 1);
  mod.expect = {{"lastName", {"King"}}};
  REQUIRE(f.dir->Apply(mod).status.ok());
  auto ada = f.Account("ada");
  REQUIRE(ada.contact.at("lastName") == "Lovelace");
  REQUIRE(ada.aliases == std::set<std::string>{"countess"});

  Intent clear = MakeIntent(3, IntentOp::kModify, ObjectKind::kAccount,
                            "ada@example.com", {{"firstName", {}}});
  REQUIRE(f.dir->Apply(clear).status.ok());
  REQUIRE(f.Account("ada").contact.count("firstName") == 0);

  Intent grp =
      MakeIntent(4, IntentOp::kAdd, ObjectKind::kGroup, "staff@example.com",
                 {{"displayName", {"All staff"}},
                  {"members", {"ada@example.com", "bob@other.org"}}});
  REQUIRE(f.dir->Apply(grp).status.ok());
  Intent grp2 =
      MakeIntent(5, IntentOp::kModify, ObjectKind::kGroup, "staff@example.com");
  grp2.delete_values = {{"members", {"bob@other.org"}}};
  REQUIRE(f.dir->Apply(grp2).status.ok());
  REQUIRE(f.server.State().at("example.com").groups.at("staff").addresses ==
          std::set<std::string>{"ada@example.com"});

  Intent del =
      MakeIntent(6, IntentOp::kDelete, ObjectKind::kAccount, "ada@example.com");
  REQUIRE(f.dir->Apply(del).status.ok());
  REQUIRE(f.server.State().at("example.com").accounts.empty());
  ApplyResult gone = f.dir->Apply(del);
  REQUIRE(gone.already_applied);
  // A modify of a missing account fails clearly.
  REQUIRE(f.dir->Apply(mod).status.IsNotFound());
}

TEST_CASE("hostile values through intents: exact, or refused before sending",
          "[axigen_directory]") {
  Fixture f;
  const std::string big(100 * 1024, 'q');
  const AttrList values = {
      {"company", {"\"Quotes\" & \\Backslashes\\"}},
      {"department", {"Zo\xc3\xab \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80"}},
      {"office", {"  spaced = out  "}},
      {"title", {big + "\"\\ end"}}};
  REQUIRE(f.dir
              ->Apply(MakeIntent(1, IntentOp::kAdd, ObjectKind::kAccount,
                                 "ada@example.com", values))
              .status.ok());
  auto read = f.dir->ReadObject("ada@example.com");
  REQUIRE(read.ok());
  REQUIRE((*read)->attrs == values);

  const auto before = f.server.commands().size();
  Intent crlf =
      MakeIntent(2, IntentOp::kModify, ObjectKind::kAccount, "ada@example.com",
                 {{"title", {"line one\r\nREMOVE Account name ada"}}});
  ApplyResult r = f.dir->Apply(crlf);
  REQUIRE(r.status.code() == StatusCode::kInvalidArgument);
  REQUIRE(r.status.message().find("control character 0x0d") !=
          std::string::npos);
  // commands() returns a copy: hold it while iterating.
  const std::vector<std::string> commands = f.server.commands();
  for (std::size_t i = before; i < commands.size(); ++i) {
    const std::string& c = commands[i];
    REQUIRE(c.rfind("SET", 0) != 0);
    REQUIRE(c.rfind("REMOVE", 0) != 0);
  }
  REQUIRE(f.server.State().at("example.com").accounts.count("ada") == 1);
  REQUIRE(f.server.commits() == 1);

  Intent bad_name =
      MakeIntent(3, IntentOp::kAdd, ObjectKind::kAccount, "a\"b@example.com");
  REQUIRE(f.dir->Apply(bad_name).status.code() == StatusCode::kInvalidArgument);
}

TEST_CASE("-ERR from Axigen fails the intent with its words",
          "[axigen_directory]") {
  Fixture f;
  f.server.FailCommand("COMMIT", 1, "license limit reached");
  ApplyResult r = f.dir->Apply(MakeIntent(
      1, IntentOp::kAdd, ObjectKind::kAccount, "ada@example.com", kAda));
  REQUIRE_FALSE(r.status.ok());
  REQUIRE(r.status.message().find("license limit reached") !=
          std::string::npos);
  REQUIRE(f.server.State().at("example.com").accounts.empty());
  // The session is back at the root and usable.
  REQUIRE(f.dir
              ->Apply(MakeIntent(1, IntentOp::kAdd, ObjectKind::kAccount,
                                 "ada@example.com", kAda))
              .status.ok());
  REQUIRE(f.server.sessions() == 1);

  ApplyResult nodomain = f.dir->Apply(MakeIntent(
      2, IntentOp::kAdd, ObjectKind::kAccount, "ada@nowhere.org", kAda));
  REQUIRE(nodomain.status.IsNotFound());
}

TEST_CASE(
    "an alias another object holds is refused by Axigen; the failure names "
    "it",
    "[axigen_directory]") {
  Fixture f;
  REQUIRE(f.dir
              ->Apply(MakeIntent(1, IntentOp::kAdd, ObjectKind::kAccount,
                                 "ada@example.com", kAda))
              .status.ok());
  REQUIRE(f.dir
              ->Apply(MakeIntent(2, IntentOp::kAdd, ObjectKind::kAccount,
                                 "bob@example.com"))
              .status.ok());
  for (const std::string alias : {"ada.king@example.com", "ada@example.com"}) {
    INFO(alias);
    ApplyResult r =
        f.dir->Apply(MakeIntent(3, IntentOp::kAdd, ObjectKind::kAccount,
                                "evil@example.com", {{"aliases", {alias}}}));
    REQUIRE_FALSE(r.status.ok());
    CHECK(r.status.message().find("evil@example.com: alias " + alias +
                                  " refused") != std::string::npos);
    CHECK(r.status.message().find("-ERR the name " +
                                  alias.substr(0, alias.find('@')) +
                                  " is already in use") != std::string::npos);
    CHECK(f.server.State().at("example.com").accounts.count("evil") == 0);
  }
  // A modify adding it is refused alike; ada keeps her alias.
  ApplyResult r = f.dir->Apply(
      MakeIntent(4, IntentOp::kModify, ObjectKind::kAccount, "bob@example.com",
                 {{"aliases", {"ada.king@example.com"}}}));
  REQUIRE_FALSE(r.status.ok());
  CHECK(r.status.message().find("alias ada.king@example.com refused") !=
        std::string::npos);
  CHECK(f.Account("bob").aliases.empty());
  CHECK(f.Account("ada").aliases == std::set<std::string>{"ada.king"});
}

TEST_CASE("a connection dropped mid-COMMIT: re-applying ends right, once",
          "[axigen_directory]") {
  Fixture f;
  Intent add = MakeIntent(1, IntentOp::kAdd, ObjectKind::kAccount,
                          "ada@example.com", kAda);
  SECTION("dropped before the COMMIT took effect") {
    f.server.FailNextCommit(test::CommitFault::kDropBeforeEffect);
    ApplyResult r = f.dir->Apply(add);
    REQUIRE(r.status.code() == StatusCode::kUnavailable);
    REQUIRE(r.status.retryable());
    REQUIRE(f.server.State().at("example.com").accounts.empty());
    ApplyResult again = f.dir->Apply(add);
    REQUIRE(again.status.ok());
    REQUIRE_FALSE(again.already_applied);
  }
  SECTION("dropped after the COMMIT took effect") {
    f.server.FailNextCommit(test::CommitFault::kDropAfterEffect);
    ApplyResult r = f.dir->Apply(add);
    REQUIRE_FALSE(r.status.ok());
    REQUIRE(r.status.retryable());
    REQUIRE(f.server.State().at("example.com").accounts.count("ada") == 1);
    ApplyResult again = f.dir->Apply(add);
    REQUIRE(again.status.ok());
    REQUIRE(again.already_applied);
  }
  SECTION("a delete dropped after its COMMIT") {
    REQUIRE(f.dir->Apply(add).status.ok());
    Intent del = MakeIntent(2, IntentOp::kDelete, ObjectKind::kAccount,
                            "ada@example.com");
    f.server.FailNextCommit(test::CommitFault::kDropAfterEffect);
    REQUIRE(f.dir->Apply(del).status.retryable());
    REQUIRE(f.server.State().at("example.com").accounts.empty());
    REQUIRE(f.dir->Apply(del).already_applied);
  }
  REQUIRE(f.server.commits() ==
          (f.server.State().at("example.com").accounts.empty() ? 2 : 1));
  if (!f.server.State().at("example.com").accounts.empty()) {
    auto ada = f.Account("ada");
    REQUIRE(ada.contact.at("firstName") == "Ada");
    REQUIRE(ada.aliases == std::set<std::string>{"ada.king"});
  }
}

TEST_CASE("polling detects adds, modifies and deletes made on Axigen",
          "[axigen_directory]") {
  Fixture f;
  f.server.Mutate([](test::FakeState* s) {
    auto& d = (*s)["example.com"];
    d.accounts["ada"].contact = {{"firstName", "Ada"}};
    d.accounts["bob"].contact = {{"firstName", "Bob"}};
    d.groups["staff"].addresses = {"ada@example.com"};
  });
  LogSink sink;
  REQUIRE(f.dir->RunOnce("", &sink).ok());
  REQUIRE(sink.last.size() == 3);
  REQUIRE(sink.Find("ada@example.com")->op == ChangeOp::kAdd);
  REQUIRE(sink.Find("ada@example.com")->connector == "corp");
  REQUIRE(sink.Find("ada@example.com")->full_image);
  REQUIRE(sink.Find("staff@example.com")->kind == ObjectKind::kGroup);
  const std::string first = sink.cookie;
  REQUIRE(first.size() == 64);

  // Nothing changed: nothing delivered.
  REQUIRE(f.dir->RunOnce(sink.cookie, &sink).ok());
  REQUIRE(sink.deliveries == 1);

  f.server.Mutate([](test::FakeState* s) {
    auto& d = (*s)["example.com"];
    d.accounts["ada"].contact["lastName"] = "Lovelace";
    d.accounts.erase("bob");
    d.accounts["cy"].aliases = {"cyril"};
  });
  REQUIRE(f.dir->RunOnce(sink.cookie, &sink).ok());
  REQUIRE(sink.last.size() == 3);
  REQUIRE(sink.Find("ada@example.com")->op == ChangeOp::kModify);
  REQUIRE(FirstValue(sink.Find("ada@example.com")->attrs, "lastName") ==
          "Lovelace");
  REQUIRE(sink.Find("bob@example.com")->op == ChangeOp::kDelete);
  REQUIRE(sink.Find("cy@example.com")->op == ChangeOp::kAdd);
  REQUIRE(AttrValues(sink.Find("cy@example.com")->attrs, "aliases") ==
          std::vector<std::string>{"cyril@example.com"});
  REQUIRE(sink.cookie != first);
}

TEST_CASE("a first poll that finds nothing is an empty full refresh",
          "[axigen_directory]") {
  Fixture f;
  LogSink sink;
  REQUIRE(f.dir->RunOnce("", &sink).ok());
  CHECK(sink.last.empty());
  REQUIRE(sink.phases.size() == 2);
  CHECK(sink.phases[0].kind == PhaseKind::kBegin);
  CHECK(sink.phases[1].kind == PhaseKind::kEnd);
  CHECK(sink.phases[0].mode == RefreshMode::kFull);
  CHECK(sink.phases[1].mode == RefreshMode::kFull);
  CHECK(sink.phases[0].source == f.dir->id());
  // Later polls of an empty directory deliver nothing.
  REQUIRE(f.dir->RunOnce(sink.cookie, &sink).ok());
  CHECK(sink.deliveries == 1);
  CHECK(sink.phases.size() == 2);
}

TEST_CASE("a poll sees dirledger's own writes tagged with the intent",
          "[axigen_directory]") {
  Fixture f;
  LogSink sink;
  REQUIRE(f.dir->RunOnce("", &sink).ok());
  Intent add = MakeIntent(42, IntentOp::kAdd, ObjectKind::kAccount,
                          "ada@example.com", kAda);
  REQUIRE(f.dir->Apply(add).status.ok());
  REQUIRE(f.dir->RunOnce(sink.cookie, &sink).ok());
  REQUIRE(sink.last.size() == 1);
  REQUIRE(sink.last[0].origin_intent == add.id);
  // A change made on Axigen afterwards is not tagged.
  f.server.Mutate([](test::FakeState* s) {
    (*s)["example.com"].accounts["ada"].contact["title"] = "Dr";
  });
  REQUIRE(f.dir->RunOnce(sink.cookie, &sink).ok());
  REQUIRE(sink.last.size() == 1);
  REQUIRE(sink.last[0].origin_intent == 0);
}

TEST_CASE("a domain Axigen cannot list fails the pass without deletes",
          "[axigen_directory]") {
  Fixture f;
  f.server.Mutate(
      [](test::FakeState* s) { (*s)["example.com"].accounts["ada"]; });
  LogSink sink;
  REQUIRE(f.dir->RunOnce("", &sink).ok());
  f.server.FailCommand("LIST Accounts", 1, "storage unavailable");
  Status s = f.dir->RunOnce(sink.cookie, &sink);
  REQUIRE_FALSE(s.ok());
  REQUIRE(s.message().find("storage unavailable") != std::string::npos);
  REQUIRE(sink.deliveries == 1);
  REQUIRE(sink.known.count("ada@example.com") == 1);
}

TEST_CASE("listings printed as Axigen prints them: the header is no account",
          "[axigen_directory][list]") {
  Fixture f;  // the fake prints LIST replies as tables, as Axigen does
  f.server.Mutate([](test::FakeState* s) {
    auto& d = (*s)["example.com"];
    d.accounts["ada"].aliases = {"countess"};
    d.groups["staff"].addresses = {"ada@example.com"};
  });
  LogSink sink;
  REQUIRE(f.dir->RunOnce("", &sink).ok());
  REQUIRE(sink.errors.empty());
  REQUIRE(sink.known.size() == 2);
  REQUIRE(sink.known.count("name@example.com") == 0);
  REQUIRE(AttrValues(sink.known.at("ada@example.com").second, "aliases") ==
          std::vector<std::string>{"countess@example.com"});
  REQUIRE(AttrValues(sink.known.at("staff@example.com").second, "members") ==
          std::vector<std::string>{"ada@example.com"});
  for (const auto& command : f.server.commands())
    REQUIRE(command.find("\"name\"") == std::string::npos);

  // The bare form reads the same: nothing changes, nothing is delivered.
  f.server.SetListForm(test::ListForm::kBare);
  REQUIRE(f.dir->RunOnce(sink.cookie, &sink).ok());
  REQUIRE(sink.deliveries == 1);

  // Applying reads the listing too.
  f.server.SetListForm(test::ListForm::kAxigen);
  Intent add = MakeIntent(42, IntentOp::kAdd, ObjectKind::kAccount,
                          "bob@example.com", {{"firstName", {"Bob"}}});
  REQUIRE(f.dir->Apply(add).status.ok());
  REQUIRE(f.Account("bob").contact.at("firstName") == "Bob");
}

TEST_CASE("a listing that does not parse fails the pass without deletes",
          "[axigen_directory][list]") {
  Fixture f;
  f.server.Mutate([](test::FakeState* s) {
    (*s)["example.com"].accounts["ada"];
    (*s)["example.com"].groups["staff"];
  });
  LogSink sink;
  REQUIRE(f.dir->RunOnce("", &sink).ok());
  REQUIRE(sink.known.size() == 2);
  const std::string cookie = sink.cookie;
  // "+OK", but the table has lost its rule: no list can be read from it.
  f.server.SetListForm(test::ListForm::kNoRule);
  Status s = f.dir->RunOnce(sink.cookie, &sink);
  REQUIRE_FALSE(s.ok());
  REQUIRE(s.message().find("`LIST Accounts`") != std::string::npos);
  REQUIRE(s.message().find("line 1") != std::string::npos);
  REQUIRE(sink.deliveries == 1);
  REQUIRE(sink.known.size() == 2);
  REQUIRE(sink.cookie == cookie);
  // Nor does applying act on a listing it cannot read.
  Intent del = MakeIntent(43, IntentOp::kDelete, ObjectKind::kAccount,
                          "ada@example.com");
  REQUIRE_FALSE(f.dir->Apply(del).status.ok());
  REQUIRE(f.server.State().at("example.com").accounts.count("ada") == 1);
}

TEST_CASE("a dropped session is reconnected", "[axigen_directory]") {
  test::FakeAxigenServer server;
  REQUIRE(server.Start().ok());
  server.AddDomain("example.com");
  const int port = server.port();
  AxigenMailOptions o;
  o.endpoint.transport.port = port;
  o.endpoint.transport.timeout_s = 5;
  o.endpoint.password = Secret("secret");
  AxigenMailDirectory dir(o, Rules());
  LogSink sink;
  REQUIRE(dir.RunOnce("", &sink).ok());
  server.Stop();  // every session is dropped
  test::FakeAxigenOptions again;
  again.port = port;
  test::FakeAxigenServer second(again);
  REQUIRE(second.Start().ok());
  second.AddDomain("example.com");
  second.Mutate(
      [](test::FakeState* s) { (*s)["example.com"].accounts["ada"]; });
  REQUIRE(dir.RunOnce(sink.cookie, &sink).ok());
  REQUIRE(sink.known.count("ada@example.com") == 1);
  REQUIRE(dir.Apply(MakeIntent(1, IntentOp::kAdd, ObjectKind::kAccount,
                               "bob@example.com"))
              .status.ok());
  REQUIRE(second.sessions() == 2);
}

TEST_CASE("Run polls until stopped and rides out an outage",
          "[axigen_directory]") {
  Fixture f;
  LogSink sink;
  f.server.FailCommand("UPDATE Domain", 2, "busy");
  f.server.Mutate(
      [](test::FakeState* s) { (*s)["example.com"].accounts["ada"]; });
  Status run_status;
  std::thread runner([&] { run_status = f.dir->Run("", &sink); });
  for (int i = 0; i < 500 && !sink.Knows("ada@example.com"); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  sink.stop = true;
  runner.join();
  REQUIRE(run_status.ok());
  REQUIRE(sink.known.count("ada@example.com") == 1);
}

TEST_CASE("the same intents end in the same objects on embedded and Axigen",
          "[axigen_directory]") {
  Fixture f;
  test::TempDir tmp;
  EmbeddedMailOptions eo;
  eo.sync = false;
  auto embedded =
      std::move(EmbeddedMailDirectory::Open(tmp / "mail", Rules(), eo)).value();
  std::vector<Intent> intents = {
      MakeIntent(1, IntentOp::kAdd, ObjectKind::kAccount, "ada@example.com",
                 kAda),
      MakeIntent(2, IntentOp::kAdd, ObjectKind::kAccount, "bob@example.com",
                 {{"firstName", {"Bob"}}, {"title", {"Eng \"2\""}}}),
      MakeIntent(3, IntentOp::kAdd, ObjectKind::kGroup, "staff@example.com",
                 {{"members", {"ada@example.com", "bob@example.com"}}}),
      MakeIntent(4, IntentOp::kModify, ObjectKind::kAccount, "ada@example.com",
                 {{"lastName", {"Lovelace"}}, {"nickName", {"ada"}}}),
      MakeIntent(5, IntentOp::kDelete, ObjectKind::kAccount, "bob@example.com"),
  };
  Intent members =
      MakeIntent(6, IntentOp::kModify, ObjectKind::kGroup, "staff@example.com");
  members.delete_values = {{"members", {"bob@example.com"}}};
  members.set = {{"displayName", {"Staff"}}};
  intents.push_back(members);
  for (const Intent& in : intents) {
    INFO(in.id);
    REQUIRE(embedded->Apply(in).status.ok());
    REQUIRE(f.dir->Apply(in).status.ok());
  }
  std::vector<MailObject> from_embedded;
  REQUIRE(embedded
              ->ForEach("",
                        [&](const MailObject& o) {
                          from_embedded.push_back(o);
                          return true;
                        })
              .ok());
  auto snap = f.dir->ReadSnapshot();
  REQUIRE(snap.ok());
  REQUIRE(snap->objects == from_embedded);
  REQUIRE(from_embedded.size() == 2);
}

// Hidden (run with "[bench]"): prints how long a poll and applies take
// against the fake. Measures only; asserts nothing about time.
TEST_CASE("poll and apply timings", "[.][bench]") {
  Fixture f;
  const int n = 1000;
  f.server.Mutate([&](test::FakeState* s) {
    auto& d = (*s)["example.com"];
    for (int i = 0; i < n; ++i) {
      auto& a = d.accounts["user" + std::to_string(i)];
      a.contact = {{"firstName", "First" + std::to_string(i)},
                   {"lastName", "Last"}};
      a.aliases = {"alias" + std::to_string(i)};
    }
  });
  LogSink sink;
  auto t0 = std::chrono::steady_clock::now();
  REQUIRE(f.dir->RunOnce("", &sink).ok());
  auto t1 = std::chrono::steady_clock::now();
  REQUIRE(f.dir->RunOnce(sink.cookie, &sink).ok());
  auto t2 = std::chrono::steady_clock::now();
  const int m = 200;
  for (int i = 0; i < m; ++i) {
    REQUIRE(f.dir
                ->Apply(MakeIntent(i + 1, IntentOp::kAdd, ObjectKind::kAccount,
                                   "new" + std::to_string(i) + "@example.com",
                                   {{"firstName", {"N"}}}))
                .status.ok());
  }
  auto t3 = std::chrono::steady_clock::now();
  auto ms = [](auto a, auto b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
  };
  std::printf("first poll of %d accounts: %.0f ms (%zu events)\n", n,
              ms(t0, t1), sink.known.size());
  std::printf("unchanged poll of %d accounts: %.0f ms\n", n, ms(t1, t2));
  std::printf(
      "%d add intents into a domain of %d+ accounts: %.0f ms (%.1f ms "
      "each)\n",
      m, n, ms(t2, t3), ms(t2, t3) / m);
}

}  // namespace
}  // namespace dirledger

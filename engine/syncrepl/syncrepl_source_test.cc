// SyncreplSource against a real slapd (syncprov, memberof) started by the
// harness on 127.0.0.1. Ports 3900-3919 belong to this file.
#include "engine/syncrepl/syncrepl_source.h"

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "tests/support/recording_sink.h"
#include "tests/support/slapd_server.h"
#include "tests/support/temp_dir.h"

namespace dirledger {
namespace {

using test::RecordingSink;
using test::SlapdOptions;
using test::SlapdServer;
using test::TempDir;

constexpr const char* kPeople = "ou=people,dc=example,dc=com";
constexpr const char* kGroups = "ou=groups,dc=example,dc=com";

Config MakeConfig(const std::vector<std::string>& uris,
                  const std::string& password_file, bool group_sync = false) {
  Config c;
  c.batch_size = 1000;
  ConnectorConfig corp;
  corp.name = "corp";
  corp.uris = uris;
  corp.bind_dn = SlapdServer::kAdminDn;
  corp.bind_password_file = password_file;
  corp.timeout_s = 4;
  corp.account_base_dn = "ou=people,%D";
  corp.group_sync = group_sync;
  corp.group_base_dn = "ou=groups,%D";
  c.connectors.push_back(corp);
  c.domains.push_back({"example.com", true, "corp"});
  return c;
}

std::unique_ptr<SyncreplSource> MakeSource(const Config& config,
                                           SyncreplOptions options = {}) {
  auto rules = RuleSet::Compile(config);
  REQUIRE(rules.ok());
  auto source = SyncreplSource::Create(*rules, "corp", std::move(options));
  REQUIRE(source.ok());
  return std::move(source).value();
}

std::unique_ptr<SyncreplSource> MakeSource(const SlapdServer& slapd,
                                           bool group_sync = false) {
  return MakeSource(
      MakeConfig({slapd.url()}, slapd.password_file(), group_sync));
}

std::string PersonDn(int i) {
  char buf[80];
  std::snprintf(buf, sizeof(buf), "uid=user%06d,%s", i, kPeople);
  return buf;
}

std::string AddPerson(const std::string& uid, const std::string& extra = "") {
  return "dn: uid=" + uid + "," + kPeople +
         "\nchangetype: add\nobjectClass: inetOrgPerson\nuid: " + uid +
         "\ncn: " + uid + "\nsn: Added\n" + extra + "\n";
}

std::string Replace(const std::string& dn, const std::string& attr,
                    const std::string& value) {
  return "dn: " + dn + "\nchangetype: modify\nreplace: " + attr + "\n" + attr +
         ": " + value + "\n\n";
}

std::string Delete(const std::string& dn) {
  return "dn: " + dn + "\nchangetype: delete\n\n";
}

std::set<std::string> Ids(const std::vector<ObservedChange>& changes,
                          ChangeOp op) {
  std::set<std::string> out;
  for (const ObservedChange& c : changes)
    if (c.op == op) out.insert(c.id);
  return out;
}

const RecordingSink::Call* LastPresentPhase(
    const std::vector<RecordingSink::Call>& calls) {
  const RecordingSink::Call* found = nullptr;
  for (const RecordingSink::Call& c : calls)
    if (c.present_phase) found = &c;
  return found;
}

// Runs source->Run() on its own thread until Stop().
class Runner {
 public:
  Runner(SyncreplSource* source, RecordingSink* sink, std::string cookie)
      : sink_(sink) {
    sink_->ClearStop();
    thread_ = std::thread(
        [this, source, cookie] { status_ = source->Run(cookie, sink_); });
  }
  ~Runner() { (void)Stop(); }
  Status Stop() {
    if (thread_.joinable()) {
      sink_->RequestStop();
      thread_.join();
    }
    return status_;
  }

 private:
  RecordingSink* sink_;
  std::thread thread_;
  Status status_;
};

bool RefreshEnded(const RecordingSink& sink, std::size_t from_call = 0) {
  for (const RefreshPhase& p : sink.phases(from_call))
    if (p.kind == PhaseKind::kEnd) return true;
  return false;
}

}  // namespace

TEST_CASE("initial refresh reports every entry once, by entryUUID",
          "[syncrepl][integration]") {
  TempDir tmp;
  SlapdServer slapd(tmp / "slapd", 3900, 3000);
  auto source = MakeSource(slapd);
  CHECK(source->id() == "corp/syncrepl");
  RecordingSink sink;
  REQUIRE(source->RunOnce("", &sink).ok());

  const std::vector<ObservedChange> changes = sink.changes();
  REQUIRE(changes.size() == 3000);
  CHECK(Ids(changes, ChangeOp::kAdd).size() == 3000);
  const ObservedChange* first = nullptr;
  for (const ObservedChange& c : changes)
    if (c.dn == PersonDn(1)) first = &c;
  REQUIRE(first != nullptr);
  CHECK(first->id == slapd.EntryUuid(PersonDn(1)));
  CHECK(first->source == "corp/syncrepl");
  CHECK(first->connector == "corp");
  CHECK(first->domain == "example.com");
  CHECK(first->kind == ObjectKind::kAccount);
  CHECK(first->full_image);
  CHECK(IsCanonical(first->attrs));
  CHECK(FirstValue(first->attrs, "sn") == "Number1");
  CHECK(FirstValue(first->attrs, "mail") == "user000001@example.com");
  CHECK(FindAttr(first->attrs, "entryUUID") == nullptr);
  // The whole entry: unmapped attributes too.
  CHECK(FirstValue(first->attrs, "employeeNumber") == "1");
  CHECK(FirstValue(first->attrs, "description") == "generated test entry 1");

  // Batches of at most batch_size, no cookie until the refresh is complete,
  // bracketed by Begin and End; the initial content ends in a present phase.
  const auto calls = sink.calls();
  REQUIRE(calls.size() >= 4);
  for (std::size_t i = 0; i + 1 < calls.size(); ++i) {
    CHECK_FALSE(calls[i].present_phase);
    CHECK(calls[i].events.size() <= 1000);
    CHECK_FALSE(calls[i].cookie.has_value());
  }
  const auto phases = sink.phases();
  REQUIRE(phases.size() == 2);
  CHECK(phases[0].kind == PhaseKind::kBegin);
  CHECK(phases[0].mode == RefreshMode::kFull);
  CHECK(std::holds_alternative<RefreshPhase>(calls[0].events[0]));
  const RecordingSink::Call& end = calls.back();
  REQUIRE(end.present_phase);
  CHECK(end.present_ids.size() == 3000);
  CHECK(end.missing.empty());
  REQUIRE(end.cookie.has_value());
  CHECK(end.cookie->find("csn=") != std::string::npos);
  CHECK(phases[1].kind == PhaseKind::kEnd);
  CHECK(phases[1].mode == RefreshMode::kFull);
  CHECK(phases[1].entries == 3000);
  CHECK(phases[1].present == 3000);
  CHECK(source->stats().changes == 3000);

  SECTION("a second pass from the cookie reports nothing new") {
    const std::size_t mark = sink.call_count();
    REQUIRE(source->RunOnce(*sink.cookie(), &sink).ok());
    CHECK(sink.changes(mark).empty());
    const auto again = sink.phases(mark);
    REQUIRE(again.size() == 2);
    CHECK(again[0].mode == RefreshMode::kIncremental);
    CHECK(again[1].mode == RefreshMode::kDelete);
  }
}

TEST_CASE("persist phase: live add, modify, rename and delete arrive",
          "[syncrepl][integration]") {
  TempDir tmp;
  SlapdServer slapd(tmp / "slapd", 3901, 20);
  auto source = MakeSource(slapd, /*group_sync=*/true);
  RecordingSink sink;
  Runner run(source.get(), &sink, "");
  REQUIRE(RecordingSink::WaitUntil([&] { return RefreshEnded(sink); }));
  CHECK(sink.changes().size() == 20);
  const std::size_t mark = sink.call_count();

  auto wait_for = [&](const std::function<bool(const ObservedChange&)>& pred) {
    return RecordingSink::WaitUntil([&] {
      for (const ObservedChange& c : sink.changes(mark))
        if (pred(c)) return true;
      return false;
    });
  };

  REQUIRE(slapd.Modify(AddPerson("live", "givenName: Live\n")) == 0);
  const std::string live_dn = std::string("uid=live,") + kPeople;
  const std::string live_id = slapd.EntryUuid(live_dn);
  REQUIRE(wait_for([&](const ObservedChange& c) {
    return c.id == live_id && c.op == ChangeOp::kAdd && c.dn == live_dn &&
           FirstValue(c.attrs, "givenName") == "Live";
  }));

  REQUIRE(slapd.Modify(Replace(live_dn, "sn", "Changed")) == 0);
  REQUIRE(wait_for([&](const ObservedChange& c) {
    return c.id == live_id && c.op == ChangeOp::kModify &&
           FirstValue(c.attrs, "sn") == "Changed";
  }));

  REQUIRE(slapd.Modify("dn: " + live_dn +
                       "\nchangetype: modrdn\nnewrdn: uid=renamed\n"
                       "deleteoldrdn: 1\n\n") == 0);
  const std::string renamed_dn = std::string("uid=renamed,") + kPeople;
  REQUIRE(wait_for([&](const ObservedChange& c) {
    return c.id == live_id && c.op == ChangeOp::kModify && c.dn == renamed_dn &&
           FirstValue(c.attrs, "uid") == "renamed";
  }));

  REQUIRE(slapd.Modify("dn: cn=staff," + std::string(kGroups) +
                       "\nchangetype: add\nobjectClass: groupOfNames\n"
                       "cn: staff\nmember: " +
                       renamed_dn + "\n\n") == 0);
  REQUIRE(wait_for([&](const ObservedChange& c) {
    return c.kind == ObjectKind::kGroup && c.op == ChangeOp::kAdd &&
           AttrValues(c.attrs, "member") ==
               std::vector<std::string>{renamed_dn};
  }));

  REQUIRE(slapd.Modify(Delete(renamed_dn)) == 0);
  REQUIRE(wait_for([&](const ObservedChange& c) {
    return c.id == live_id && c.op == ChangeOp::kDelete && c.dn == renamed_dn &&
           c.kind == ObjectKind::kAccount && c.domain == "example.com";
  }));

  // Every persist-phase delivery carries the cookie that covers it.
  for (const auto& call : sink.calls(mark)) {
    CHECK_FALSE(call.present_phase);
    CHECK(call.cookie.has_value());
  }
  REQUIRE(run.Stop().ok());
}

TEST_CASE("a restart resumes from the stored cookie: nothing lost or doubled",
          "[syncrepl][integration]") {
  TempDir tmp;
  SlapdServer slapd(tmp / "slapd", 3902, 50);
  auto source = MakeSource(slapd);
  RecordingSink sink;
  {
    Runner run(source.get(), &sink, "");
    REQUIRE(RecordingSink::WaitUntil([&] { return RefreshEnded(sink); }));
    // Changes seen live before the stop.
    for (int i = 1; i <= 5; ++i)
      REQUIRE(slapd.Modify(Replace(PersonDn(i), "title", "Before")) == 0);
    REQUIRE(
        RecordingSink::WaitUntil([&] { return sink.changes().size() >= 55; }));
    REQUIRE(run.Stop().ok());
  }
  CHECK(sink.changes().size() == 55);
  const std::string stored = *sink.cookie();

  // Changes while the source is away.
  for (int i = 10; i <= 12; ++i)
    REQUIRE(slapd.Modify(Replace(PersonDn(i), "title", "Away")) == 0);
  REQUIRE(slapd.Modify(Delete(PersonDn(20))) == 0);
  REQUIRE(slapd.Modify(AddPerson("newcomer")) == 0);
  std::set<std::string> modified;
  for (int i = 10; i <= 12; ++i) modified.insert(slapd.EntryUuid(PersonDn(i)));
  const std::string added =
      slapd.EntryUuid(std::string("uid=newcomer,") + kPeople);
  const std::string deleted = sink.changes()[19].id;  // user000020
  REQUIRE(sink.changes()[19].dn == PersonDn(20));

  const std::size_t mark = sink.call_count();
  Runner run(source.get(), &sink, stored);
  REQUIRE(RecordingSink::WaitUntil([&] { return RefreshEnded(sink, mark); }));
  // A live change after the resumed refresh arrives too.
  REQUIRE(slapd.Modify(Replace(PersonDn(30), "title", "After")) == 0);
  const std::string after = slapd.EntryUuid(PersonDn(30));
  REQUIRE(RecordingSink::WaitUntil([&] {
    return Ids(sink.changes(mark), ChangeOp::kModify).count(after) == 1;
  }));
  REQUIRE(run.Stop().ok());

  const auto changes = sink.changes(mark);
  std::set<std::string> expected_modified = modified;
  expected_modified.insert(after);
  CHECK(Ids(changes, ChangeOp::kModify) == expected_modified);
  CHECK(Ids(changes, ChangeOp::kAdd) == std::set<std::string>{added});
  CHECK(Ids(changes, ChangeOp::kDelete) == std::set<std::string>{deleted});
  CHECK(changes.size() == 6);  // no duplicate, nothing from before the stop
  for (const ObservedChange& c : changes)
    if (c.op == ChangeOp::kModify && c.id != after)
      CHECK(FirstValue(c.attrs, "title") == "Away");
  CHECK(sink.known_count() == 50);
}

TEST_CASE(
    "a restart of slapd loses its session log: the present phase "
    "reports exactly the deletes made meanwhile",
    "[syncrepl][integration]") {
  TempDir tmp;
  SlapdOptions options;
  options.people = 200;
  int port = 3903;
  SECTION("session log wiped by a restart") { options.sessionlog = 100000; }
  SECTION("no session log at all") {
    options.sessionlog = 0;
    port = 3904;
  }
  SlapdServer slapd(tmp / "slapd", port, options);
  auto source = MakeSource(slapd);
  RecordingSink sink;
  REQUIRE(source->RunOnce("", &sink).ok());
  REQUIRE(sink.known_count() == 200);

  std::set<std::string> gone;
  for (int i : {3, 50, 51, 120, 199}) {
    gone.insert(slapd.EntryUuid(PersonDn(i)));
    REQUIRE(slapd.Modify(Delete(PersonDn(i))) == 0);
  }
  std::set<std::string> modified;
  for (int i : {7, 8, 9}) {
    modified.insert(slapd.EntryUuid(PersonDn(i)));
    REQUIRE(slapd.Modify(Replace(PersonDn(i), "sn", "Renamed")) == 0);
  }
  REQUIRE(slapd.Modify(AddPerson("late1")) == 0);
  REQUIRE(slapd.Modify(AddPerson("late2")) == 0);
  slapd.Stop();
  slapd.Start();

  const std::size_t mark = sink.call_count();
  REQUIRE(source->RunOnce(*sink.cookie(), &sink).ok());
  const auto calls = sink.calls(mark);
  const RecordingSink::Call* present = LastPresentPhase(calls);
  REQUIRE(present != nullptr);
  CHECK(std::set<std::string>(present->missing.begin(),
                              present->missing.end()) == gone);
  CHECK_FALSE(present->held);
  CHECK(present->present_ids.size() == 197);
  const auto changes = sink.changes(mark);
  CHECK(Ids(changes, ChangeOp::kModify) == modified);
  CHECK(Ids(changes, ChangeOp::kAdd).size() == 2);
  CHECK(Ids(changes, ChangeOp::kDelete).empty());  // the sink found them
  const RefreshPhase& end = std::get<RefreshPhase>(present->events.back());
  CHECK(end.mode == RefreshMode::kPresent);
  CHECK(end.missing == 5);
  CHECK(sink.known_count() == 197);
}

TEST_CASE(
    "a present phase naming few entries is reported as it is; the "
    "sink holds the deletes",
    "[syncrepl][integration]") {
  TempDir tmp;
  SlapdServer slapd(tmp / "slapd", 3905, 100);
  auto source = MakeSource(slapd);
  RecordingSink sink(/*delete_threshold=*/10);
  REQUIRE(source->RunOnce("", &sink).ok());
  REQUIRE(sink.known_count() == 100);

  SECTION("partial: most entries were deleted while the session log was lost") {
    for (int i = 1; i <= 60; ++i)
      REQUIRE(slapd.Modify(Delete(PersonDn(i))) == 0);
    slapd.Stop();
    slapd.Start();
    const std::size_t mark = sink.call_count();
    REQUIRE(source->RunOnce(*sink.cookie(), &sink).ok());
    const auto calls0 = sink.calls(mark);
    const RecordingSink::Call* present = LastPresentPhase(calls0);
    REQUIRE(present != nullptr);
    CHECK(present->present_ids.size() == 40);
    CHECK(present->missing.size() == 60);
    CHECK(present->held);
    CHECK(Ids(sink.changes(mark), ChangeOp::kDelete).empty());
  }
  SECTION("empty: the provider's database was replaced by an empty one") {
    slapd.Stop();
    std::filesystem::remove_all(slapd.dir() + "/data");
    slapd.options().people = 0;
    slapd.Start();
    const std::size_t mark = sink.call_count();
    REQUIRE(source->RunOnce(*sink.cookie(), &sink).ok());
    const auto calls1 = sink.calls(mark);
    const RecordingSink::Call* present = LastPresentPhase(calls1);
    REQUIRE(present != nullptr);
    CHECK(present->present_ids.empty());
    CHECK(present->missing.size() == 100);
    CHECK(present->held);
    CHECK(sink.changes(mark).empty());
  }
  CHECK(sink.known_count() == 100);  // held, not deleted
}

TEST_CASE(
    "e-syncRefreshRequired restarts the refresh without cookie; its "
    "present phase reconciles",
    "[syncrepl][integration]") {
  TempDir tmp;
  SlapdOptions options;
  options.people = 50;
  options.reload_hint = true;
  SlapdServer slapd(tmp / "slapd", 3906, options);
  auto source = MakeSource(slapd);
  RecordingSink sink;
  REQUIRE(source->RunOnce("", &sink).ok());
  const std::string gone = slapd.EntryUuid(PersonDn(5));
  REQUIRE(slapd.Modify(Delete(PersonDn(5))) == 0);

  // A cookie older than anything the provider can still account for.
  const std::string stale =
      "rid=000,csn=20000101000000.000000Z#000000#000#000000";
  const std::size_t mark = sink.call_count();
  REQUIRE(source->RunOnce(stale, &sink).ok());
  CHECK(source->stats().refresh_required == 1);
  const auto phases = sink.phases(mark);
  REQUIRE(phases.size() == 2);  // the refused refresh left no trace
  CHECK(phases[0].mode == RefreshMode::kFull);
  CHECK(phases[1].mode == RefreshMode::kFull);
  const auto calls2 = sink.calls(mark);
  const RecordingSink::Call* present = LastPresentPhase(calls2);
  REQUIRE(present != nullptr);
  CHECK(present->missing == std::vector<std::string>{gone});
  CHECK(present->present_ids.size() == 49);
  CHECK(sink.changes(mark).size() == 49);
  CHECK(Ids(sink.changes(mark), ChangeOp::kModify).size() == 49);
  REQUIRE(present->cookie.has_value());
  CHECK(*present->cookie != stale);
}

TEST_CASE(
    "a provider restored from an older backup: the next refresh reports "
    "what the backup lacks",
    "[syncrepl][integration]") {
  TempDir tmp;
  SlapdServer slapd(tmp / "slapd", 3917, 20);
  const std::string conf = slapd.dir() + "/slapd.conf";
  const std::string backup = tmp / "backup.ldif";
  const std::string tools = "PATH=\"$PATH:/usr/sbin\" ";
  REQUIRE(test::RunCommand(tools + "slapcat -f '" + conf + "' -b " +
                           SlapdServer::kBase + " -l '" + backup + "'") == 0);
  auto source = MakeSource(slapd);
  RecordingSink sink;
  REQUIRE(source->RunOnce("", &sink).ok());
  REQUIRE(slapd.Modify(AddPerson("after-backup")) == 0);
  const std::string late =
      slapd.EntryUuid(std::string("uid=after-backup,") + kPeople);
  REQUIRE(source->RunOnce(*sink.cookie(), &sink).ok());
  REQUIRE(sink.known_count() == 21);

  slapd.Stop();
  std::filesystem::remove_all(slapd.dir() + "/data");
  std::filesystem::create_directories(slapd.dir() + "/data");
  REQUIRE(test::RunCommand(tools + "slapadd -q -f '" + conf + "' -b " +
                           SlapdServer::kBase + " -l '" + backup + "'") == 0);
  slapd.Start();

  const std::size_t mark = sink.call_count();
  REQUIRE(source->RunOnce(*sink.cookie(), &sink).ok());
  const auto calls = sink.calls(mark);
  const RecordingSink::Call* present = LastPresentPhase(calls);
  REQUIRE(present != nullptr);
  CHECK(present->missing == std::vector<std::string>{late});
  CHECK(present->present_ids.size() == 20);
  // syncprov answers with a present phase (or refuses the cookie as newer
  // than its state, and the source refreshes in full): either way the entry
  // added after the backup is found missing.
  const auto phases = sink.phases(mark);
  REQUIRE(phases.size() == 2);
  CHECK((phases[1].mode == RefreshMode::kPresent ||
         phases[1].mode == RefreshMode::kFull));
  CHECK(sink.known_count() == 20);
}

TEST_CASE("invalid LDAP data becomes an ObjectError; the sync goes on",
          "[syncrepl][integration]") {
  TempDir tmp;
  SlapdServer slapd(tmp / "slapd", 3907, 20);
  // A custom schema that maps a field to a binary-capable attribute.
  Config config = MakeConfig({slapd.url()}, slapd.password_file());
  config.connectors[0].custom_schema_file = "schema.toml";
  config.connectors[0].custom_schema_text =
      "[account.fields]\noffice = \"audio\"\n";
  SyncreplOptions o;
  o.max_value_bytes = 4096;
  auto source = MakeSource(config, o);

  REQUIRE(slapd.Modify(AddPerson("badutf8", "audio:: /79ueA==\n")) == 0);
  REQUIRE(slapd.Modify(AddPerson(
              "huge", "displayName: " + std::string(5000, 'x') + "\n")) == 0);
  REQUIRE(slapd.Modify("dn: cn=No Uid," + std::string(kPeople) +
                       "\nchangetype: add\nobjectClass: inetOrgPerson\n"
                       "cn: No Uid\nsn: Nobody\n\n") == 0);
  RecordingSink sink;
  REQUIRE(source->RunOnce("", &sink).ok());
  CHECK(sink.changes().size() == 20);
  const auto errors = sink.errors();
  REQUIRE(errors.size() == 3);
  std::map<std::string, ObjectError> by_dn;
  for (const ObjectError& e : errors) by_dn[e.dn] = e;
  const std::string bad_dn = std::string("uid=badutf8,") + kPeople;
  REQUIRE(by_dn.count(bad_dn));
  CHECK(by_dn[bad_dn].id == slapd.EntryUuid(bad_dn));
  CHECK(by_dn[bad_dn].message.find("audio") != std::string::npos);
  CHECK(by_dn[bad_dn].message.find("UTF-8") != std::string::npos);
  CHECK(by_dn[bad_dn].source == "corp/syncrepl");
  const std::string huge_dn = std::string("uid=huge,") + kPeople;
  REQUIRE(by_dn.count(huge_dn));
  CHECK(by_dn[huge_dn].message.find("displayName") != std::string::npos);
  CHECK(by_dn[huge_dn].message.find("5000 bytes") != std::string::npos);
  const std::string nouid_dn = std::string("cn=No Uid,") + kPeople;
  REQUIRE(by_dn.count(nouid_dn));
  CHECK(by_dn[nouid_dn].message.find("no uid") != std::string::npos);
  // Invalid entries are still present: a present phase must not delete them.
  const auto calls3 = sink.calls();
  const RecordingSink::Call* present = LastPresentPhase(calls3);
  REQUIRE(present != nullptr);
  CHECK(present->present_ids.size() == 23);
  CHECK(source->stats().errors == 3);
}

TEST_CASE(
    "unreachable servers, hung servers and timeouts are clear errors "
    "that name the URI",
    "[syncrepl][integration]") {
  TempDir tmp;
  SyncreplOptions fast;
  fast.once_attempts = 2;
  fast.backoff_initial_s = 0.1;
  const std::string nowhere = "ldap://127.0.0.1:3911";
  RecordingSink sink;

  SECTION("nothing listens") {
    Config c = MakeConfig({nowhere}, "");
    auto source = MakeSource(c, fast);
    Status st = source->RunOnce("", &sink);
    REQUIRE_FALSE(st.ok());
    CHECK(st.code() == StatusCode::kUnavailable);
    CHECK(st.retryable());
    CHECK(st.message().find(nowhere) != std::string::npos);
    CHECK(sink.call_count() == 0);
  }
  SlapdServer slapd(tmp / "slapd", 3910, 30);
  SECTION("the next URI is tried") {
    auto source = MakeSource(
        MakeConfig({nowhere, slapd.url()}, slapd.password_file()), fast);
    REQUIRE(source->RunOnce("", &sink).ok());
    CHECK(sink.changes().size() == 30);
  }
  SECTION("a hung server times out at bind") {
    Config c = MakeConfig({slapd.url()}, slapd.password_file());
    c.connectors[0].timeout_s = 1;
    auto source = MakeSource(c, fast);
    slapd.Pause();
    Status st = source->RunOnce("", &sink);
    slapd.Resume();
    REQUIRE_FALSE(st.ok());
    CHECK(st.retryable());
    CHECK(st.message().find(slapd.url()) != std::string::npos);
    CHECK(sink.call_count() == 0);
  }
  SECTION("a server that stops answering during the refresh times out") {
    Config c = MakeConfig({slapd.url()}, slapd.password_file());
    c.connectors[0].timeout_s = 1;
    SyncreplOptions o = fast;
    o.once_attempts = 1;
    o.after_bind = [&](LdapConnection&) { slapd.Pause(); };
    auto source = MakeSource(c, o);
    Status st = source->RunOnce("", &sink);
    slapd.Resume();
    REQUIRE_FALSE(st.ok());
    CHECK(st.code() == StatusCode::kTimeout);
    CHECK(st.retryable());
    CHECK(st.message().find("refresh from " + slapd.url()) !=
          std::string::npos);
    CHECK(st.message().find("timeout_s") != std::string::npos);
    CHECK_FALSE(sink.cookie().has_value());
  }
  SECTION("the password may come from the environment") {
    Config c = MakeConfig({slapd.url()}, "");
    c.connectors[0].bind_password_env = "DIRLEDGER_TEST_BIND_PASSWORD";
    setenv("DIRLEDGER_TEST_BIND_PASSWORD", "secret", 1);
    auto source = MakeSource(c, fast);
    REQUIRE(source->RunOnce("", &sink).ok());
    unsetenv("DIRLEDGER_TEST_BIND_PASSWORD");
    CHECK(sink.changes().size() == 30);
    Status st = source->RunOnce("", &sink);
    REQUIRE_FALSE(st.ok());
    CHECK(st.message().find("DIRLEDGER_TEST_BIND_PASSWORD is not set") !=
          std::string::npos);
  }
  SECTION("a wrong password is not retried and not shown") {
    const std::string pw = tmp / "wrong.pw";
    std::ofstream(pw) << "not-the-secret-42\n";
    auto source = MakeSource(MakeConfig({slapd.url()}, pw), fast);
    Status st = source->RunOnce("", &sink);
    REQUIRE_FALSE(st.ok());
    CHECK_FALSE(st.retryable());
    CHECK(st.message().find("Invalid credentials") != std::string::npos);
    CHECK(st.message().find("not-the-secret-42") == std::string::npos);
  }
}

TEST_CASE("Run reconnects with backoff after the server goes away",
          "[syncrepl][integration]") {
  TempDir tmp;
  SlapdServer slapd(tmp / "slapd", 3908, 10);
  Config c = MakeConfig({slapd.url()}, slapd.password_file());
  c.connectors[0].timeout_s = 1;
  SyncreplOptions o;
  o.backoff_initial_s = 0.2;
  o.backoff_max_s = 0.5;
  auto source = MakeSource(c, o);
  RecordingSink sink;
  Runner run(source.get(), &sink, "");
  REQUIRE(RecordingSink::WaitUntil([&] { return RefreshEnded(sink); }));
  slapd.Stop();
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  slapd.Start();
  REQUIRE(slapd.Modify(Replace(PersonDn(2), "sn", "AfterOutage")) == 0);
  REQUIRE(RecordingSink::WaitUntil([&] {
    for (const ObservedChange& c : sink.changes())
      if (FirstValue(c.attrs, "sn") == "AfterOutage") return true;
    return false;
  }));
  REQUIRE(run.Stop().ok());
  CHECK(source->stats().reconnects >= 1);
}

TEST_CASE("TLS: ldaps and StartTLS verify the server against the CA",
          "[syncrepl][integration]") {
  TempDir tmp;
  SlapdOptions options;
  options.people = 5;
  options.tls = true;
  SlapdServer slapd(tmp / "slapd", 3912, options);
  const std::string other_ca = tmp / "other-ca.pem";
  REQUIRE(test::RunCommand("openssl req -x509 -newkey rsa:2048 -nodes -days 1 "
                           "-subj '/CN=another CA' -keyout '" +
                           tmp / "other.key" + "' -out '" + other_ca +
                           "' 2>/dev/null") == 0);
  SyncreplOptions o;
  o.once_attempts = 1;
  RecordingSink sink;

  auto run = [&](const std::string& uri, bool start_tls, const std::string& ca,
                 bool verify = true) {
    Config c = MakeConfig({uri}, slapd.password_file());
    c.connectors[0].start_tls = start_tls;
    c.connectors[0].ca_file = ca;
    c.connectors[0].tls_verify = verify;
    return MakeSource(c, o)->RunOnce("", &sink);
  };
  SECTION("ldaps:// with the right CA") {
    REQUIRE(run(slapd.ldaps_url(), false, slapd.ca_file()).ok());
    CHECK(sink.changes().size() == 5);
  }
  SECTION("StartTLS with the right CA") {
    REQUIRE(run(slapd.url(), true, slapd.ca_file()).ok());
    CHECK(sink.changes().size() == 5);
  }
  SECTION("ldaps:// with another CA is refused") {
    Status st = run(slapd.ldaps_url(), false, other_ca);
    REQUIRE_FALSE(st.ok());
    CHECK(st.message().find(slapd.ldaps_url()) != std::string::npos);
    CHECK(st.message().find("TLS handshake failed") != std::string::npos);
    CHECK(sink.call_count() == 0);
  }
  SECTION("StartTLS with another CA is refused") {
    Status st = run(slapd.url(), true, other_ca);
    REQUIRE_FALSE(st.ok());
    CHECK(st.message().find("StartTLS with " + slapd.url()) !=
          std::string::npos);
    CHECK(sink.call_count() == 0);
  }
  SECTION("tls_verify = false accepts any certificate, when configured") {
    REQUIRE(run(slapd.ldaps_url(), false, other_ca, false).ok());
  }
}

TEST_CASE("groups are synced with group_sync, members as DNs",
          "[syncrepl][integration]") {
  TempDir tmp;
  SlapdServer slapd(tmp / "slapd", 3914, 3);
  REQUIRE(slapd.Modify("dn: cn=team," + std::string(kGroups) +
                       "\nchangetype: add\nobjectClass: groupOfNames\n"
                       "cn: team\ndescription: The team\nmember: " +
                       PersonDn(1) + "\nmember: " + PersonDn(2) + "\n\n") == 0);
  REQUIRE(slapd.Modify("dn: cn=empty," + std::string(kGroups) +
                       "\nchangetype: add\nobjectClass: groupOfNames\n"
                       "cn: empty\nmember:\n\n") == 0);
  RecordingSink with;
  REQUIRE(MakeSource(slapd, true)->RunOnce("", &with).ok());
  std::map<std::string, ObservedChange> groups;
  for (const ObservedChange& c : with.changes())
    if (c.kind == ObjectKind::kGroup) groups[c.dn] = c;
  REQUIRE(groups.size() == 2);
  const ObservedChange& team = groups["cn=team," + std::string(kGroups)];
  CHECK(team.domain == "example.com");
  CHECK(AttrValues(team.attrs, "member") ==
        std::vector<std::string>{PersonDn(1), PersonDn(2)});
  CHECK(FirstValue(team.attrs, "description") == "The team");
  CHECK(FindAttr(groups["cn=empty," + std::string(kGroups)].attrs, "member") ==
        nullptr);
  CHECK(with.changes().size() == 5);

  RecordingSink without;
  REQUIRE(MakeSource(slapd, false)->RunOnce("", &without).ok());
  CHECK(without.changes().size() == 3);
  for (const ObservedChange& c : without.changes())
    CHECK(c.kind == ObjectKind::kAccount);
}

TEST_CASE("an entry that leaves the scope is reported as deleted",
          "[syncrepl][integration]") {
  TempDir tmp;
  SlapdServer slapd(tmp / "slapd", 3915, 5);
  REQUIRE(slapd.Modify("dn: ou=elsewhere,dc=example,dc=com\nchangetype: add\n"
                       "objectClass: organizationalUnit\nou: elsewhere\n\n") ==
          0);
  auto source = MakeSource(slapd);
  RecordingSink sink;
  Runner run(source.get(), &sink, "");
  REQUIRE(RecordingSink::WaitUntil([&] { return RefreshEnded(sink); }));
  const std::string id = slapd.EntryUuid(PersonDn(4));
  REQUIRE(slapd.Modify("dn: " + PersonDn(4) +
                       "\nchangetype: modrdn\nnewrdn: uid=user000004\n"
                       "deleteoldrdn: 1\nnewsuperior: ou=elsewhere,dc=example,"
                       "dc=com\n\n") == 0);
  REQUIRE(RecordingSink::WaitUntil(
      [&] { return Ids(sink.changes(), ChangeOp::kDelete).count(id) == 1; }));
  REQUIRE(run.Stop().ok());
  CHECK(sink.known_count() == 4);
  // The source tells the move from a delete: it finds the entry outside the
  // base (in the naming context), and not one that is deleted.
  const std::string deleted = slapd.EntryUuid(PersonDn(5));
  REQUIRE(slapd.Modify(Delete(PersonDn(5))) == 0);
  auto where = source->remains_finder()->Find({id, deleted});
  REQUIRE(where.ok());
  CHECK(*where == std::map<std::string, std::string>{
                      {id, "uid=user000004,ou=elsewhere,dc=example,dc=com"}});
}

TEST_CASE(
    "an entry moved within the search base out of the account base names its "
    "new DN",
    "[syncrepl][integration]") {
  TempDir tmp;
  SlapdServer slapd(tmp / "slapd", 3918, 3);
  REQUIRE(slapd.Modify("dn: ou=elsewhere,dc=example,dc=com\nchangetype: add\n"
                       "objectClass: organizationalUnit\nou: elsewhere\n\n") ==
          0);
  // With groups, the search base is dc=example,dc=com: syncprov reports the
  // moved entry as modified, and the source finds it no longer maps.
  auto source = MakeSource(slapd, /*group_sync=*/true);
  RecordingSink sink;
  Runner run(source.get(), &sink, "");
  REQUIRE(RecordingSink::WaitUntil([&] { return RefreshEnded(sink); }));
  const std::string id = slapd.EntryUuid(PersonDn(2));
  REQUIRE(slapd.Modify("dn: " + PersonDn(2) +
                       "\nchangetype: modrdn\nnewrdn: uid=user000002\n"
                       "deleteoldrdn: 1\nnewsuperior: ou=elsewhere,dc=example,"
                       "dc=com\n\n") == 0);
  REQUIRE(RecordingSink::WaitUntil(
      [&] { return Ids(sink.changes(), ChangeOp::kDelete).count(id) == 1; }));
  REQUIRE(run.Stop().ok());
  for (const ObservedChange& c : sink.changes())
    if (c.id == id && c.op == ChangeOp::kDelete)
      CHECK(c.remains_at == "uid=user000002,ou=elsewhere,dc=example,dc=com");
}

TEST_CASE("a sink failure stops the source without advancing the cookie",
          "[syncrepl][integration]") {
  TempDir tmp;
  SlapdServer slapd(tmp / "slapd", 3916, 10);
  auto source = MakeSource(slapd);
  RecordingSink sink;
  sink.FailNextDeliver(Status::IOError("disk full"));
  Status st = source->RunOnce("", &sink);
  REQUIRE_FALSE(st.ok());
  CHECK(st.message() == "disk full");
  CHECK(sink.call_count() == 0);
  CHECK_FALSE(sink.cookie().has_value());
}

}  // namespace dirledger

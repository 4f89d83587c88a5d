// Security, end to end through the dirledger command against a real slapd
// (127.0.0.1:4130-4139) and the fake Axigen:
//   - passwords are taken from files or the environment only;
//   - no password (bind, Axigen, a mail account's) appears in anything
//     dirledger wrote: the data dir (RocksDB WAL, SSTs, MANIFEST, info log),
//     the embedded mail directory, backups, and the output of run, status,
//     log, explain, export, replay and verify;
//   - the data dir is 0700 and its files 0600;
//   - TLS certificates are verified by default, and a wrong CA is refused;
//   - `verify` finds an edited, removed, reordered or inserted record (or an
//     edited decision) in a data dir `dirledger run` made, exits 1, and names
//     the first bad sequence.
#include <sys/stat.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>

#include "codecs/event_codec.h"
#include "codecs/kv_store.h"
#include "replay/projection_checkpoint.h"
#include "storage/event_log.h"
#include "storage/object_indexer.h"
#include "storage/test_util.h"
#include "tests/fake_axigen/fake_axigen_server.h"
#include "tests/faults/dirledger_cli.h"
#include "tests/faults/fault_util.h"
#include "tests/support/slapd_server.h"
#include "tests/support/temp_dir.h"

namespace dirledger::test {
namespace {

namespace fs = std::filesystem;

// Distinctive passwords: none of them can turn up by chance.
constexpr const char* kBindPassword = "BindPw-7c1e94a2f05d";
constexpr const char* kAxigenPassword = "AxigenPw-39d0b6e2c4a1";
constexpr const char* kAccountPassword = "AccountPw-5b2e8f61d7c3";
constexpr const char* kNewAccountPassword = "AccountPw-2-a4c09e7731b8";
// A stored value the search must find (a control).
constexpr const char* kControl = "Control-5e1d9a04";

// Options for a slapd whose rootdn password is kBindPassword (slapd.sh
// takes it from SLAPD_PASSWORD, which every slapd of this binary gets).
SlapdOptions WithBindPassword(int people, bool tls = false) {
  setenv("SLAPD_PASSWORD", kBindPassword, 1);
  SlapdOptions o;
  o.people = people;
  o.tls = tls;
  return o;
}

// Every file under `dir`, with its bytes; a projection checkpoint (whose
// tables are compressed) with the tables it holds as well.
std::vector<std::pair<std::string, std::string>> Files(const std::string& dir) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::string bytes = ReadFile(e.path().string());
    if (e.path().extension() == ".ckpt") {
      CheckpointHeader h;
      std::string tables;
      REQUIRE(ReadCheckpoint(bytes, &h, &tables).ok());
      bytes += tables;
    }
    out.emplace_back(e.path().string(), std::move(bytes));
  }
  return out;
}

TEST_CASE("passwords in the config are refused, without echoing them",
          "[security][integration]") {
  TempDir tmp;
  DirledgerCli cli(tmp.path());
  TestConfig c;
  c.uri = "ldap://127.0.0.1:4130";
  c.connector_extra = std::string("bind_password = \"") + kBindPassword + "\"";
  cli.WriteConfig(c.ToToml());
  CliResult r = cli.Run({"run", "--once"});
  INFO(r.text());
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("bind_password_file or bind_password_env") !=
        std::string::npos);
  CHECK(r.text().find(kBindPassword) == std::string::npos);

  c.connector_extra.clear();
  c.password_file = "bind.pw";
  c.mail = std::string("[mail]\nkind = \"axigen\"\npassword = \"") +
           kAxigenPassword + "\"\n";
  cli.WriteConfig(c.ToToml());
  r = cli.Run({"status"});
  INFO(r.text());
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("password_file or password_env") != std::string::npos);
  CHECK(r.text().find(kAxigenPassword) == std::string::npos);
}

TEST_CASE("no password reaches the data dir or any output",
          "[security][integration]") {
  TempDir tmp;
  SlapdServer slapd(tmp / "slapd", 4131, WithBindPassword(30));
  std::string outputs;  // everything the commands printed
  auto run = [&](const DirledgerCli& cli, std::vector<std::string> args,
                 const CliOptions& o = {}) {
    CliResult r = cli.Run(args, o);
    outputs += r.out + r.err;
    return r;
  };
  std::ofstream(tmp / "bind.pw") << kBindPassword << "\n";

  SECTION("embedded mail directory, bind password from a file") {
    fs::create_directories(tmp / "w");
    DirledgerCli cli(tmp / "w");
    TestConfig c;
    c.uri = slapd.url();
    c.password_file = tmp / "bind.pw";
    c.direction = "both_ways";
    c.conflict_resolution = "ldap_wins";
    cli.WriteConfig(c.ToToml());
    std::ofstream(tmp / "account.pw") << kAccountPassword << "\n";
    CliResult r = run(cli, {"run", "--once"});
    INFO(r.text());
    REQUIRE(r.exit_code == 0);
    // A mail account with a password, then a new one from the environment.
    r = run(cli, {"mail", "add", "ada@example.com", "firstName=Ada",
                  std::string("lastName=") + kControl, "--password-file",
                  tmp / "account.pw"});
    INFO(r.text());
    REQUIRE(r.exit_code == 0);
    CliOptions env;
    env.env["NEW_PW"] = kNewAccountPassword;
    r = run(cli, {"mail", "set", "ada@example.com", "--password-env", "NEW_PW"},
            env);
    INFO(r.text());
    REQUIRE(r.exit_code == 0);
    REQUIRE(slapd.Modify(
                "dn: " + PersonDn(3) +
                "\nchangetype: modify\nreplace: title\ntitle: Ops\n") == 0);
    r = run(cli, {"run", "--once"});
    INFO(r.text());
    REQUIRE(r.exit_code == 0);
    // A bind that fails: the wrong password is not shown either.
    std::ofstream(tmp / "wrong.pw") << "WrongPw-c3d2e1f0a9\n";
    c.password_file = tmp / "wrong.pw";
    cli.WriteConfig(c.ToToml());
    r = run(cli, {"run", "--once"});
    CHECK(r.exit_code != 0);
    CHECK(r.err.find("Invalid credentials") != std::string::npos);
    CHECK(r.text().find("WrongPw-c3d2e1f0a9") == std::string::npos);
    c.password_file = tmp / "bind.pw";
    cli.WriteConfig(c.ToToml());
    for (auto args : std::vector<std::vector<std::string>>{
             {"status"},
             {"status", "--json"},
             {"log", "--json"},
             {"log"},
             {"explain", "ada@example.com"},
             {"explain", PersonUid(3) + "@example.com", "--json"},
             {"export", "--side", "mail", "--format", "json"},
             {"export", "--side", "ldap"},
             {"replay", "--json"},
             {"verify"},
             {"mail", "list", "--json"},
             {"mail", "show", "ada@example.com", "--json"},
             {"backup", tmp / "w/data/backups/manual"}}) {
      r = run(cli, args);
      INFO(args[0] << ": " << r.text());
      CHECK(r.exit_code == 0);
    }
    CHECK(outputs.find("ada@example.com") != std::string::npos);  // it ran
    // The search is not blind: a value stored next to the password hash is
    // found in the SSTs (compressed or not) of the mail directory and of
    // the log (the backup flushed them there from the WAL).
    for (const char* sub : {"/w/data/mail/", "/w/data/log/"}) {
      bool in_sst = false;
      for (const auto& [path, bytes] : Files(tmp / "w/data"))
        in_sst |= path.find(sub) != std::string::npos &&
                  path.ends_with(".sst") &&
                  bytes.find(kControl) != std::string::npos;
      INFO(sub);
      CHECK(in_sst);
    }
    // Nor for the projection checkpoint `verify` wrote: its tables hold it.
    bool in_checkpoint = false;
    for (const auto& [path, bytes] : Files(tmp / "w/data"))
      in_checkpoint |=
          path.ends_with(".ckpt") && bytes.find(kControl) != std::string::npos;
    CHECK(in_checkpoint);
  }

  SECTION("Axigen, passwords from the environment") {
    FakeAxigenOptions ao;
    ao.password = kAxigenPassword;
    FakeAxigenServer axigen(ao);
    axigen.AddDomain("example.com");
    REQUIRE(axigen.Start().ok());
    fs::create_directories(tmp / "w");
    DirledgerCli cli(tmp / "w");
    TestConfig c;
    c.uri = slapd.url();
    c.connector_extra = "bind_password_env = \"DL_BIND_PW\"";
    c.mail = "[mail]\nkind = \"axigen\"\nhost = \"127.0.0.1\"\nport = " +
             std::to_string(axigen.port()) +
             "\nuser = \"admin\"\npassword_env = \"DL_AXIGEN_PW\"\n";
    cli.WriteConfig(c.ToToml());
    CliOptions env;
    env.env["DL_BIND_PW"] = kBindPassword;
    env.env["DL_AXIGEN_PW"] = kAxigenPassword;
    // One account creation refused: its error must not show the random
    // password dirledger chose for the account.
    axigen.FailCommand("ADD Account", 1, "license limit reached");
    CliResult r = run(cli, {"run", "--once"}, env);
    INFO(r.text());
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("license limit reached") != std::string::npos);
    std::string random_pw;
    const std::regex add(
        "ADD Account name \"[^\"]*\" password \"([0-9a-f]+)\"");
    for (const std::string& cmd : axigen.commands()) {
      std::smatch m;
      if (std::regex_search(cmd, m, add)) {
        random_pw = m[1];
        break;  // the refused one
      }
    }
    REQUIRE(random_pw.size() >= 32);
    r = run(cli, {"run", "--once"}, env);
    INFO(r.text());
    for (auto args : std::vector<std::vector<std::string>>{
             {"status", "--json"},
             {"log", "--json"},
             {"explain", PersonUid(1) + "@example.com"},
             {"export", "--side", "mail", "--format", "json"},
             {"verify"},
             {"backup", tmp / "w/data/backups/manual"}}) {
      r = run(cli, args, env);
      INFO(args[0] << ": " << r.text());
      CHECK(r.exit_code == 0);
    }
    for (const auto& [path, bytes] : Files(tmp / "w/data")) {
      INFO(path);
      CHECK(bytes.find(random_pw) == std::string::npos);
    }
    CHECK(outputs.find(random_pw) == std::string::npos);
    // A wrong Axigen password: refused, and not shown.
    env.env["DL_AXIGEN_PW"] = "WrongAxigen-0f9e8d7c";
    r = run(cli, {"run", "--once"}, env);
    CHECK(r.exit_code != 0);
    CHECK(r.text().find("WrongAxigen-0f9e8d7c") == std::string::npos);
  }

  // The data dir holds SSTs (the backup flushed the memtables), the WAL,
  // MANIFEST, OPTIONS and RocksDB's info log; none holds a password.
  const auto files = Files(tmp / "w/data");
  bool has_sst = false, has_wal = false;
  for (const auto& [path, bytes] : files) {
    INFO(path);
    has_sst |= path.ends_with(".sst");
    has_wal |= path.ends_with(".log") && path.find("/LOG") == std::string::npos;
    for (const char* pw : {kBindPassword, kAxigenPassword, kAccountPassword,
                           kNewAccountPassword})
      CHECK(bytes.find(pw) == std::string::npos);
  }
  CHECK(has_sst);
  CHECK(has_wal);
  for (const char* pw :
       {kBindPassword, kAxigenPassword, kAccountPassword, kNewAccountPassword})
    CHECK(outputs.find(pw) == std::string::npos);
}

TEST_CASE("the data dir is private: directories 0700, files 0600",
          "[security][integration]") {
  TempDir tmp;
  SlapdServer slapd(tmp / "slapd", 4132, WithBindPassword(10));
  DirledgerCli cli(tmp.path());
  std::ofstream(tmp / "bind.pw") << kBindPassword << "\n";
  TestConfig c;
  c.uri = slapd.url();
  c.password_file = "bind.pw";
  cli.WriteConfig(c.ToToml());
  // Whatever the umask of the shell that starts it.
  CliOptions loose;
  loose.in_child = [] { ::umask(0); };
  REQUIRE(cli.Run({"run", "--once"}, loose).exit_code == 0);
  REQUIRE(cli.Run({"backup", tmp / "data/backups/b1"}, loose).exit_code == 0);
  REQUIRE(cli.Run({"mail", "add", "x@example.com"}, loose).exit_code == 0);
  std::size_t files = 0;
  CHECK((fs::status(tmp / "data").permissions() & fs::perms::all) ==
        fs::perms::owner_all);
  for (const auto& e : fs::recursive_directory_iterator(tmp / "data")) {
    INFO(e.path());
    const auto perms = e.status().permissions() & fs::perms::all;
    if (e.is_directory()) {
      CHECK(perms == fs::perms::owner_all);
    } else {
      ++files;
      CHECK(perms == (fs::perms::owner_read | fs::perms::owner_write));
    }
  }
  CHECK(files > 10);
}

TEST_CASE("TLS: the server certificate is verified; a wrong CA is refused",
          "[security][integration]") {
  TempDir tmp;
  SlapdServer slapd(tmp / "slapd", 4133, WithBindPassword(5, /*tls=*/true));
  std::ofstream(tmp / "bind.pw") << kBindPassword << "\n";
  // Another CA, which did not sign the server's certificate.
  REQUIRE(RunCommand("openssl req -x509 -newkey rsa:2048 -nodes -days 2 "
                     "-subj '/CN=not the test CA' -keyout '" +
                     (tmp / "other.key") + "' -out '" + (tmp / "other.pem") +
                     "' 2>/dev/null") == 0);
  DirledgerCli cli(tmp.path());
  auto run = [&](const std::string& uri, const std::string& extra) {
    fs::remove_all(tmp / "data");
    TestConfig c;
    c.uri = uri;
    c.password_file = "bind.pw";
    c.connector_extra = extra;
    cli.WriteConfig(c.ToToml());
    return cli.Run({"run", "--once"});
  };
  const std::string ldaps = slapd.ldaps_url();
  const std::string ca = "ca_file = \"" + slapd.ca_file() + "\"";
  const std::string other = "ca_file = \"" + (tmp / "other.pem") + "\"";

  CliResult r = run(ldaps, "");  // the system CAs do not know the test CA
  INFO(r.text());
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("certificate") != std::string::npos);
  if (fs::exists(tmp / "data/mail/CURRENT")) CHECK(MailAddresses(cli).empty());

  r = run(ldaps, other);
  INFO(r.text());
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("certificate") != std::string::npos);

  r = run(slapd.url(), other + "\nstart_tls = true");
  INFO(r.text());
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("certificate") != std::string::npos);

  r = run(ldaps, ca);
  INFO(r.text());
  CHECK(r.exit_code == 0);
  CHECK(MailAddresses(cli).size() == 5);

  r = run(slapd.url(), ca + "\nstart_tls = true");
  INFO(r.text());
  CHECK(r.exit_code == 0);
  CHECK(MailAddresses(cli).size() == 5);
}

// A data dir made by `dirledger run` against a real slapd.
struct RealLog {
  explicit RealLog(int port)
      : slapd(tmp / "slapd", port, WithBindPassword(20)), cli(tmp.path()) {
    std::ofstream(tmp / "bind.pw") << kBindPassword << "\n";
    TestConfig c;
    c.uri = slapd.url();
    c.password_file = "bind.pw";
    cli.WriteConfig(c.ToToml());
    CliResult r = cli.Run({"run", "--once"});
    INFO(r.text());
    REQUIRE(r.exit_code == 0);
    REQUIRE(slapd.Modify("dn: " + PersonDn(4) +
                         "\nchangetype: modify\nreplace: title\ntitle: X\n") ==
            0);
    r = cli.Run({"run", "--once"});
    REQUIRE(r.exit_code == 0);
    std::string out;
    REQUIRE(VerifyClean(cli, &out));
    last = LastSeq(cli);
    REQUIRE(last > 40);
  }
  std::string LogDir() const { return tmp / "data/log"; }
  std::string Raw(std::uint64_t seq) const {
    LogOptions o;
    o.read_only = true;
    auto log = EventLog::Open(LogDir(), o);
    REQUIRE(log.ok());
    std::string raw;
    REQUIRE((*log)->ReadRaw(seq, &raw).ok());
    return raw;
  }
  Event Read(std::uint64_t seq) const {
    LogOptions o;
    o.read_only = true;
    auto log = EventLog::Open(LogDir(), o);
    REQUIRE(log.ok());
    Event e;
    REQUIRE((*log)->ReadEvent(seq, &e).ok());
    return e;
  }

  TempDir tmp;
  SlapdServer slapd;
  DirledgerCli cli;
  std::uint64_t last = 0;
};

TEST_CASE(
    "verify finds a record edited, removed, reordered or inserted in a "
    "real data dir, naming the first bad sequence",
    "[security][tamper][integration]") {
  RealLog real(4134);
  const std::string dir = real.LogDir();
  std::uint64_t bad = 0;
  SECTION("a byte of a record flipped") {
    std::string raw = real.Raw(25);
    raw[raw.size() / 3] ^= 0x20;
    REQUIRE(OverwriteLogRecord(dir, 25, raw).ok());
    bad = 25;
  }
  SECTION("a change rewritten with its own digest made right") {
    std::uint64_t seq = 20;
    Event e = real.Read(seq);
    while (!std::holds_alternative<ObservedChange>(e.body))
      e = real.Read(++seq);
    std::get<ObservedChange>(e.body).dn =
        "uid=mallory,ou=people,dc=example,dc=com";
    REQUIRE(OverwriteLogRecord(dir, seq, StoredRecord(e)).ok());
    bad = seq;  // its successor no longer holds its digest
  }
  SECTION("a record removed") {
    REQUIRE(DeleteLogRecord(dir, 30).ok());
    bad = 30;
  }
  SECTION("the last record removed") {
    REQUIRE(DeleteLogRecord(dir, real.last).ok());
    bad = real.last;
  }
  SECTION("two records swapped") {
    const std::string a = real.Raw(12), b = real.Raw(13);
    REQUIRE(OverwriteLogRecord(dir, 12, b).ok());
    REQUIRE(OverwriteLogRecord(dir, 13, a).ok());
    bad = 12;
  }
  SECTION("a record inserted, the later ones moved up, the chain forged") {
    // A careful forger: the new record holds its predecessor's digest.
    std::vector<std::string> raws;
    for (std::uint64_t s = 20; s <= real.last; ++s) raws.push_back(real.Raw(s));
    for (std::uint64_t s = real.last; s >= 20; --s)
      REQUIRE(OverwriteLogRecord(dir, s + 1, raws[s - 20]).ok());
    Event forged = real.Read(19);
    forged.seq = 20;
    const std::string prev = real.Raw(19);
    forged.prev_hash = prev.substr(prev.size() - 32);
    REQUIRE(OverwriteLogRecord(dir, 20, StoredRecord(forged)).ok());
    // The forged record itself passes; the first one moved up does not (it
    // says it is sequence 20).
    bad = 21;
  }
  SECTION("a record appended behind the head's back") {
    REQUIRE(OverwriteLogRecord(dir, real.last + 1, real.Raw(real.last)).ok());
    bad = real.last + 1;
  }
  SECTION("a decision edited") {
    // Decisions are not in the hash chain; replay catches them.
    LogOptions o;
    o.read_only = true;
    Decision d;
    {
      auto log = EventLog::Open(dir, o);
      REQUIRE(log.ok());
      REQUIRE((*log)->ReadDecision(22, &d).ok());
    }
    d.reason = "nothing to see here";
    REQUIRE(PutRaw(dir, "decisions", BigEndian64(22), EncodeDecision(d)).ok());
    bad = 22;
  }
  CliResult r = real.cli.Run({"verify"});
  INFO(r.text());
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("verify: FAILED at sequence " + std::to_string(bad)) !=
        std::string::npos);
}

std::string Key(std::initializer_list<std::string_view> parts) {
  std::string k;
  for (std::string_view p : parts) k += p;
  return k;
}

TEST_CASE(
    "verify finds a derived record (projection, index, link, object index) "
    "deleted, added or changed, and names its key",
    "[security][tamper][integration]") {
  RealLog real(4135);
  const std::string dir = real.LogDir();
  const std::string address = "user000001@example.com";
  std::vector<std::uint64_t> seqs;
  {
    LogOptions o;
    o.read_only = true;
    auto log = EventLog::Open(dir, o);
    REQUIRE(log.ok());
    REQUIRE((*log)->SeqsForObject(address, &seqs).ok());
  }
  REQUIRE(!seqs.empty());
  std::string expected;  // in verify's output
  SECTION("the mail address index entry of an account deleted") {
    REQUIRE(DeleteRaw(dir, "state", "a10" + address).ok());
    expected = "state key a10" + address + " (address index: mail account " +
               address + ") is missing from the stored projection";
  }
  SECTION("both address index entries of an account deleted") {
    REQUIRE(DeleteRaw(dir, "state", "a00" + address).ok());
    REQUIRE(DeleteRaw(dir, "state", "a10" + address).ok());
    expected = "state key a00" + address + " (address index: ldap account " +
               address + ") is missing";
  }
  SECTION("an address index entry pointed at another object") {
    REQUIRE(PutRaw(dir, "state", "a00" + address, "impostor-id").ok());
    expected = "state key a00" + address + " (address index: ldap account " +
               address + ") differs from what the log derives";
  }
  SECTION("the mail object record of an account changed") {
    // Any other bytes: verify compares records as it compares index
    // entries, by their stored bytes, and names the record by its key.
    REQUIRE(PutRaw(dir, "state", "o10" + address, "forged record").ok());
    expected = "state key o10" + address + " (object: mail account " + address +
               ") differs from what the log derives";
  }
  SECTION("a pending intent record added") {
    REQUIRE(PutRaw(dir, "state", "p" + BigEndian64(99), "forged").ok());
    expected =
        "state key p\\x00\\x00\\x00\\x00\\x00\\x00\\x00c (pending intent 99) "
        "is stored but not derived from the log";
  }
  SECTION("an alias index entry deleted") {
    const std::string alias = "user000001.a@example.com";
    REQUIRE(real.slapd.Modify(
                "dn: " + PersonDn(1) +
                "\nchangetype: modify\nadd: mail\nmail: " + alias + "\n") == 0);
    CliResult run = real.cli.Run({"run", "--once"});
    INFO(run.text());
    REQUIRE(run.exit_code == 0);
    REQUIRE(DeleteRaw(dir, "state",
                      Key({"i10", alias, std::string(1, '\0'), address}))
                .ok());
    expected = "state key i10" + alias + "\\x00" + address +
               " (alias index: mail account " + alias + " held by " + address +
               ") is missing from the stored projection";
  }
  SECTION("an alias index entry added") {
    REQUIRE(PutRaw(dir, "state",
                   Key({"i10boss@example.com", std::string(1, '\0'), address}),
                   "")
                .ok());
    expected = "state key i10boss@example.com\\x00" + address +
               " (alias index: mail account boss@example.com held by " +
               address + ") is stored but not derived from the log";
  }
  SECTION("a DN index entry added") {
    REQUIRE(PutRaw(dir, "state", "d0uid=mallory,ou=people,dc=example,dc=com",
                   "impostor-id")
                .ok());
    expected =
        "state key d0uid=mallory,ou=people,dc=example,dc=com (DN index: ldap "
        "uid=mallory,ou=people,dc=example,dc=com) is stored but not derived";
  }
  SECTION("a pending intent index entry added") {
    REQUIRE(PutRaw(dir, "state",
                   Key({"t10", address, std::string(1, '\0'), BigEndian64(99)}),
                   "")
                .ok());
    expected = "(pending intent index: mail account " + address +
               " intent 99) is stored but not derived";
  }
  SECTION("a wait added") {
    REQUIRE(PutRaw(dir, "state",
                   Key({"w0address:account:", address, std::string(1, '\0'),
                        "impostor-id"}),
                   "")
                .ok());
    expected = "(wait: ldap impostor-id waits for address:account:" + address +
               ") is stored but not derived";
  }
  SECTION("the link index by mail id deleted") {
    REQUIRE(DeleteRaw(dir, "links", "m0" + address).ok());
    expected = "links key m0" + address + " (link index by mail id: account " +
               address + ") is missing";
  }
  SECTION("the link index by mail id changed") {
    REQUIRE(PutRaw(dir, "links", "m0" + address, "impostor-id").ok());
    expected = "links key m0" + address + " (link index by mail id: account " +
               address + ") differs";
  }
  SECTION("an object index key deleted") {
    REQUIRE(DeleteRaw(dir, "by_object", ObjectIndexKey(address, seqs.front()))
                .ok());
    expected = "by_object key " + address + " at sequence " +
               std::to_string(seqs.front()) +
               " is missing from the stored object index";
  }
  SECTION("an object index key added") {
    std::uint64_t other = 1;  // an event the account is not in
    while (std::find(seqs.begin(), seqs.end(), other) != seqs.end()) ++other;
    REQUIRE(PutRaw(dir, "by_object", ObjectIndexKey(address, other), "").ok());
    expected = "by_object key " + address + " at sequence " +
               std::to_string(other) +
               " is stored but not derived from the log";
  }
  CliResult r = real.cli.Run({"verify"});
  INFO(r.text());
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("verify: FAILED: ") != std::string::npos);
  CHECK(r.out.find(expected) != std::string::npos);
  CHECK(r.out.find("projection OK") == std::string::npos);
}

}  // namespace
}  // namespace dirledger::test

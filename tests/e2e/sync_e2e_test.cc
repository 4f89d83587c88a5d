// End to end, one way (ldap_to_axigen) into the embedded mail directory:
// run --dry-run and --once, status, log and its filters, explain by every
// kind of id, replay (--until, --set), export (LDIF that LDIF parsers
// accept, JSON, --at), verify and --expect-head. Everything through the
// built dirledger binary against a real slapd.
#include <catch2/catch.hpp>
#include <set>

#include "codecs/ldif.h"
#include "tests/e2e/e2e_env.h"

namespace dirledger::test {
namespace {

constexpr int kPort = 4150;

const std::vector<std::string> kLogKeys = {"seq",  "time",   "side",
                                           "kind", "object", "decision"};

void RequireLogLines(const std::vector<nlohmann::json>& lines) {
  for (const auto& j : lines) {
    INFO(j.dump());
    for (const std::string& k : kLogKeys) REQUIRE(j.contains(k));
    REQUIRE(j["seq"].is_number_unsigned());
    REQUIRE(j["time"].get<std::string>().size() == 27);  // ...T..:..:..Z
  }
}

std::set<std::uint64_t> Seqs(const std::vector<nlohmann::json>& lines) {
  std::set<std::uint64_t> out;
  for (const auto& j : lines) out.insert(j["seq"].get<std::uint64_t>());
  return out;
}

void AddEngineeringGroup(E2eEnv& env) {
  env.Ldap(
      "dn: cn=engineering,ou=groups,dc=example,dc=com\nchangetype: add\n"
      "objectClass: groupOfNames\ncn: engineering\ndescription: Engineering\n"
      "member: " +
      PersonDn("user000001") + "\nmember: " + PersonDn("user000002") + "\n");
}

// The LDIF record whose DN starts with `dn_prefix`.
const LdifRecord* FindRecord(const std::vector<LdifRecord>& records,
                             const std::string& dn_prefix) {
  for (const LdifRecord& r : records)
    if (r.dn.rfind(dn_prefix, 0) == 0) return &r;
  return nullptr;
}

std::vector<std::string> ValuesOf(const LdifRecord& r,
                                  const std::string& name) {
  for (const Attribute& a : r.attrs)
    if (EqualsIgnoreCase(a.name, name)) return a.values;
  return {};
}

// `ldapadd -n` parses the file as ldapadd would, without a server.
void RequireLdapaddAccepts(E2eEnv& env, const std::string& ldif,
                           const std::string& name) {
  const std::string file = env.tmp() / name;
  WriteFile(file, ldif);
  std::string out;
  const int rc = RunCommand(
      "ldapadd -n -x -H ldap://127.0.0.1:1 -f '" + file + "' 2>&1", &out);
  INFO("ldapadd -n " << name << ":\n" << out);
  REQUIRE(rc == 0);
}

TEST_CASE("dry run, sync, then every read command, one way", "[e2e][sync]") {
  E2eEnv env(kPort, 8);
  AddEngineeringGroup(env);
  CliRunner& dl = env.cli();

  // --- run --dry-run on an empty data dir: decides, writes nothing.
  CliResult dry = dl.Run({"run", "--dry-run"});
  INFO(dry.Describe());
  REQUIRE(dry.exit_code == 0);
  REQUIRE(Contains(dry.out, "nothing was written"));
  REQUIRE(Contains(dry.out, "add account on mail user000001@example.com"));
  REQUIRE(Contains(dry.out, "add group on mail engineering@example.com"));
  REQUIRE(env.LastSeq() == 0);
  REQUIRE(env.MailAddresses().empty());

  // --- run --once: everything arrives on the mail side.
  env.RunOnce();
  std::vector<std::string> addresses = env.MailAddresses();
  REQUIRE(addresses.size() == 9);
  REQUIRE(env.MailShow("user000002@example.com")["title"] == "Engineer");
  const auto group = env.MailShow("engineering@example.com");
  REQUIRE(group["kind"] == "group");
  REQUIRE(group["members"] ==
          nlohmann::json::array(
              {"user000001@example.com", "user000002@example.com"}));

  // status: the log head, both sources, nothing held, open or pending.
  CliResult st = dl.Run({"status", "--json"});
  REQUIRE(st.exit_code == 0);
  auto status = st.Json();
  const std::uint64_t synced_seq = status[0]["last_seq"];
  const std::string synced_head = status[0]["head_sha256"];
  REQUIRE(synced_seq > 9);
  REQUIRE(synced_head.size() == 64);
  auto sources = Where(status, "type", "source");
  REQUIRE(Where(sources, "source", "corp/syncrepl").size() == 1);
  REQUIRE(Where(sources, "source", "mail").size() == 1);
  const std::string ldap_cursor =
      Where(sources, "source", "corp/syncrepl")[0]["cursor"];
  REQUIRE(Contains(ldap_cursor, "csn="));
  for (const char* t : {"hold", "conflict", "drift", "pending"})
    REQUIRE(Where(status, "type", t).empty());
  CliResult st_text = dl.Run({"status"});
  REQUIRE(st_text.exit_code == 0);
  REQUIRE(Contains(st_text.out, "head sha256 " + synced_head));
  REQUIRE(Contains(st_text.out, "held deletes:\n  none"));

  // --- a change in LDAP; a dry run shows it and changes nothing.
  env.LdapReplace("user000002", "title", "Chief Engineer");
  dry = dl.Run({"run", "--dry-run", "--json"});
  INFO(dry.Describe());
  REQUIRE(dry.exit_code == 0);
  auto intents = dry.Json();
  REQUIRE(intents.size() == 1);
  REQUIRE(intents[0]["op"] == "modify");
  REQUIRE(intents[0]["target"] == "mail");
  REQUIRE(intents[0]["target_id"] == "user000002@example.com");
  REQUIRE(intents[0]["set"]["title"] ==
          nlohmann::json::array({"Chief Engineer"}));
  auto after_dry = env.LogStatus();
  REQUIRE(after_dry["last_seq"] == synced_seq);
  REQUIRE(after_dry["head_sha256"] == synced_head);
  REQUIRE(Where(dl.Run({"status", "--json"}).Json(), "source",
                "corp/syncrepl")[0]["cursor"] == ldap_cursor);
  REQUIRE(env.MailShow("user000002@example.com")["title"] == "Engineer");

  env.RunOnce();
  REQUIRE(env.MailShow("user000002@example.com")["title"] == "Chief Engineer");
  const std::uint64_t changed_seq = env.LastSeq();

  // --- log: every line has the contract's keys, one per record, in order.
  CliResult all = dl.Run({"log", "--json"});
  REQUIRE(all.exit_code == 0);
  auto lines = all.Json();
  RequireLogLines(lines);
  REQUIRE(lines.size() == changed_seq);
  for (size_t i = 0; i < lines.size(); ++i) REQUIRE(lines[i]["seq"] == i + 1);
  CliResult text = dl.Run({"log"});
  REQUIRE(text.exit_code == 0);
  REQUIRE(std::count(text.out.begin(), text.out.end(), '\n') ==
          static_cast<long>(changed_seq));

  SECTION("log --object, --side, --since, --until") {
    auto object =
        dl.Run({"log", "--object", "user000002@example.com", "--json"});
    REQUIRE(object.exit_code == 0);
    auto obj_lines = object.Json();
    RequireLogLines(obj_lines);
    // The LDAP add, the mail add, its outcome and echo, the LDAP modify...
    auto changes = Where(obj_lines, "kind", "change");
    REQUIRE(Where(changes, "side", "ldap").size() == 2);
    REQUIRE(Where(changes, "side", "mail").size() == 2);
    auto modify = Where(Where(changes, "side", "ldap"), "op", "modify");
    REQUIRE(modify.size() == 1);
    REQUIRE(modify[0]["decision"] == "propagated");
    REQUIRE(modify[0]["attrs"]["title"] ==
            nlohmann::json::array({"Chief Engineer"}));
    REQUIRE(Where(Where(obj_lines, "kind", "outcome"), "decision", "applied")
                .size() == 2);
    for (const auto& j : obj_lines) {
      INFO(j.dump());
      REQUIRE(Contains(j.dump(), "user000002"));
    }

    for (const char* side : {"ldap", "mail"}) {
      auto r = dl.Run({"log", "--side", side, "--json"});
      REQUIRE(r.exit_code == 0);
      auto side_lines = r.Json();
      REQUIRE(!side_lines.empty());
      REQUIRE(Where(side_lines, "side", side).size() == side_lines.size());
    }

    auto window = dl.Run({"log", "--since", "3", "--until", "6", "--json"});
    REQUIRE(window.exit_code == 0);
    REQUIRE(Seqs(window.Json()) == std::set<std::uint64_t>{3, 4, 5, 6});

    // By time: the time of record 5 bounds the output on both ends.
    const std::string t5 = lines[4]["time"];
    auto since = dl.Run({"log", "--since", t5, "--json"}).Json();
    REQUIRE(!since.empty());
    REQUIRE(since.front()["seq"].get<std::uint64_t>() <= 5);
    for (const auto& j : since) REQUIRE(j["time"].get<std::string>() >= t5);
    REQUIRE(since.back()["seq"] == changed_seq);
    auto until = dl.Run({"log", "--until", t5, "--json"}).Json();
    REQUIRE(until.front()["seq"] == 1);
    REQUIRE(until.back()["seq"].get<std::uint64_t>() >= 5);
    for (const auto& j : until) REQUIRE(j["time"].get<std::string>() <= t5);

    auto bad = dl.Run({"log", "--since", "last tuesday"});
    REQUIRE(bad.exit_code == 2);
    REQUIRE(Contains(bad.err, "neither a sequence number nor a time"));
  }

  SECTION("explain by mail address, DN and entryUUID") {
    const std::string uuid = env.slapd().EntryUuid(PersonDn("user000002"));
    REQUIRE(!uuid.empty());
    std::set<std::uint64_t> first;
    for (const std::string& id : {std::string("user000002@example.com"),
                                  PersonDn("user000002"), uuid}) {
      auto r = dl.Run({"explain", id, "--json"});
      INFO("explain " << id << ": " << r.Describe());
      REQUIRE(r.exit_code == 0);
      auto seqs = Seqs(r.Json());
      if (first.empty()) first = seqs;
      REQUIRE(seqs == first);
    }
    REQUIRE(first.size() >= 6);
    auto r = dl.Run({"explain", "user000002@example.com"});
    REQUIRE(r.exit_code == 0);
    REQUIRE(Contains(r.out, "History of user000002@example.com"));
    REQUIRE(Contains(r.out, "rule propagate/ldap-to-mail"));
    REQUIRE(Contains(r.out, "set title: Chief Engineer"));
    REQUIRE(Contains(r.out, "Now on mail: account user000002@example.com"));
    REQUIRE(Contains(r.out, "Now on ldap: account " + PersonDn("user000002")));

    auto none = dl.Run({"explain", "nobody@example.com"});
    REQUIRE(none.exit_code == 1);
    REQUIRE(Contains(none.err, "no event in the log concerns"));
  }

  SECTION("replay, replay --until, replay --set") {
    auto r = dl.Run({"replay"});
    INFO(r.Describe());
    REQUIRE(r.exit_code == 0);
    REQUIRE(Contains(r.out, "every decision matches the record"));
    auto j = dl.Run({"replay", "--json"}).Json();
    REQUIRE(j.back()["type"] == "replay");
    REQUIRE(j.back()["differences"] == 0);
    REQUIRE(j.back()["events"] == changed_seq);

    // --until: the state then: 9 objects a side.
    auto until =
        dl.Run({"replay", "--until", std::to_string(synced_seq), "--json"});
    REQUIRE(until.exit_code == 0);
    auto objs = until.Json();
    auto ldap_objs = Where(objs, "side", "ldap");
    auto mail_objs = Where(objs, "side", "mail");
    REQUIRE(ldap_objs.size() == 9);
    REQUIRE(mail_objs.size() == 9);
    auto old = Where(mail_objs, "id", "user000002@example.com");
    REQUIRE(old.size() == 1);
    REQUIRE(old[0]["attrs"]["title"] == nlohmann::json::array({"Engineer"}));

    // A mail-side edit is discarded by direction and reported as drift...
    auto set =
        dl.Run({"mail", "set", "user000003@example.com", "title=Drifted"});
    REQUIRE(set.exit_code == 0);
    env.RunOnce();
    auto drift = Where(dl.Run({"status", "--json"}).Json(), "type", "drift");
    REQUIRE(drift.size() == 1);
    REQUIRE(drift[0]["mail_id"] == "user000003@example.com");
    REQUIRE(drift[0]["fields"] == nlohmann::json::array({"title"}));
    REQUIRE(env.LdapValues("(uid=user000003)", "title") ==
            std::vector<std::string>{"Engineer"});
    // ...and what-if shows where it would have gone with both_ways.
    auto what_if = dl.Run({"replay", "--set", "direction=both_ways", "--set",
                           "conflict_resolution=axigen_wins", "--json"});
    INFO(what_if.Describe());
    REQUIRE(what_if.exit_code == 0);
    auto diffs = what_if.Json();
    auto objects = Where(diffs, "type", "object");
    auto ldap3 =
        Where(Where(objects, "side", "ldap"), "dn", PersonDn("user000003"));
    REQUIRE(ldap3.size() == 1);
    REQUIRE(ldap3[0]["attributes"] == nlohmann::json::array({"title"}));
    REQUIRE(ldap3[0]["as_recorded"]["title"] ==
            nlohmann::json::array({"Engineer"}));
    REQUIRE(ldap3[0]["what_if"]["title"] == nlohmann::json::array({"Drifted"}));
    REQUIRE(!Where(diffs, "type", "decision").empty());
    auto what_if_text = dl.Run({"replay", "--set", "direction=both_ways",
                                "--set", "conflict_resolution=axigen_wins"});
    REQUIRE(what_if_text.exit_code == 0);
    REQUIRE(Contains(what_if_text.out, "1 objects would end up differently"));
    // The outcomes and echoes of the sync's own writes differ under other
    // rules too; they are counted apart and marked, not shown as changes.
    auto reversed =
        dl.Run({"replay", "--set", "direction=axigen_to_ldap", "--json"});
    INFO(reversed.Describe());
    REQUIRE(reversed.exit_code == 0);
    auto reversed_decisions = Where(reversed.Json(), "type", "decision");
    std::size_t own_writes = 0;
    for (const auto& d : reversed_decisions)
      if (d["own_write"] == true) ++own_writes;
    REQUIRE(own_writes > 0);
    REQUIRE(own_writes < reversed_decisions.size());
    auto reversed_text =
        dl.Run({"replay", "--set", "direction=axigen_to_ldap"});
    REQUIRE(Contains(
        reversed_text.out,
        std::to_string(own_writes) + " decisions on dirledger's own writes"));
    REQUIRE(Contains(reversed_text.out,
                     std::to_string(reversed_decisions.size() - own_writes) +
                         " decided differently"));
    // What-if writes nothing.
    REQUIRE(env.LdapValues("(uid=user000003)", "title") ==
            std::vector<std::string>{"Engineer"});

    auto bad = dl.Run({"replay", "--set", "direction=sideways"});
    REQUIRE(bad.exit_code == 2);
    REQUIRE(Contains(
        bad.err, "allowed values: ldap_to_axigen, axigen_to_ldap, both_ways"));
  }

  SECTION("export --side ldap|mail --format ldif|json, --at") {
    auto ldap = dl.Run({"export", "--side", "ldap"});
    REQUIRE(ldap.exit_code == 0);
    auto records = ParseLdif(ldap.out);
    INFO(ldap.out);
    REQUIRE(records.ok());
    REQUIRE(records->size() == 9);
    const LdifRecord* u2 = FindRecord(*records, PersonDn("user000002"));
    REQUIRE(u2);
    REQUIRE(ValuesOf(*u2, "title") ==
            std::vector<std::string>{"Chief Engineer"});
    REQUIRE(FindRecord(*records, "cn=engineering,ou=groups"));
    RequireLdapaddAccepts(env, ldap.out, "ldap.ldif");

    auto mail = dl.Run({"export", "--side", "mail", "--format", "ldif"});
    REQUIRE(mail.exit_code == 0);
    auto mail_records = ParseLdif(mail.out);
    REQUIRE(mail_records.ok());
    REQUIRE(mail_records->size() == 9);
    const LdifRecord* m2 = FindRecord(
        *mail_records, "mail=user000002@example.com,dc=example,dc=com");
    REQUIRE(m2);
    REQUIRE(ValuesOf(*m2, "title") ==
            std::vector<std::string>{"Chief Engineer"});
    RequireLdapaddAccepts(env, mail.out, "mail.ldif");

    auto json = dl.Run({"export", "--side", "mail", "--format", "json"});
    REQUIRE(json.exit_code == 0);
    auto objs = json.Json();
    REQUIRE(objs.size() == 9);
    auto j2 = Where(objs, "address", "user000002@example.com");
    REQUIRE(j2.size() == 1);
    REQUIRE(j2[0]["attrs"]["title"] ==
            nlohmann::json::array({"Chief Engineer"}));

    // --at: as of the first sync, before the change.
    auto at = dl.Run(
        {"export", "--side", "ldap", "--at", std::to_string(synced_seq)});
    REQUIRE(at.exit_code == 0);
    auto at_records = ParseLdif(at.out);
    REQUIRE(at_records.ok());
    REQUIRE(at_records->size() == 9);
    const LdifRecord* then = FindRecord(*at_records, PersonDn("user000002"));
    REQUIRE(then);
    REQUIRE(ValuesOf(*then, "title") == std::vector<std::string>{"Engineer"});
    RequireLdapaddAccepts(env, at.out, "ldap-at.ldif");
    auto at_json = dl.Run({"export", "--side", "mail", "--at",
                           std::to_string(synced_seq), "--format", "json"});
    REQUIRE(at_json.exit_code == 0);
    REQUIRE(Where(at_json.Json(), "address",
                  "user000002@example.com")[0]["attrs"]["title"] ==
            nlohmann::json::array({"Engineer"}));

    auto outside = dl.Run({"export", "--side", "ldap", "--at", "999999"});
    REQUIRE(outside.exit_code == 2);
    REQUIRE(outside.out.empty());
  }

  SECTION("an address removed and created again between two runs") {
    REQUIRE(dl.Run({"mail", "remove", "user000004@example.com"}).exit_code ==
            0);
    REQUIRE(dl.Run({"mail", "add", "user000004@example.com", "firstName=Again"})
                .exit_code == 0);
    env.RunOnce();
    // The log took the delete before the add, so it knows the account.
    auto mail = dl.Run({"export", "--side", "mail", "--format", "json"});
    REQUIRE(mail.exit_code == 0);
    auto again = Where(mail.Json(), "address", "user000004@example.com");
    REQUIRE(again.size() == 1);
    REQUIRE(again[0]["attrs"]["firstName"] == nlohmann::json::array({"Again"}));
    auto ops = nlohmann::json::array();
    for (const auto& j : dl.Run({"log", "--object", "user000004@example.com",
                                 "--side", "mail", "--json"})
                             .Json())
      if (j["kind"] == "change" && !j.contains("origin_intent"))
        ops.push_back(j["op"]);
    REQUIRE(ops == nlohmann::json::array({"delete", "add"}));
    REQUIRE(dl.Run({"verify"}).exit_code == 0);
  }

  SECTION("verify, and verify --expect-head of a head recorded earlier") {
    auto v = dl.Run({"verify"});
    INFO(v.Describe());
    REQUIRE(v.exit_code == 0);
    REQUIRE(Contains(v.out, "hash chain OK"));
    REQUIRE(Contains(v.out, "decisions reproduced byte for byte"));
    REQUIRE(Contains(v.out, "projection OK"));

    const std::string head_now = env.LogStatus()["head_sha256"];
    auto now = dl.Run({"verify", "--expect-head", head_now});
    REQUIRE(now.exit_code == 0);
    // The head recorded after the first sync is still in the chain.
    auto earlier = dl.Run({"verify", "--expect-head", synced_head});
    INFO(earlier.Describe());
    REQUIRE(earlier.exit_code == 0);
    REQUIRE(Contains(earlier.out, "the head recorded earlier is record " +
                                      std::to_string(synced_seq)));
    std::string other = synced_head;
    other[0] = other[0] == '0' ? '1' : '0';
    auto wrong = dl.Run({"verify", "--expect-head", other});
    REQUIRE(wrong.exit_code == 1);
    REQUIRE(Contains(wrong.out, "FAILED"));
    auto malformed = dl.Run({"verify", "--expect-head", "abc"});
    REQUIRE(malformed.exit_code == 2);
  }
}

}  // namespace
}  // namespace dirledger::test

// Model-based end-to-end test: seeded random sequences of what operators and
// administrators do on both sides (LDAP adds, modifies, alias changes,
// moves out of and into the base, deletes, groupOfNames membership with
// members that appear later, vanish and come back; `dirledger mail
// add|set|remove`; `run --once`; `rollback --to SEQ --yes`; `backup` and
// `restore`), driven through the real `dirledger` binary against a real
// slapd and the embedded mail directory, under every direction and conflict
// resolution with group_sync on.
//
// The model is deliberately small. The test keeps, per side, the image of
// every object as it stood at the last settled point (the baseline) and the
// edits each side made since; after each settle it checks what the rules
// (docs/rules.md) let it predict, and invariants where they are intricate:
// - every run exits 0, and a run after the settling ones writes nothing;
// - one way: the source side holds exactly what its editors made (members:
//   less only those whose person went), the target holds the source's mapped
//   image (less the fields its own editors changed: drift);
// - both ways: the sides agree (less open no_change conflicts); a field one
//   side changed has that side's value on both, one both changed the
//   winner's; a member or alias no side removed is still on both sides, and
//   one a side added is on both;
// - an unmapped LDAP attribute survives on every entry dirledger did not
//   re-create;
// - `rollback --to SEQ --yes` brings both sides back to the state recorded
//   at SEQ; it never deletes what existed before dirledger first ran;
// - `restore` brings the mail directory back to the backup's;
// - `dirledger verify` exits 0 at the end of every sequence.
//
// Bounds (environment): MODEL_SEQUENCES (default 50), MODEL_SECONDS (the time
// budget; default 540 when MODEL_SEQUENCES is not set, none otherwise),
// MODEL_SEED (the first sequence's seed; sequence i uses seed + i),
// MODEL_STEPS (cut every sequence after that many steps, to reduce a
// failure), MODEL_KEEP_GOING=1 (print every failing sequence and go on, for
// long runs), MODEL_VERBOSE=1 (each step and command as it runs). The test
// fails when fewer than min(50, MODEL_SEQUENCES)
// sequences ran. It prints, and writes to DIRLEDGER_MODEL_SUMMARY, one line
// `model: N sequences, M operations, seed S, T s`.
//
// Port: 4210, or MODEL_PORT (the model test owns 4210-4219, so that up to
// ten runs with different seeds can go side by side).
#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/e2e/cli_runner.h"
#include "tests/e2e/e2e_env.h"
#include "tests/support/slapd_server.h"
#include "tests/support/temp_dir.h"

namespace dirledger::test {
namespace {

constexpr int kDefaultPort = 4210;
constexpr const char* kPeople = ",ou=people,dc=example,dc=com";
constexpr const char* kGroups = ",ou=groups,dc=example,dc=com";
constexpr const char* kOutside = ",ou=outside,dc=example,dc=com";
constexpr const char* kDomain = "@example.com";

// What the generator once kept out as known defects, so that CI stayed
// green while they were fixed; each is on now, and the comments say where
// the fix is. A defect found next goes here, behind a switch (an
// environment variable =1) until it is fixed.
struct KnownDefects {
  // LDAP renames (new uid): the mail account is renamed, its old address
  // kept as an alias (the entry's `mail` still names it). Once a known
  // defect (MODEL_RENAMES, 8 of 150 sequences from seed 2800000 failing on
  // rules version 9); fixed in rules version 10 (docs/rules.md sections 7
  // and 10), so always on. The generator leaves out the renames and adds
  // whose addresses two objects would claim in one run window: refusals by
  // design (docs/reliability.md section 12).
  bool ldap_renames = true;
  // Aliases taken from another account (or naming its address). Once a
  // known defect: the mail directory refused the alias, the whole write
  // failed, and `run --once` exited 1; from rules version 7 the reconciler
  // refuses an alias another mail object holds (docs/rules.md section 8a),
  // so always on.
  bool cross_account_aliases = true;
  // Rollbacks to seq 1 (before the first run saw anything). Once a known
  // defect (seed 2039: the rollback kept the links of the copies it
  // deleted, and a member added to a group LDAP held before the first sync
  // then deleted the group, `delete/catch-up`); fixed in rules version 4,
  // so always on.
  bool rollback_to_start = true;
  // An LDAP person deleted and added again (same DN) between two runs
  // while a group lists it. Once a known defect (seed 3022): slapd's
  // memberof-refint drops the DN from the group without reporting the
  // group, the mail directory keeps the deleted account's address in the
  // mail group, and the account made again was a member of the mail group
  // only; fixed in rules version 7 (docs/rules.md section 8), so always on.
  bool ldap_readd = true;
  // A rollback that re-creates a deleted person gives it back its group
  // memberships. Once a known defect (seed 634118588: LDAP's refint dropped
  // the person from its groups at the delete, unreported, and the rollback
  // left it out); the member index of rules version 7 and the rollback's
  // value-by-value member writes of version 8 fixed it (100 sequences from
  // seed 9400000 with it on passed), so always on.
  bool rollback_members = true;
  // Moves out of the base: the only member of a groupOfNames, and in a run
  // window in which an LDAP group changes too. Once behind switches
  // (MODEL_MOVE_ONLY_MEMBER, MODEL_MOVE_LISTED: seeds 8600259, 7800093),
  // until the syncrepl source looked deletes up outside the base and rules
  // version 11 followed a moved member in its groups; always on.
};

KnownDefects Defects() {
  KnownDefects d;
  d.ldap_renames = true;
  d.cross_account_aliases = true;
  d.rollback_to_start = true;
  d.ldap_readd = true;
  return d;
}

struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void Fail(const std::string& what) { throw Failure(what); }

// ---------------------------------------------------------------------------
// The observed state of both sides, as images in Axigen field names.

using Values = std::set<std::string>;
using Image = std::map<std::string, Values>;  // field -> values (none: absent)

struct Obj {
  bool group = false;
  Image image;
  std::string uuid;         // LDAP only
  std::string description;  // LDAP persons: an unmapped attribute
};
using SideState = std::map<std::string, Obj>;  // by name (the local part)

enum SideIx { kLdap = 0, kMail = 1 };
const char* SideName(int s) { return s == kLdap ? "ldap" : "mail"; }

struct World {
  SideState side[2];
  std::set<std::string> outside;  // LDAP persons moved out of the base
  // Their other addresses (their `mail` values but their own): moved back,
  // an entry claims them again.
  std::map<std::string, Values> outside_aliases;
};

std::string Lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

bool EndsWith(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() &&
         s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

std::string Show(const Values& v) {
  std::string out = "[";
  for (const auto& x : v) out += (out.size() > 1 ? ", " : "") + x;
  return out + "]";
}

std::string Show(const Image& im) {
  std::string out = "{";
  for (const auto& [k, v] : im) out += " " + k + "=" + Show(v);
  return out + " }";
}

// The LDAP attribute (lower case) -> Axigen field of the OpenLDAP maps.
const std::map<std::string, std::string>& PersonAttrs() {
  static const std::map<std::string, std::string> m = {
      {"givenname", "firstName"},
      {"sn", "lastName"},
      {"displayname", "displayName"},
      {"o", "company"},
      {"ou", "department"},
      {"title", "title"},
      {"physicaldeliveryofficename", "office"},
      {"telephonenumber", "businessPhone"},
      {"homephone", "homePhone"},
      {"mobile", "mobilePhone"},
      {"facsimiletelephonenumber", "fax"},
  };
  return m;
}

// Parses `ldapsearch -LLL -o ldif-wrap=no` output into the world's LDAP side.
void ParseLdap(const std::string& ldif, World* w) {
  std::istringstream in(ldif);
  std::string line;
  std::vector<std::pair<std::string, std::string>> entry;
  auto flush = [&]() {
    if (entry.empty()) return;
    const std::string dn = Lower(entry.front().second);
    entry.erase(entry.begin());
    const auto eq = dn.find('=');
    const auto comma = dn.find(',');
    const std::string name = dn.substr(eq + 1, comma - eq - 1);
    Obj o;
    std::map<std::string, Values> raw;
    for (const auto& [a, v] : entry) raw[Lower(a)].insert(v);
    if (raw.count("entryuuid")) o.uuid = *raw["entryuuid"].begin();
    if (EndsWith(dn, kOutside)) {
      w->outside.insert(name);
      for (const std::string& m : raw["mail"])
        if (Lower(m) != name + kDomain)
          w->outside_aliases[name].insert(Lower(m));
    } else if (EndsWith(dn, kPeople) && dn.rfind("uid=", 0) == 0) {
      for (const auto& [attr, field] : PersonAttrs())
        if (raw.count(attr)) o.image[field] = {*raw[attr].begin()};
      for (const std::string& m : raw["mail"])
        if (Lower(m) != name + kDomain) o.image["aliases"].insert(Lower(m));
      if (raw.count("description")) o.description = *raw["description"].begin();
      w->side[kLdap][name] = o;
    } else if (EndsWith(dn, kGroups) && dn.rfind("cn=", 0) == 0) {
      o.group = true;
      if (raw.count("description"))
        o.image["displayName"] = {*raw["description"].begin()};
      for (const std::string& m : raw["member"]) {
        const std::string md = Lower(m);
        if (md.rfind("uid=", 0) == 0 && EndsWith(md, kPeople))
          o.image["members"].insert(md.substr(4, md.find(',') - 4));
      }
      w->side[kLdap][name] = o;
    }
    entry.clear();
  };
  while (std::getline(in, line)) {
    if (line.empty()) {
      flush();
      continue;
    }
    const auto colon = line.find(": ");
    if (colon == std::string::npos) continue;
    entry.emplace_back(line.substr(0, colon), line.substr(colon + 2));
  }
  flush();
}

void ParseMail(const std::vector<nlohmann::json>& lines, World* w) {
  for (const nlohmann::json& j : lines) {
    std::string address = Lower(j["address"].get<std::string>());
    const std::string name = address.substr(0, address.find('@'));
    Obj o;
    o.group = j["kind"] == "group";
    for (const auto& [k, v] : j.items()) {
      if (k == "address" || k == "kind" || k == "domain" || k == "password_set")
        continue;
      if (v.is_array()) {
        for (const auto& x : v) {
          std::string s = Lower(x.get<std::string>());
          if (k == "members") s = s.substr(0, s.find('@'));
          o.image[k].insert(s);
        }
        if (o.image[k].empty()) o.image.erase(k);
      } else if (v.is_string() && !v.get<std::string>().empty()) {
        o.image[k] = {v.get<std::string>()};
      }
    }
    w->side[kMail][name] = o;
  }
}

// ---------------------------------------------------------------------------
// One sequence.

struct Config {
  std::string direction;
  std::string resolution;
  bool both() const { return direction == "both_ways"; }
  int source() const { return direction == "axigen_to_ldap" ? kMail : kLdap; }
};

const std::vector<Config>& Configs() {
  static const std::vector<Config> c = {
      {"ldap_to_axigen", ""},     {"axigen_to_ldap", ""},
      {"both_ways", "ldap_wins"}, {"both_ways", "axigen_wins"},
      {"both_ways", "no_change"},
  };
  return c;
}

const std::vector<std::string>& PersonNames() {
  static const std::vector<std::string> n = {"ann", "bob", "cat", "dan", "eve"};
  return n;
}
const std::vector<std::string>& GroupNames() {
  static const std::vector<std::string> n = {"g1", "g2"};
  return n;
}

// What one side's editors did to one object since the baseline.
struct ObjEdits {
  bool created = false, deleted = false;
  std::map<std::string, std::optional<std::string>> fields;  // last value
  std::map<std::string, std::map<std::string, bool>> sets;   // v -> added
  // The run window (runs since the baseline) of the last edit of a field,
  // of a set value, and the first and last windows of a set's edits: edits
  // of both sides in one window meet as a conflict, in different windows
  // the later one follows the earlier.
  std::map<std::string, int> field_window;
  std::map<std::string, std::map<std::string, int>> value_window;
  std::map<std::string, std::pair<int, int>> set_windows;
  // LDAP reports an entry as it is when read: a set value changed and
  // changed back between two runs was never seen to change. What a value's
  // edit (op, window) was before its first edit in the current window.
  std::map<std::string,
           std::map<std::string, std::optional<std::pair<bool, int>>>>
      before_window;
};

struct Point {
  std::uint64_t seq = 0;
  World world;
};

class Sequence {
 public:
  Sequence(SlapdServer* slapd, std::uint64_t seed, int max_steps,
           const KnownDefects& defects)
      : slapd_(slapd),
        seed_(seed),
        rng_(seed),
        max_steps_(max_steps),
        defects_(defects),
        config_(Configs()[seed % Configs().size()]),
        cli_(tmp_.path()) {}

  // Runs the sequence; throws Failure.
  void Run();
  const std::vector<std::string>& steps() const { return steps_; }
  int operations() const { return operations_; }
  std::string Describe() const {
    return config_.direction +
           (config_.resolution.empty() ? "" : " / " + config_.resolution);
  }

 private:
  int Pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  bool Chance(int percent) { return Pick(100) < percent; }
  template <typename T>
  const T& PickOf(const std::vector<T>& v) {
    return v[static_cast<size_t>(Pick(static_cast<int>(v.size())))];
  }
  std::string Value(const std::string& what) {
    return what + std::to_string(++value_counter_);
  }

  void Step(const std::string& text) {
    steps_.push_back(std::to_string(steps_.size() + 1) + ". " + text);
    if (std::getenv("MODEL_VERBOSE")) std::cerr << steps_.back() << "\n";
    ++operations_;
  }

  // --- the sides
  void Ldap(const std::string& ldif) {
    const int rc = slapd_->Modify(ldif);
    if (rc != 0) Fail("ldapmodify exited " + std::to_string(rc) + ":\n" + ldif);
  }
  CliResult Dl(const std::vector<std::string>& args, int expect = 0) {
    const auto t0 = std::chrono::steady_clock::now();
    CliResult r = cli_.Run(args);
    if (std::getenv("MODEL_VERBOSE"))
      std::cerr << "  dirledger " << args[0] << " "
                << (args.size() > 1 ? args[1] : "") << ": "
                << std::chrono::duration<double>(
                       std::chrono::steady_clock::now() - t0)
                       .count()
                << " s\n";
    if (r.exit_code != expect) {
      std::string cmd = "dirledger";
      for (const auto& a : args) cmd += " " + a;
      Fail(cmd + " exited " + std::to_string(r.exit_code) + " (expected " +
           std::to_string(expect) + ")\n" + r.Describe());
    }
    return r;
  }
  World Observe() {
    World w;
    ParseLdap(slapd_->Search(
                  "(|(objectClass=inetOrgPerson)(objectClass=groupOfNames))",
                  "'*' entryUUID"),
              &w);
    ParseMail(Dl({"mail", "list", "--json"}).Json(), &w);
    return w;
  }
  std::uint64_t LastSeq() { return LastSeqOf(Dl({"status", "--json"}).Json()); }
  static std::uint64_t LastSeqOf(const std::vector<nlohmann::json>& lines) {
    for (const auto& j : lines)
      if (j.value("type", "") == "log")
        return j["last_seq"].get<std::uint64_t>();
    Fail("status --json shows no log line");
  }

  // --- operations (each updates `now_`, the test's own view of the sides)
  void LdapAddPerson(const std::string& name, bool initial);
  void LdapSet(const std::string& name);
  void LdapAlias(const std::string& name);
  void LdapDelete(const std::string& name);
  void LdapMoveOut(const std::string& name);
  void LdapMoveIn(const std::string& name);
  void LdapRename(const std::string& name);
  void LdapAddGroup(const std::string& name, bool initial);
  void LdapGroupMember(const std::string& name);
  void LdapDeleteGroup(const std::string& name);
  void MailAddPerson(const std::string& name, bool initial);
  void MailSet(const std::string& name);
  void MailAlias(const std::string& name);
  void MailRemove(const std::string& name);
  void MailAddGroup(const std::string& name);
  void MailGroupMember(const std::string& name);
  void RunOnce();
  void Settle(bool rebase);
  void RunUntilIdle(const std::string& when);
  void Rollback();
  void Backup();
  void Restore();
  void RandomStep();

  // --- bookkeeping
  ObjEdits& Edit(int side, const std::string& name) {
    return edits_[side][name];
  }
  void Touch(int side, const std::string& name, const std::string& field,
             std::optional<std::string> v) {
    Edit(side, name).fields[field] = v;
    Edit(side, name).field_window[field] = window_;
    if (!config_.both() && side != config_.source()) drift_[name].insert(field);
    if (!config_.both() && side == config_.source()) drift_[name].erase(field);
  }
  void TouchSet(int side, const std::string& name, const std::string& field,
                const std::string& v, bool added) {
    ObjEdits& e = Edit(side, name);
    if (side == kLdap) {
      auto& windows = e.value_window[field];
      auto& before = e.before_window[field];
      auto it = windows.find(v);
      if (it != windows.end() && it->second == window_ &&
          e.sets[field].at(v) != added) {
        // Back to what it was when the window began: unseen.
        if (const auto& b = before.at(v)) {
          e.sets[field][v] = b->first;
          it->second = b->second;
        } else {
          e.sets[field].erase(v);
          windows.erase(it);
          if (e.sets[field].empty()) e.sets.erase(field);
        }
        before.erase(v);
        return;
      }
      if (it == windows.end())
        before[v] = std::nullopt;
      else if (it->second != window_)
        before[v] = std::make_pair(e.sets[field].at(v), it->second);
    }
    e.sets[field][v] = added;
    e.value_window[field][v] = window_;
    auto [w, fresh] = e.set_windows.try_emplace(field, window_, window_);
    if (!fresh) w->second.second = window_;
    if (!config_.both() && side != config_.source()) drift_[name].insert(field);
    // One way, a source's member change writes value additions and
    // deletions (docs/rules.md section 8): members the target's editors
    // added stay, so the members' drift stays too.
  }
  void Created(int side, const std::string& name) {
    ObjEdits& e = Edit(side, name);
    e.created = true;
    if (!config_.both()) {
      if (side == config_.source()) {
        // A first meeting with an object its administrator made: the
        // source's values are written; a field the source has no value for
        // keeps the target's (docs/rules.md section 4 does not say).
        if (drift_[name].count("*")) {
          first_meet_.insert(name);
          target_own_in_window_.insert(name);
        }
        drift_.erase(name);
        source_made_in_window_.insert(name);
      } else {
        drift_[name].insert("*");
        // The source's object made since the last run too: the two meet
        // at the next run, unless the source's goes first (Deleted).
        if (source_made_in_window_.count(name))
          target_own_in_window_.insert(name);
      }
    }
  }
  void Deleted(int side, const std::string& name) {
    ObjEdits& e = Edit(side, name);
    e.deleted = true;
    gone_persons_.insert(name);
    if (!config_.both()) {
      if (side == config_.source()) {
        drift_.erase(name);
        first_meet_.erase(name);
        // Made and gone again between two runs, the source's object was
        // never seen: the target's own object stays as its editors left it.
        if (target_own_in_window_.count(name)) drift_[name].insert("*");
      } else {
        drift_[name].insert("*");
        // The mail directory (and LDAP's refint) drops a deleted account
        // from its groups: those groups drift too.
        for (const std::string& g : GroupNames()) drift_[g].insert("members");
      }
    }
  }

  void Check(const World& w, bool rebase);
  // slapd's refint drops a deleted (or moved) entry's DN from its groups,
  // but for a groupOfNames' only member (a deleted one stays: the group
  // must have a member).
  void DropFromLdapGroups(const std::string& person, bool deleted) {
    for (auto& [n, o] : now_.side[kLdap])
      if (o.group && o.image.count("members")) {
        if (deleted && o.image["members"] == Values{person}) continue;
        o.image["members"].erase(person);
        if (o.image["members"].empty()) o.image.erase("members");
      }
  }
  // Whether `name`'s address is another object's alias, on either side:
  // an account made at it is refused (docs/rules.md section 8a), as after
  // a rename, whose old address the entry keeps as an alias.
  // (An entry moved out of the base holds its aliases too: moved back, it
  // claims them again.)
  bool AddressHeldAsAlias(const std::string& name) const {
    for (const auto& [n, aliases] : now_.outside_aliases)
      if (n != name && now_.outside.count(n) && aliases.count(name + kDomain))
        return true;
    return !AliasHolder(kLdap, name, name + kDomain).empty() ||
           !AliasHolder(kMail, name, name + kDomain).empty();
  }
  void CheckRollback(const Point& p, const World& before, const World& w);
  std::set<std::string> OpenConflicts(std::map<std::string, Values>* fields);

  SlapdServer* slapd_;
  std::uint64_t seed_;
  std::mt19937_64 rng_;
  int max_steps_;
  KnownDefects defects_;
  Config config_;
  TempDir tmp_;
  CliRunner cli_;
  std::vector<std::string> steps_;
  int operations_ = 0;
  int value_counter_ = 0;

  World now_;   // both sides as the test last saw or made them
  World base_;  // both sides at the last settle
  std::map<std::string, ObjEdits> edits_[2];
  // LDAP persons deleted or moved out since the last run (`ldap_readd`).
  std::set<std::string> ldap_gone_in_window_;
  // LDAP persons renamed since the last run, under their old and new names:
  // a mail add of either before the run would make the rename's new
  // address contested (docs/reliability.md section 12).
  std::set<std::string> renamed_in_window_;
  // Persons a mail administrator added since the last run: an LDAP rename
  // away from such a name would give the entry, whose `mail` still names
  // the old address, an alias that account holds; decided before the mail
  // side reports the account, the write is refused whole (docs/rules.md
  // "Known limits": two claims of one address in one pass).
  std::set<std::string> mail_made_in_window_;
  // LDAP persons added since the last run: renamed before any run, the
  // entry is new to dirledger with its old address among its aliases,
  // which a mail object there (another account) holds: refused by design,
  // as above.
  std::set<std::string> ldap_made_in_window_;
  // One way, names whose source object met the target's own object since
  // the last run.
  std::set<std::string> target_own_in_window_;
  // One way, names whose source object was made since the last run.
  std::set<std::string> source_made_in_window_;
  int window_ = 0;                       // runs since the baseline
  std::map<std::string, Values> drift_;  // one way: target fields changed
  std::set<std::string> first_meet_;     // one way: linked to a target's own
  std::set<std::string> gone_persons_;   // deleted or moved, either side
  std::set<std::string> apart_;  // left apart by a rollback or a restore
  std::set<std::string> preexisting_[2];
  // A mail object that existed before the first run and is seen gone is no
  // longer that object: one at its address later (a rename's, an add's) is
  // another. (LDAP entries are told apart by entryUUID.)
  void ForgetGonePreexisting(const World& w) {
    std::erase_if(preexisting_[kMail], [&](const std::string& n) {
      return !w.side[kMail].count(n);
    });
  }
  // The name of an object on `side` other than `name` whose aliases hold
  // `alias`, or "".
  std::string AliasHolder(int side, const std::string& name,
                          const std::string& alias) const {
    for (const auto& [n, o] : now_.side[side])
      if (n != name && o.image.count("aliases") &&
          o.image.at("aliases").count(alias))
        return n;
    return "";
  }
  // The entryUUIDs of the LDAP entries made before the first run: an entry
  // a rollback made again at such a DN (its old self moved out of the base
  // and still there), or one its administrator made again, is not the one
  // that existed.
  std::map<std::string, std::string> preexisting_uuid_;
  bool Preexisting(const World& w, int side, const std::string& name) const {
    if (!preexisting_[side].count(name) || !w.side[side].count(name))
      return false;
    if (side != kLdap) return true;
    auto it = preexisting_uuid_.find(name);
    return it == preexisting_uuid_.end() ||
           it->second == w.side[kLdap].at(name).uuid;
  }
  std::map<std::string, std::string> descriptions_;  // name -> value
  std::vector<Point> points_;
  struct Saved {
    std::string dir;
    std::uint64_t seq;
    World world;
  };
  std::vector<Saved> backups_;
  bool rebase_next_ = false;
  std::vector<nlohmann::json> status_;  // `status --json` at the last settle
};

void Sequence::LdapAddPerson(const std::string& name, bool initial) {
  ldap_made_in_window_.insert(name);
  const std::string title = Value("t"), dept = Value("d");
  const std::string desc = Value("keep");
  std::string ldif =
      "dn: uid=" + name + kPeople +
      "\nchangetype: add\nobjectClass: inetOrgPerson\nuid: " + name +
      "\ncn: " + name + "\nsn: " + name + "\ngivenName: G" + name +
      "\ntitle: " + title + "\nou: " + dept + "\ndescription: " + desc +
      "\nmail: " + name + kDomain + "\n";
  Obj o;
  o.image = {{"firstName", {"G" + name}},
             {"lastName", {name}},
             {"title", {title}},
             {"department", {dept}}};
  o.description = desc;
  Step("ldap add uid=" + name + " (title " + title + ", ou " + dept + ")");
  Ldap(ldif);
  descriptions_[name] = desc;
  now_.side[kLdap][name] = o;
  if (initial) {
    preexisting_[kLdap].insert(name);
    World t;
    ParseLdap(slapd_->Search("(uid=" + name + ")", "'*' entryUUID"), &t);
    preexisting_uuid_[name] = t.side[kLdap][name].uuid;
  }
  Created(kLdap, name);
}

void Sequence::LdapSet(const std::string& name) {
  static const std::vector<std::string> fields = {"title", "department",
                                                  "mobilePhone", "displayName"};
  const std::string field = PickOf(fields);
  const std::string attr = field == "department"    ? "ou"
                           : field == "mobilePhone" ? "mobile"
                                                    : field;
  const bool remove = field != "title" && field != "department" && Chance(30);
  Obj& o = now_.side[kLdap][name];
  if (remove && !o.image.count(field)) return;
  std::optional<std::string> v;
  if (remove) {
    Step("ldap modify uid=" + name + ": delete " + attr);
    Ldap("dn: uid=" + name + kPeople + "\nchangetype: modify\ndelete: " + attr +
         "\n");
    o.image.erase(field);
  } else {
    v = Value(field.substr(0, 1));
    Step("ldap modify uid=" + name + ": " + attr + " = " + *v);
    Ldap("dn: uid=" + name + kPeople + "\nchangetype: modify\nreplace: " +
         attr + "\n" + attr + ": " + *v + "\n");
    o.image[field] = {*v};
  }
  Touch(kLdap, name, field, v);
}

void Sequence::LdapAlias(const std::string& name) {
  Obj& o = now_.side[kLdap][name];
  std::string alias = name + (Chance(50) ? ".a" : ".b") + kDomain;
  if (defects_.cross_account_aliases && Chance(30))
    alias = PickOf(PersonNames()) + ".a" + kDomain;
  const bool has =
      o.image.count("aliases") && o.image.at("aliases").count(alias);
  // One alias claimed by two objects is refused (docs/rules.md section
  // 8a): the refusal, a failure `run --once` reports with exit 1, is
  // tested in address_ownership_test and e2e_security, not modelled here.
  if (!has && (!AliasHolder(kLdap, name, alias).empty() ||
               !AliasHolder(kMail, name, alias).empty()))
    return;
  Step("ldap modify uid=" + name + ": " + (has ? "delete" : "add") + " mail " +
       alias);
  Ldap("dn: uid=" + name + kPeople + "\nchangetype: modify\n" +
       (has ? "delete" : "add") + ": mail\nmail: " + alias + "\n");
  if (has)
    o.image["aliases"].erase(alias);
  else
    o.image["aliases"].insert(alias);
  if (o.image["aliases"].empty()) o.image.erase("aliases");
  TouchSet(kLdap, name, "aliases", alias, !has);
}

void Sequence::LdapDelete(const std::string& name) {
  ldap_gone_in_window_.insert(name);
  Step("ldap delete uid=" + name);
  Ldap("dn: uid=" + name + kPeople + "\nchangetype: delete\n");
  now_.side[kLdap].erase(name);
  DropFromLdapGroups(name, true);
  Deleted(kLdap, name);
}

void Sequence::LdapMoveOut(const std::string& name) {
  ldap_gone_in_window_.insert(name);
  Step("ldap move uid=" + name + " out of the base (to ou=outside)");
  Ldap("dn: uid=" + name + kPeople + "\nchangetype: modrdn\nnewrdn: uid=" +
       name + "\ndeleteoldrdn: 1\nnewsuperior: ou=outside,dc=example,dc=com\n");
  now_.outside.insert(name);
  if (auto it = now_.side[kLdap][name].image.find("aliases");
      it != now_.side[kLdap][name].image.end())
    now_.outside_aliases[name] = it->second;
  now_.side[kLdap].erase(name);
  DropFromLdapGroups(name, false);
  Deleted(kLdap, name);
}

void Sequence::LdapMoveIn(const std::string& name) {
  Step("ldap move uid=" + name + " back into the base");
  Ldap("dn: uid=" + name + kOutside + "\nchangetype: modrdn\nnewrdn: uid=" +
       name + "\ndeleteoldrdn: 1\nnewsuperior: ou=people,dc=example,dc=com\n");
  now_.outside.erase(name);
  World t;
  ParseLdap(slapd_->Search("(uid=" + name + ")", "'*' entryUUID"), &t);
  if (!t.side[kLdap].count(name))
    Fail("uid=" + name + " not found after the move");
  now_.side[kLdap][name] = t.side[kLdap][name];
  // refint renamed its DN in the groups back: they list it again.
  World g;
  ParseLdap(slapd_->Search("(objectClass=groupOfNames)", "'*' entryUUID"), &g);
  for (const auto& [n, o] : g.side[kLdap])
    if (now_.side[kLdap].count(n)) now_.side[kLdap][n].image = o.image;
  Created(kLdap, name);
}

void Sequence::LdapRename(const std::string& name) {
  // Not onto a name a group lists (a member that does not exist yet): slapd
  // would make the renamed entry that member, and refint, renaming the DN
  // on, merge the two values; the model does not describe it (seed
  // 7800093; docs/rules.md "Known limits": renames while groups change).
  auto listed = [&](const std::string& n) {
    for (const auto& [g, o] : now_.side[kLdap])
      if (o.group && o.image.count("members") && o.image.at("members").count(n))
        return true;
    return false;
  };
  std::string to;
  for (const std::string& n : PersonNames())
    if (!now_.side[kLdap].count(n) && !now_.side[kMail].count(n) &&
        !now_.outside.count(n) && !AddressHeldAsAlias(n) && !listed(n))
      to = n;
  if (to.empty() || mail_made_in_window_.count(name) ||
      ldap_made_in_window_.count(name))
    return;
  renamed_in_window_.insert(name);
  renamed_in_window_.insert(to);
  Step("ldap rename uid=" + name + " to uid=" + to);
  Ldap("dn: uid=" + name + kPeople + "\nchangetype: modrdn\nnewrdn: uid=" + to +
       "\ndeleteoldrdn: 1\n");
  now_.side[kLdap][to] = now_.side[kLdap][name];
  now_.side[kLdap].erase(name);
  // Its `mail` still names the old address: an alias now.
  now_.side[kLdap][to].image["aliases"].insert(name + kDomain);
  Deleted(kLdap, name);
  Created(kLdap, to);
  rebase_next_ = true;
}

void Sequence::LdapAddGroup(const std::string& name, bool initial) {
  // Members from every name, existing or not: those who do not exist yet
  // are late members.
  std::set<std::string> members;
  const int n = 1 + Pick(3);
  for (int i = 0; i < n; ++i) members.insert(PickOf(PersonNames()));
  const std::string desc = Value("gd");
  std::string ldif =
      "dn: cn=" + name + kGroups +
      "\nchangetype: add\nobjectClass: groupOfNames\ncn: " + name +
      "\ndescription: " + desc + "\n";
  for (const std::string& m : members)
    ldif += "member: uid=" + m + kPeople + "\n";
  Step("ldap add group cn=" + name + " members " + Show(members) +
       " description " + desc);
  Ldap(ldif);
  Obj o;
  o.group = true;
  o.image["displayName"] = {desc};
  o.image["members"] = members;
  now_.side[kLdap][name] = o;
  if (initial) {
    preexisting_[kLdap].insert(name);
    World t;
    ParseLdap(slapd_->Search("(cn=" + name + ")", "'*' entryUUID"), &t);
    preexisting_uuid_[name] = t.side[kLdap][name].uuid;
  }
  Created(kLdap, name);
  for (const std::string& m : members)
    TouchSet(kLdap, name, "members", m, true);
}

void Sequence::LdapGroupMember(const std::string& name) {
  Obj& o = now_.side[kLdap][name];
  // What refint did to the group is read, not foreseen (it drops only the
  // DNs of entries it knew as members).
  World g;
  ParseLdap(slapd_->Search("(cn=" + name + ")", "'*' entryUUID"), &g);
  if (g.side[kLdap].count(name)) {
    o.image.erase("members");
    if (g.side[kLdap][name].image.count("members"))
      o.image["members"] = g.side[kLdap][name].image["members"];
  }
  Values& members = o.image["members"];
  const std::string who = PickOf(PersonNames());
  const bool has = members.count(who) > 0;
  if (has && members.size() == 1) return;  // groupOfNames needs a member
  Step("ldap group cn=" + name + ": " + (has ? "delete" : "add") +
       " member uid=" + who);
  Ldap("dn: cn=" + name + kGroups + "\nchangetype: modify\n" +
       (has ? "delete" : "add") + ": member\nmember: uid=" + who + kPeople +
       "\n");
  if (has)
    members.erase(who);
  else
    members.insert(who);
  TouchSet(kLdap, name, "members", who, !has);
}

void Sequence::LdapDeleteGroup(const std::string& name) {
  Step("ldap delete group cn=" + name);
  Ldap("dn: cn=" + name + kGroups + "\nchangetype: delete\n");
  now_.side[kLdap].erase(name);
  Deleted(kLdap, name);
}

void Sequence::MailAddPerson(const std::string& name, bool initial) {
  const std::string title = Value("mt");
  mail_made_in_window_.insert(name);
  Step("mail add " + name + kDomain + " firstName=M" + name +
       " lastName=" + name + " title=" + title);
  Dl({"mail", "add", name + kDomain, "firstName=M" + name, "lastName=" + name,
      "title=" + title});
  Obj o;
  o.image = {
      {"firstName", {"M" + name}}, {"lastName", {name}}, {"title", {title}}};
  now_.side[kMail][name] = o;
  if (initial) preexisting_[kMail].insert(name);
  Created(kMail, name);
}

void Sequence::MailSet(const std::string& name) {
  static const std::vector<std::string> fields = {"title", "department",
                                                  "mobilePhone", "displayName"};
  const std::string field = PickOf(fields);
  Obj& o = now_.side[kMail][name];
  const bool remove = field != "title" && field != "department" && Chance(30);
  if (remove && !o.image.count(field)) return;
  std::optional<std::string> v;
  if (remove) {
    Step("mail set " + name + kDomain + " " + field + "=");
    Dl({"mail", "set", name + kDomain, field + "="});
    o.image.erase(field);
  } else {
    v = Value("m" + field.substr(0, 1));
    Step("mail set " + name + kDomain + " " + field + "=" + *v);
    Dl({"mail", "set", name + kDomain, field + "=" + *v});
    o.image[field] = {*v};
  }
  Touch(kMail, name, field, v);
}

void Sequence::MailAlias(const std::string& name) {
  Obj& o = now_.side[kMail][name];
  std::string alias = name + (Chance(50) ? ".a" : ".c") + kDomain;
  if (defects_.cross_account_aliases && Chance(30))
    alias = PickOf(PersonNames()) + ".c" + kDomain;
  const bool has =
      o.image.count("aliases") && o.image.at("aliases").count(alias);
  // An alias an LDAP entry claims is not modelled as contested (LdapAlias).
  if (!has && !AliasHolder(kLdap, name, alias).empty()) return;
  // An address belongs to one mail object: the directory refuses an alias
  // another one holds, naming the holder, and changes nothing.
  std::string holder = AliasHolder(kMail, name, alias);
  if (!holder.empty()) holder += kDomain;
  Step("mail set " + name + kDomain + " aliases" + (has ? "-=" : "+=") + alias +
       (has || holder.empty() ? "" : " (refused: " + holder + ")"));
  CliResult r = Dl({"mail", "set", name + kDomain,
                    std::string("aliases") + (has ? "-=" : "+=") + alias},
                   has || holder.empty() ? 0 : 1);
  if (!has && !holder.empty()) {
    if (r.err.find("it is an alias of " + holder) == std::string::npos)
      Fail("the refusal does not name " + holder + ":\n" + r.Describe());
    return;
  }
  if (has)
    o.image["aliases"].erase(alias);
  else
    o.image["aliases"].insert(alias);
  if (o.image["aliases"].empty()) o.image.erase("aliases");
  TouchSet(kMail, name, "aliases", alias, !has);
}

void Sequence::MailRemove(const std::string& name) {
  Step("mail remove " + name + kDomain);
  Dl({"mail", "remove", name + kDomain});
  const bool group = now_.side[kMail][name].group;
  now_.side[kMail].erase(name);
  if (!group)
    for (auto& [g, o] : now_.side[kMail])
      if (o.group && o.image.count("members")) {
        o.image["members"].erase(name);
        if (o.image["members"].empty()) o.image.erase("members");
      }
  Deleted(kMail, name);
}

void Sequence::MailAddGroup(const std::string& name) {
  std::vector<std::string> args = {"mail", "add", name + kDomain, "kind=group"};
  const std::string desc = Value("mg");
  args.push_back("displayName=" + desc);
  std::set<std::string> members;
  for (const auto& [n, o] : now_.side[kMail])
    if (!o.group && Chance(50)) members.insert(n);
  for (const std::string& m : members)
    args.push_back("members+=" + m + kDomain);
  Step("mail add " + name + kDomain + " kind=group displayName=" + desc +
       " members " + Show(members));
  Dl(args);
  Obj o;
  o.group = true;
  o.image["displayName"] = {desc};
  if (!members.empty()) o.image["members"] = members;
  now_.side[kMail][name] = o;
  Created(kMail, name);
  for (const std::string& m : members)
    TouchSet(kMail, name, "members", m, true);
}

void Sequence::MailGroupMember(const std::string& name) {
  Obj& o = now_.side[kMail][name];
  std::vector<std::string> accounts;
  for (const auto& [n, x] : now_.side[kMail])
    if (!x.group) accounts.push_back(n);
  if (accounts.empty()) return;
  const std::string who = PickOf(accounts);
  const bool has = o.image["members"].count(who) > 0;
  Step("mail set " + name + kDomain + " members" + (has ? "-=" : "+=") + who +
       kDomain);
  Dl({"mail", "set", name + kDomain,
      std::string("members") + (has ? "-=" : "+=") + who + kDomain});
  if (has)
    o.image["members"].erase(who);
  else
    o.image["members"].insert(who);
  if (o.image["members"].empty()) o.image.erase("members");
  TouchSet(kMail, name, "members", who, !has);
}

void Sequence::RunOnce() {
  Step("dirledger run --once");
  Dl({"run", "--once"});
  ++window_;
  ldap_gone_in_window_.clear();
  renamed_in_window_.clear();
  mail_made_in_window_.clear();
  ldap_made_in_window_.clear();
  target_own_in_window_.clear();
  source_made_in_window_.clear();
  World w = Observe();
  ForgetGonePreexisting(w);
  if (config_.both()) {
    now_ = w;
  } else {
    // One way, the source keeps what its editors made until the next
    // settle checks it: a change dirledger made to it must not be taken in.
    const int dst = 1 - config_.source();
    now_.side[dst] = w.side[dst];
  }
}

// `run --once` until a run writes nothing; fails after 6 runs that write.
void Sequence::RunUntilIdle(const std::string& when) {
  ldap_gone_in_window_.clear();
  renamed_in_window_.clear();
  mail_made_in_window_.clear();
  ldap_made_in_window_.clear();
  target_own_in_window_.clear();
  source_made_in_window_.clear();
  for (int i = 0;; ++i) {
    CliResult r = Dl({"run", "--once"});
    if (Contains(r.err, ", 0 writes applied, 0 failed")) return;
    if (i >= 5)
      Fail("not settled " + when +
           ": the 6th run --once in a row still wrote:\n" + r.err);
  }
}

// Runs until a run writes nothing, then checks the model.
void Sequence::Settle(bool rebase) {
  Step("settle: dirledger run --once until a run writes nothing, then check");
  RunUntilIdle("settling");
  World w = Observe();
  status_ = Dl({"status", "--json"}).Json();
  Check(w, rebase || rebase_next_);
  ForgetGonePreexisting(w);
  if (rebase || rebase_next_)
    for (const auto& [n, o] : w.side[kLdap])
      if (!o.group) descriptions_[n] = o.description;
  now_ = w;
  base_ = w;
  for (auto& e : edits_) e.clear();
  window_ = 0;
  gone_persons_.clear();
  rebase_next_ = false;
  points_.push_back({LastSeqOf(status_), w});
}

std::set<std::string> Sequence::OpenConflicts(
    std::map<std::string, Values>* fields) {
  std::set<std::string> out;
  for (const auto& j : status_) {
    if (j.value("type", "") != "conflict") continue;
    std::string id = j.value("mail_id", "");
    id = Lower(id.substr(0, id.find('@')));
    out.insert(id);
    if (j.contains("fields"))
      for (const auto& f : j["fields"])
        (*fields)[id].insert(f.get<std::string>());
  }
  return out;
}

void Sequence::Check(const World& w, bool rebase) {
  std::ostringstream bad;
  auto image_of = [&](int s, const std::string& n) -> const Obj* {
    auto it = w.side[s].find(n);
    return it == w.side[s].end() ? nullptr : &it->second;
  };
  // A member counts where both sides can represent it: an account on both.
  auto resolvable = [&](const std::string& m) {
    const Obj* l = image_of(kLdap, m);
    const Obj* a = image_of(kMail, m);
    return l && a && !l->group && !a->group;
  };
  auto restricted = [&](Image im) {
    if (im.count("members")) {
      Values keep;
      for (const auto& m : im["members"])
        if (resolvable(m)) keep.insert(m);
      if (keep.empty())
        im.erase("members");
      else
        im["members"] = keep;
    }
    return im;
  };

  std::map<std::string, Values> conflict_fields;
  if (config_.both()) OpenConflicts(&conflict_fields);

  // Unmapped attributes survive on entries dirledger did not re-create.
  // A rollback (or a restore) brings back the point's entries, whole (the
  // entry at a DN may be given an earlier entry's values): from the next
  // settle on, the values seen then are the ones that must survive.
  for (const auto& [n, o] : w.side[kLdap]) {
    auto d = descriptions_.find(n);
    if (rebase || o.group || d == descriptions_.end()) continue;
    const Obj* before = nullptr;
    if (auto it = base_.side[kLdap].find(n); it != base_.side[kLdap].end())
      before = &it->second;
    if (before && before->uuid == o.uuid && before->description == d->second &&
        o.description != d->second)
      bad << "ldap uid=" << n << ": unmapped description \"" << d->second
          << "\" became \"" << o.description << "\" (no side changed it)\n";
  }

  if (rebase) {
    // After a rollback, a restore or a move into the base the test predicts
    // no values; what is apart now is left out of the agreement checks.
    for (int s = 0; s < 2; ++s)
      for (const auto& [n, o] : w.side[s]) {
        const Obj* other = image_of(1 - s, n);
        if (!other || restricted(other->image) != restricted(o.image))
          apart_.insert(n);
      }
  } else if (!config_.both()) {
    const int src = config_.source(), dst = 1 - src;
    // The source holds what its editors made.
    for (const auto& [n, o] : now_.side[src]) {
      const Obj* got = image_of(src, n);
      if (!got) {
        bad << SideName(src) << " " << n
            << ": gone, though no one deleted it\n";
        continue;
      }
      // A member whose person went may leave with it (LDAP's refint, the
      // mail directory).
      Image want = o.image, have = got->image;
      for (Image* im : {&want, &have}) {
        if (!im->count("members")) continue;
        for (const std::string& m : gone_persons_) (*im)["members"].erase(m);
        if ((*im)["members"].empty()) im->erase("members");
      }
      if (want != have)
        bad << SideName(src) << " " << n << " (the source): has "
            << Show(got->image) << ", its editors made " << Show(o.image)
            << "\n";
    }
    for (const auto& [n, o] : w.side[src])
      if (!now_.side[src].count(n) && !apart_.count(n))
        bad << SideName(src) << " " << n
            << " (the source): exists, though no one made it\n";
    // The target holds the source's mapped image, less drift.
    for (const auto& [n, o] : w.side[src]) {
      if (drift_[n].count("*") || apart_.count(n)) continue;
      const Obj* t = image_of(dst, n);
      if (!t) {
        bad << SideName(dst) << " " << n << ": missing; the source has "
            << Show(o.image) << "\n";
        continue;
      }
      Image want = restricted(o.image), have = restricted(t->image);
      if (first_meet_.count(n))
        for (auto it = have.begin(); it != have.end();)
          it = want.count(it->first) ? std::next(it) : have.erase(it);
      for (const auto& f : drift_[n]) {
        want.erase(f);
        have.erase(f);
      }
      if (want != have)
        bad << SideName(dst) << " " << n << ": has " << Show(have)
            << ", the source's image is " << Show(want) << "\n";
    }
    for (const auto& [n, o] : w.side[dst])
      if (!w.side[src].count(n) && !drift_[n].count("*") && !apart_.count(n))
        bad << SideName(dst) << " " << n << ": exists (" << Show(o.image)
            << ") without a source object\n";
  } else {
    // Both ways: the sides agree, less open conflicts.
    std::set<std::string> names;
    for (int s = 0; s < 2; ++s)
      for (const auto& [n, o] : w.side[s]) names.insert(n);
    for (const std::string& n : names) {
      if (apart_.count(n)) continue;
      const Obj* l = image_of(kLdap, n);
      const Obj* a = image_of(kMail, n);
      if (!l || !a) {
        if (conflict_fields[n].count("exists")) continue;
        bad << n << ": only on " << (l ? "ldap " : "mail ")
            << Show((l ? l : a)->image) << "\n";
        continue;
      }
      Image li = restricted(l->image), ai = restricted(a->image);
      for (const auto& f : conflict_fields[n]) {
        li.erase(f);
        ai.erase(f);
      }
      if (li != ai)
        bad << n << ": the sides differ: ldap " << Show(li) << ", mail "
            << Show(ai) << "\n";
    }
    // Values: what one side changed since the baseline is on both; what
    // both changed is the winner's; set values no side removed stay.
    for (const std::string& n : names) {
      const ObjEdits& le = edits_[kLdap][n];
      const ObjEdits& me = edits_[kMail][n];
      if (le.created || le.deleted || me.created || me.deleted) continue;
      if (apart_.count(n) || !base_.side[kLdap].count(n) ||
          !base_.side[kMail].count(n))
        continue;
      const Obj* l = image_of(kLdap, n);
      const Obj* a = image_of(kMail, n);
      if (!l || !a) {
        bad << n << ": gone, though no side deleted it\n";
        continue;
      }
      std::set<std::string> fields;
      for (const auto& [f, v] : le.fields) fields.insert(f);
      for (const auto& [f, v] : me.fields) fields.insert(f);
      for (const std::string& f : fields) {
        auto lv = le.fields.find(f), mv = me.fields.find(f);
        std::optional<std::string> want;
        bool mixed = false;
        if (lv != le.fields.end() && mv != me.fields.end() &&
            lv->second != mv->second) {
          const int lw = le.field_window.at(f), mw = me.field_window.at(f);
          if (lw > mw) {
            want = lv->second;
          } else if (mw > lw) {
            want = mv->second;
          } else {
            if (config_.resolution == "ldap_wins") want = lv->second;
            if (config_.resolution == "axigen_wins") want = mv->second;
            if (config_.resolution == "no_change") mixed = true;
          }
        } else {
          want = lv != le.fields.end() ? lv->second : mv->second;
        }
        auto value = [&](const Obj* o) -> std::optional<std::string> {
          auto it = o->image.find(f);
          if (it == o->image.end() || it->second.empty()) return std::nullopt;
          return *it->second.begin();
        };
        if (mixed) {
          if (value(l) != lv->second || value(a) != mv->second)
            bad << n << "." << f
                << ": under no_change each side keeps its own ("
                << lv->second.value_or("<none>") << " / "
                << mv->second.value_or("<none>") << "), seen "
                << value(l).value_or("<none>") << " / "
                << value(a).value_or("<none>") << "\n";
          continue;
        }
        if (conflict_fields[n].count(f)) continue;
        if (value(l) != want || value(a) != want)
          bad << n << "." << f << ": expected " << want.value_or("<none>")
              << " on both sides, seen ldap " << value(l).value_or("<none>")
              << ", mail " << value(a).value_or("<none>") << "\n";
      }
      // Aliases are one field: a side's edits give its set; edited on both
      // sides, it is a conflict like any field.
      {
        auto edited = [&](int side, const ObjEdits& e, Values* out) {
          *out = base_.side[side][n].image["aliases"];
          auto it = e.sets.find("aliases");
          if (it == e.sets.end()) return false;
          for (const auto& [v, added] : it->second)
            if (added)
              out->insert(v);
            else
              out->erase(v);
          return true;
        };
        auto has = [&](const Obj* o) {
          auto it = o->image.find("aliases");
          return it == o->image.end() ? Values{} : it->second;
        };
        Values el, em;
        const bool bl = edited(kLdap, le, &el), bm = edited(kMail, me, &em);
        Values want_l = el, want_m = em;
        bool skip = false;
        if (bl && bm) {
          const auto lw = le.set_windows.at("aliases");
          const auto mw = me.set_windows.at("aliases");
          if (lw.second < mw.first || mw.second < lw.first) {
            // One after the other: the later side's edits apply to what
            // the earlier one's became.
            const bool ldap_first = lw.second < mw.first;
            Values merged = base_.side[kLdap][n].image["aliases"];
            for (const ObjEdits* e :
                 {ldap_first ? &le : &me, ldap_first ? &me : &le})
              for (const auto& [v, added] : e->sets.at("aliases"))
                if (added)
                  merged.insert(v);
                else
                  merged.erase(v);
            el = em = merged;
          } else if (lw != mw || lw.first != lw.second) {
            skip = true;  // interleaved across runs: no single prediction
          }
          want_l = el;
          want_m = em;
        }
        if (skip || conflict_fields[n].count("aliases")) {
          // open (or unpredictable): each side keeps its own
          if (skip) want_l = has(l), want_m = has(a);
        } else if (bl && bm && el != em) {
          if (config_.resolution == "ldap_wins") want_m = el;
          if (config_.resolution == "axigen_wins") want_l = em;
        } else if (bl) {
          want_m = el;
        } else if (bm) {
          want_l = em;
        }
        if (has(l) != want_l || has(a) != want_m)
          bad << n << ".aliases: expected ldap " << Show(want_l) << ", mail "
              << Show(want_m) << " (edited: ldap " << (bl ? "yes" : "no")
              << ", mail " << (bm ? "yes" : "no") << "), seen ldap "
              << Show(has(l)) << ", mail " << Show(has(a)) << "\n";
      }
      for (const std::string set : {"members"}) {
        Values all;
        auto bl = base_.side[kLdap][n].image.find(set);
        if (bl != base_.side[kLdap][n].image.end())
          all.insert(bl->second.begin(), bl->second.end());
        for (const ObjEdits* e : {&le, &me})
          if (auto it = e->sets.find(set); it != e->sets.end())
            for (const auto& [v, added] : it->second) all.insert(v);
        for (const std::string& v : all) {
          if (set == "members" && (!resolvable(v) || gone_persons_.count(v)))
            continue;
          std::optional<bool> lop, mop;
          if (auto it = le.sets.find(set); it != le.sets.end())
            if (auto x = it->second.find(v); x != it->second.end())
              lop = x->second;
          if (auto it = me.sets.find(set); it != me.sets.end())
            if (auto x = it->second.find(v); x != it->second.end())
              mop = x->second;
          bool want = lop ? *lop : mop ? *mop : true;
          if (lop && mop && *lop != *mop) {
            const int lw = le.value_window.at(set).at(v);
            const int mw = me.value_window.at(set).at(v);
            if (lw == mw) continue;
            want = lw > mw ? *lop : *mop;
          }
          auto has = [&](const Obj* o) {
            auto it = o->image.find(set);
            return it != o->image.end() && it->second.count(v) > 0;
          };
          if (has(l) != want || has(a) != want)
            bad << n << "." << set << " " << v << ": expected "
                << (want ? "present" : "absent") << " on both sides ("
                << (lop || mop ? "a side changed it" : "no side removed it")
                << "), seen ldap " << (has(l) ? "present" : "absent")
                << ", mail " << (has(a) ? "present" : "absent") << "\n";
        }
      }
    }
  }
  if (!bad.str().empty()) Fail("the model disagrees:\n" + bad.str());
}

void Sequence::CheckRollback(const Point& p, const World& before,
                             const World& w) {
  std::ostringstream bad;
  auto restrict_members = [&](Image im, const World& at) {
    if (!im.count("members")) return im;
    Values keep;
    for (const auto& m : im["members"])
      if (at.side[kLdap].count(m) && at.side[kMail].count(m) &&
          w.side[kLdap].count(m) && w.side[kMail].count(m) &&
          (defects_.rollback_members ||
           (before.side[kLdap].count(m) && before.side[kMail].count(m))))
        keep.insert(m);
    if (keep.empty())
      im.erase("members");
    else
      im["members"] = keep;
    return im;
  };
  for (int s = 0; s < 2; ++s) {
    for (const auto& [n, o] : p.world.side[s]) {
      auto it = w.side[s].find(n);
      if (it == w.side[s].end()) {
        bad << SideName(s) << " " << n << ": existed at seq " << p.seq
            << " but not after the rollback\n";
        continue;
      }
      const Image want = restrict_members(o.image, p.world);
      const Image have = restrict_members(it->second.image, p.world);
      if (want != have)
        bad << SideName(s) << " " << n << ": " << Show(have)
            << " after the rollback, " << Show(want) << " at seq " << p.seq
            << "\n";
    }
    for (const auto& [n, o] : w.side[s])
      if (!p.world.side[s].count(n) && p.seq > 1)
        bad << SideName(s) << " " << n << ": created after seq " << p.seq
            << " and still there after the rollback\n";
    for (const std::string& n : preexisting_[s])
      if (Preexisting(before, s, n) && !w.side[s].count(n))
        bad << SideName(s) << " " << n
            << ": existed before dirledger first ran, deleted by the "
               "rollback\n";
  }
  if (!bad.str().empty())
    Fail("rollback to seq " + std::to_string(p.seq) + ":\n" + bad.str());
}

void Sequence::Rollback() {
  Point p;
  if (Chance(15) && defects_.rollback_to_start) {
    p.seq = 1;  // before the first run saw anything
  } else {
    p = PickOf(points_);
  }
  // A rollback undoes what the log holds: every edit is taken in first.
  Step("run --once until idle; dirledger rollback --to " +
       std::to_string(p.seq) + " --yes; run --once until idle");
  RunUntilIdle("before the rollback");
  const World before = Observe();
  Dl({"rollback", "--to", std::to_string(p.seq), "--yes"});
  RunUntilIdle("after the rollback");
  const World w = Observe();
  if (p.seq > 1)
    CheckRollback(p, before, w);
  else {
    std::ostringstream bad;
    for (int s = 0; s < 2; ++s)
      for (const std::string& n : preexisting_[s])
        if (Preexisting(before, s, n) && !w.side[s].count(n))
          bad << SideName(s) << " " << n
              << ": existed before dirledger first ran, deleted by the "
                 "rollback\n";
    if (!bad.str().empty()) Fail("rollback to seq 1:\n" + bad.str());
  }
  now_ = w;
  rebase_next_ = true;
}

void Sequence::Backup() {
  const std::string dir =
      tmp_.path() + "/backup" + std::to_string(backups_.size());
  Step("dirledger backup " + dir);
  // What the mail directory holds and the log's head at the backup.
  Dl({"backup", dir});
  backups_.push_back({dir, LastSeq(), Observe()});
}

void Sequence::Restore() {
  const Saved b = PickOf(backups_);
  Step("dirledger restore " + b.dir + " --yes");
  Dl({"restore", b.dir, "--yes"});
  const World w = Observe();
  std::ostringstream bad;
  for (const auto& [n, o] : b.world.side[kMail]) {
    auto it = w.side[kMail].find(n);
    if (it == w.side[kMail].end() || it->second.image != o.image)
      bad << "mail " << n << ": " << Show(o.image) << " at the backup, "
          << (it == w.side[kMail].end() ? "missing" : Show(it->second.image))
          << " after the restore\n";
  }
  for (const auto& [n, o] : w.side[kMail])
    if (!b.world.side[kMail].count(n))
      bad << "mail " << n << ": not in the backup, there after the restore\n";
  if (!bad.str().empty()) Fail("restore:\n" + bad.str());
  // Points recorded after the backup name events the restore took away.
  std::vector<Point> kept;
  for (const Point& p : points_)
    if (p.seq <= b.seq) kept.push_back(p);
  points_ = kept;
  std::vector<Saved> bk;
  for (const Saved& s : backups_)
    if (s.seq <= b.seq) bk.push_back(s);
  backups_ = bk;
  now_ = w;
  rebase_next_ = true;
}

void Sequence::RandomStep() {
  auto names_on = [&](int s, bool group) {
    std::vector<std::string> out;
    for (const auto& [n, o] : now_.side[s])
      if (o.group == group) out.push_back(n);
    return out;
  };
  auto free_names = [&](const std::vector<std::string>& pool) {
    std::vector<std::string> out;
    for (const std::string& n : pool)
      if (!now_.side[kLdap].count(n) && !now_.side[kMail].count(n) &&
          !now_.outside.count(n))
        out.push_back(n);
    return out;
  };
  const std::vector<std::string> lp = names_on(kLdap, false);
  const std::vector<std::string> lg = names_on(kLdap, true);
  const std::vector<std::string> mp = names_on(kMail, false);
  const std::vector<std::string> mg = names_on(kMail, true);
  const std::vector<std::string> fp = free_names(PersonNames());
  const std::vector<std::string> fg = free_names(GroupNames());
  std::vector<std::string> ldap_only;  // not on LDAP: for LDAP adds
  for (const std::string& n : PersonNames())
    if (!now_.side[kLdap].count(n) && !now_.outside.count(n) &&
        (defects_.ldap_readd || !ldap_gone_in_window_.count(n)) &&
        !AddressHeldAsAlias(n))
      ldap_only.push_back(n);
  std::vector<std::string> mail_free;  // not on mail: for mail adds
  for (const std::string& n : PersonNames())
    if (!now_.side[kMail].count(n) && !AddressHeldAsAlias(n) &&
        !renamed_in_window_.count(n))
      mail_free.push_back(n);
  // A rollback re-creates, at its DN in the base, an entry moved out since
  // the point; the entry outside stays there. Neither can move then. An
  // entry moved out since the last run stays out until the next: moved
  // back before it, dirledger sees a modify of an entry that never left,
  // which the model's edits (a delete, then a create) do not describe.
  std::vector<std::string> outside, movable;
  for (const std::string& n : now_.outside)
    if (!now_.side[kLdap].count(n) && !ldap_gone_in_window_.count(n))
      outside.push_back(n);
  for (const std::string& n : lp)
    if (!now_.outside.count(n)) movable.push_back(n);

  const int r = Pick(100);
  if (r < 12 && !ldap_only.empty())
    return LdapAddPerson(PickOf(ldap_only), false);
  if (r < 24 && !lp.empty()) return LdapSet(PickOf(lp));
  if (r < 28 && !lp.empty()) return LdapAlias(PickOf(lp));
  if (r < 32 && !lp.empty()) return LdapDelete(PickOf(lp));
  if (r < 35 && !movable.empty()) return LdapMoveOut(PickOf(movable));
  if (r < 37 && !outside.empty()) return LdapMoveIn(PickOf(outside));
  if (r < 39 && !lp.empty() && defects_.ldap_renames)
    return LdapRename(PickOf(lp));
  if (r < 43 && !fg.empty()) return LdapAddGroup(PickOf(fg), false);
  if (r < 50 && !lg.empty()) return LdapGroupMember(PickOf(lg));
  if (r < 51 && !lg.empty()) return LdapDeleteGroup(PickOf(lg));
  if (r < 56 && !mail_free.empty())
    return MailAddPerson(PickOf(mail_free), false);
  if (r < 64 && !mp.empty()) return MailSet(PickOf(mp));
  if (r < 67 && !mp.empty()) return MailAlias(PickOf(mp));
  if (r < 70 && !mp.empty()) return MailRemove(PickOf(mp));
  if (r < 73 && !fg.empty()) return MailAddGroup(PickOf(fg));
  if (r < 77 && !mg.empty()) return MailGroupMember(PickOf(mg));
  if (r < 88) return RunOnce();
  if (r < 93) return Settle(false);
  if (r < 96 && !points_.empty()) return Rollback();
  if (r < 98) return Backup();
  if (!backups_.empty()) return Restore();
}

void Sequence::Run() {
  // A clean directory: this sequence's entries only.
  const std::string old = slapd_->Search(
      "(|(objectClass=inetOrgPerson)(objectClass=groupOfNames))", "1.1");
  std::string ldif;
  std::istringstream in(old);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("dn: ", 0) == 0) ldif += line + "\nchangetype: delete\n\n";
  if (!ldif.empty()) Ldap(ldif);

  E2eConfig c;
  c.direction = config_.direction;
  c.conflict_resolution = config_.resolution;
  c.group_sync = true;
  cli_.WriteConfig(ConfigText(c, slapd_->url(), slapd_->password_file()));

  // What exists before dirledger first runs.
  std::vector<std::string> names = PersonNames();
  std::shuffle(names.begin(), names.end(), rng_);
  LdapAddPerson(names[0], true);
  LdapAddPerson(names[1], true);
  if (Chance(50)) LdapAddGroup(GroupNames()[0], true);
  if (Chance(50)) MailAddPerson(names[2], true);
  Settle(/*rebase=*/false);

  const int steps = 6 + Pick(7);
  for (int i = 0; i < steps; ++i) {
    if (max_steps_ > 0 && static_cast<int>(steps_.size()) >= max_steps_) break;
    RandomStep();
  }
  Settle(false);
  Step("dirledger verify");
  Dl({"verify"});
}

std::uint64_t EnvNumber(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 10) : fallback;
}

TEST_CASE("model: random sequences on both sides stay within the rules",
          "[model]") {
  const bool sequences_set = std::getenv("MODEL_SEQUENCES") != nullptr;
  const std::uint64_t sequences = EnvNumber("MODEL_SEQUENCES", 50);
  const std::uint64_t seconds =
      EnvNumber("MODEL_SECONDS", sequences_set ? 0 : 540);
  const std::uint64_t seed = EnvNumber(
      "MODEL_SEED",
      static_cast<std::uint64_t>(
          std::chrono::system_clock::now().time_since_epoch().count()) %
          1000000000ULL);
  const int max_steps = static_cast<int>(EnvNumber("MODEL_STEPS", 0));
  const KnownDefects defects = Defects();
  std::cout << "model: seed " << seed << " (MODEL_SEED=" << seed
            << " reproduces this run)" << std::endl;

  TempDir tmp;
  SlapdServer slapd(tmp / "slapd",
                    static_cast<int>(EnvNumber("MODEL_PORT", kDefaultPort)), 0);
  REQUIRE(slapd.Modify("dn: ou=outside,dc=example,dc=com\nchangetype: add\n"
                       "objectClass: organizationalUnit\nou: outside\n") == 0);

  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&]() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                         start)
        .count();
  };
  std::uint64_t done = 0;
  int operations = 0;
  std::string failure;
  for (; done < sequences; ++done) {
    if (seconds > 0 && elapsed() > static_cast<double>(seconds)) break;
    const std::uint64_t s = seed + done;
    Sequence seq(&slapd, s, max_steps, defects);
    try {
      seq.Run();
    } catch (const Failure& f) {
      std::ostringstream os;
      os << "model: sequence " << done << " (" << seq.Describe()
         << ") failed; reproduce it with MODEL_SEED=" << s
         << " MODEL_SEQUENCES=1\nsteps:\n";
      for (const auto& st : seq.steps()) os << "  " << st << "\n";
      os << "failure: " << f.what() << "\n";
      operations += seq.operations();
      if (std::getenv("MODEL_KEEP_GOING")) {
        std::cout << os.str() << std::flush;
        failure += "sequence " + std::to_string(done) + " failed (seed " +
                   std::to_string(s) + ")\n";
        continue;
      }
      failure = os.str();
      ++done;
      break;
    }
    operations += seq.operations();
  }
  char line[200];
  std::snprintf(line, sizeof line,
                "model: %llu sequences, %d operations, seed %llu, %.0f s",
                static_cast<unsigned long long>(done), operations,
                static_cast<unsigned long long>(seed), elapsed());
  std::cout << line << std::endl;
  WriteFile(DIRLEDGER_MODEL_SUMMARY, std::string(line) + "\n");
  if (!failure.empty()) {
    std::cout << failure << std::flush;
    FAIL(failure);
  }
  const std::uint64_t needed = std::min<std::uint64_t>(50, sequences);
  INFO("only " << done << " sequences ran within " << seconds << " s; at least "
               << needed << " must");
  REQUIRE(done >= needed);
}

}  // namespace
}  // namespace dirledger::test

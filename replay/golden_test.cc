// Golden decision streams: whole histories decided and rendered as text
// (replay/decision_text.h), compared with the checked-in files under
// replay/testdata/. A change of any decision, rule or reason shows as a
// diff of readable text. DIRLEDGER_UPDATE_GOLDEN=1 rewrites the files
// (review the diff before committing it).
#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "replay/replay_test_util.h"

namespace dirledger::testing {
namespace {

ObservedChange Set(ObservedChange c, const std::string& name,
                   std::vector<std::string> values) {
  SetAttr(&c.attrs, name, std::move(values));
  return c;
}

ObservedChange LJdoe() {
  return LdapPerson("0a1b2c3d-0000-4000-8000-000000000001", "jdoe",
                    {{"givenName", {"John"}},
                     {"sn", {"Doe"}},
                     {"title", {"Engineer"}},
                     {"telephoneNumber", {"+1 555 0100"}}});
}
ObservedChange MJdoe() {
  return MailObject("jdoe@example.com", {{"firstName", {"John"}},
                                         {"lastName", {"Doe"}},
                                         {"title", {"Engineer"}},
                                         {"businessPhone", {"+1 555 0100"}}});
}

void Compare(const std::string& name, const std::string& text) {
  const std::string path =
      std::string(DIRLEDGER_REPLAY_TESTDATA) + "/" + name + ".txt";
  if (const char* update = std::getenv("DIRLEDGER_UPDATE_GOLDEN");
      update && std::string(update) == "1") {
    std::ofstream(path, std::ios::binary) << text;
  }
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::stringstream golden;
  golden << in.rdbuf();
  // Line by line, so a failure names the first line that differs.
  std::istringstream want(golden.str()), got(text);
  std::string w, g;
  int line = 0;
  while (true) {
    const bool more_w = static_cast<bool>(std::getline(want, w));
    const bool more_g = static_cast<bool>(std::getline(got, g));
    ++line;
    if (!more_w && !more_g) break;
    INFO(path << ":" << line);
    REQUIRE(g == w);
  }
}

// Applies every intent of the last decision with an ok outcome.
void ApplyAll(Scenario& s) {
  const std::vector<Intent> intents = s.decisions().back().intents;
  for (const Intent& i : intents) s.Feed(OkOutcome(i));
}

}  // namespace

TEST_CASE("golden: ldap_to_axigen lifecycle", "[golden]") {
  Scenario s;
  s.Feed(CursorAdvance{"corp/syncrepl", "rid=001,csn=1"});
  s.Feed(LJdoe());
  ApplyAll(s);
  s.Feed(MJdoe());                          // echo
  s.Feed(Set(LJdoe(), "title", {"Lead"}));  // propagated
  s.Feed(Set(MJdoe(), "title", {"Lead"}));  // echo before outcome
  s.Feed(Set(Set(MJdoe(), "title", {"Lead"}), "lastName", {"D."}));  // drift
  s.Feed(LdapDelete(LJdoe().id, LJdoe().dn));  // delete propagated
  ApplyAll(s);
  s.Feed(MailDelete("jdoe@example.com"));  // echo; link dropped
  Compare("ldap_to_axigen_lifecycle", s.Text());
}

TEST_CASE("golden: both_ways conflicts, merges, delete against modify",
          "[golden]") {
  ConnectorOptions o;
  o.direction = "both_ways";
  o.resolution = "ldap_wins";
  Scenario s(o);
  s.Feed(LJdoe());
  s.Feed(MJdoe());                              // echo of the add
  s.Feed(Set(MJdoe(), "title", {"Manager"}));   // to LDAP, pending
  s.Feed(Set(LJdoe(), "title", {"Director"}));  // conflict: LDAP wins
  ApplyAll(s);
  ObservedChange m = Set(Set(MJdoe(), "title", {"Director"}), "businessPhone",
                         {"+1 555 0199"});
  s.Feed(m);  // echo, and another field merges
  ApplyAll(s);
  ObservedChange l = Set(Set(LJdoe(), "title", {"Director"}), "telephoneNumber",
                         {"+1 555 0199"});
  s.Feed(l);                                // echo
  s.Feed(Set(l, "givenName", {"Johnny"}));  // to mail, pending
  s.Feed(MailDelete("jdoe@example.com"));   // delete vs modify
  Compare("both_ways_ldap_wins", s.Text());
}

TEST_CASE("golden: no_change keeps a conflict open until the sides agree",
          "[golden]") {
  ConnectorOptions o;
  o.direction = "both_ways";
  o.resolution = "no_change";
  Scenario s(o);
  s.Feed(LJdoe());
  s.Feed(MJdoe());
  s.Feed(Set(MJdoe(), "title", {"Manager"}));
  s.Feed(Set(LJdoe(), "title", {"Director"}));
  s.Feed(Set(MJdoe(), "title", {"Director"}));
  Compare("both_ways_no_change", s.Text());
}

TEST_CASE("golden: axigen_to_ldap creates entries and groups", "[golden]") {
  ConnectorOptions o;
  o.direction = "axigen_to_ldap";
  o.account_base_dn = "uid=%u,ou=people,%D";
  Scenario s(o);
  s.Feed(MailObject("staff@example.com",
                    {{"displayName", {"Staff"}},
                     {"members", {"anna@example.com", "jdoe@example.com"}}},
                    ObjectKind::kGroup));
  s.Feed(MJdoe());
  s.Feed(MailObject("anna@example.com", {{"firstName", {"Anna"}},
                                         {"lastName", {"Berg"}},
                                         {"aliases", {"a.berg@example.com"}}}));
  const std::vector<Intent> group = s.decisions()[1].intents;
  const std::vector<Intent> jdoe = s.decisions()[2].intents;
  const std::vector<Intent> anna = s.decisions()[3].intents;
  s.Feed(OkOutcome(jdoe[0], "e-jdoe"));
  s.Feed(OkOutcome(anna[0], "e-anna"));
  for (const Intent& i : group) s.Feed(OkOutcome(i, "e-staff"));
  for (size_t k = 1; k < jdoe.size(); ++k) s.Feed(OkOutcome(jdoe[k]));
  for (size_t k = 1; k < anna.size(); ++k) s.Feed(OkOutcome(anna[k]));
  ObservedChange echo = LJdoe();  // the new entry, reported by syncrepl
  echo.id = "e-jdoe";
  SetAttr(&echo.attrs, "cn", {"John Doe"});
  s.Feed(echo);
  s.Feed(Set(echo, "title", {"Boss"}));  // discarded: drift
  Compare("axigen_to_ldap_groups", s.Text());
}

TEST_CASE("golden: held deletes, approval, rollback", "[golden]") {
  Scenario s;
  s.Feed(LJdoe());
  ApplyAll(s);
  DeleteHold h;
  h.hold_id = "hold-5";
  h.source = "corp/syncrepl";
  h.connector = "corp";
  h.known = 1;
  h.reason = "1 deletes after a present phase exceed delete_threshold 0";
  h.deletes = {{Side::kLdap, ObjectKind::kAccount, LJdoe().id, LJdoe().dn,
                "example.com", ""}};
  s.Feed(h);
  OperatorAction approve;
  approve.kind = ActionKind::kApprove;
  approve.actor = "alice";
  approve.hold_id = "hold-5";
  s.Feed(approve);
  ApplyAll(s);
  OperatorAction rb;
  rb.kind = ActionKind::kRollback;
  rb.actor = "alice";
  rb.to_seq = 3;
  rb.side_filter = "mail";
  rb.targets = {ObjectTarget{Side::kMail,
                             ObjectKind::kAccount,
                             "jdoe@example.com",
                             "jdoe@example.com",
                             "example.com",
                             "corp",
                             true,
                             {{"firstName", {"John"}},
                              {"lastName", {"Doe"}},
                              {"businessPhone", {"+1 555 0100"}},
                              {"title", {"Engineer"}}},
                             ""}};
  s.Feed(rb);
  ApplyAll(s);
  Compare("holds_and_rollback", s.Text());
}

}  // namespace dirledger::testing

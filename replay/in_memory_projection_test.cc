// InMemoryProjection answers exactly as ProjectionStore does for the same
// mutations, index quirks included: checked record by record on hand-made
// sequences and on the projections of simulated histories.
#include "replay/in_memory_projection.h"

#include <catch2/catch.hpp>

#include "codecs/projection_store.h"
#include "replay/replayer.h"
#include "replay/sim_world.h"

namespace dirledger {
namespace {

ObjectState Obj(Side side, std::string id, std::string dn, std::string address,
                std::string source = "corp/syncrepl") {
  ObjectState o;
  o.side = side;
  o.id = std::move(id);
  o.dn = std::move(dn);
  o.address = std::move(address);
  o.source = std::move(source);
  o.attrs = {{"cn", {o.id}}};
  return o;
}

template <typename View>
std::string Dump(const View& v) {
  std::string out;
  for (Side side : {Side::kLdap, Side::kMail})
    (void)v.ForEachObject(side, [&](const ObjectState& o) {
      out += "o " + EncodeObjectState(o) + "\n";
      return true;
    });
  (void)v.ForEachLink([&](const LinkState& l) {
    out += "l " + EncodeLinkState(l) + "\n";
    return true;
  });
  (void)v.ForEachPending([&](const PendingIntent& p) {
    out += "p " + EncodePendingIntent(p) + "\n";
    return true;
  });
  (void)v.ForEachConflict([&](const ConflictState& c) {
    out += "c " + EncodeConflictState(c) + "\n";
    return true;
  });
  (void)v.ForEachHold([&](const HoldState& h) {
    out += "h " + EncodeHoldState(h) + "\n";
    return true;
  });
  (void)v.ForEachDrift([&](const DriftState& d) {
    out += "d " + EncodeDriftState(d) + "\n";
    return true;
  });
  (void)v.ForEachObjectOfSource(
      "corp/syncrepl", [&](Side s, ObjectKind k, std::string_view id) {
        out += "s " + std::string(SideName(s)) + std::string(KindName(k)) +
               std::string(id) + "\n";
        return true;
      });
  return out;
}

// Every lookup of the view for the given keys.
template <typename View>
std::string Lookups(const View& v, const std::vector<std::string>& keys) {
  std::string out;
  auto opt = [](const auto& o) { return o ? std::string(*o) : "-"; };
  for (const std::string& k : keys) {
    for (Side side : {Side::kLdap, Side::kMail}) {
      out += opt(v.FindIdByDn(side, k)) + ";";
      for (ObjectKind kind : {ObjectKind::kAccount, ObjectKind::kGroup}) {
        out += opt(v.FindIdByAddress(side, kind, k)) + ";";
        auto o = v.GetObject(side, kind, k);
        out += o ? EncodeObjectState(*o) : "-";
        for (const PendingIntent& p : v.PendingFor(side, kind, k))
          out += "p" + std::to_string(p.intent.id);
        out += ";";
        if (side == Side::kMail)
          for (const std::string& id : v.FindIdsByAlias(kind, k))
            out += "i" + id + ";";
      }
      for (const std::string& w : v.WaitingFor(side, k)) out += "w" + w;
    }
    for (ObjectKind kind : {ObjectKind::kAccount, ObjectKind::kGroup}) {
      auto l = v.GetLinkByMail(kind, k);
      out += l ? EncodeLinkState(*l) : "-";
      auto b = v.GetLinkByLdap(kind, k);
      out += b ? EncodeLinkState(*b) : "-";
    }
    out += "\n";
  }
  return out;
}

// A family's keys and values as ForEachStored gives them, in its order.
std::vector<std::pair<std::string, std::string>> Stored(
    const InMemoryProjection& mem, bool links) {
  std::vector<std::pair<std::string, std::string>> out;
  mem.ForEachStored(links, [&](std::string_view k, std::string_view v) {
    out.emplace_back(std::string(k), std::string(v));
  });
  return out;
}
std::vector<std::pair<std::string, std::string>> Stored(const MemKvStore& kv) {
  return {kv.data().begin(), kv.data().end()};
}

// The alias index keys of a store ('i'), in order.
std::vector<std::string> AliasKeys(const MemKvStore& state) {
  std::vector<std::string> out;
  for (const auto& [key, value] : state.data())
    if (!key.empty() && key[0] == 'i') out.push_back(key + "=" + value);
  return out;
}

ObjectState MailObj(std::string address, std::vector<std::string> aliases,
                    ObjectKind kind = ObjectKind::kAccount) {
  ObjectState o = Obj(Side::kMail, address, address, address, "mail/embedded");
  o.kind = kind;
  if (!aliases.empty()) o.attrs.push_back({"aliases", std::move(aliases)});
  CanonicalizeAttrs(&o.attrs);
  return o;
}

void ApplyBoth(ProjectionStore* store, InMemoryProjection* mem,
               const StateMutation& m) {
  REQUIRE(store->Apply(m).ok());
  mem->Apply(StateMutation(m));
}

}  // namespace

TEST_CASE("in-memory projection keeps ProjectionStore's index rules",
          "[projection]") {
  MemKvStore state, links;
  ProjectionStore store(&state, &links);
  InMemoryProjection mem;
  // Records kept decoded, and every record packed at every Apply.
  const std::size_t keep_decoded = GENERATE(4096, 0);
  mem.KeepDecoded(keep_decoded);
  // Two objects with one DN: the last put wins the index; erasing the
  // first leaves the second's entry.
  ApplyBoth(&store, &mem,
            PutObject{Obj(Side::kLdap, "a", "uid=x,dc=y", "x@y")});
  ApplyBoth(&store, &mem,
            PutObject{Obj(Side::kLdap, "b", "UID=X,dc=y", "x@y")});
  ApplyBoth(&store, &mem, EraseObject{Side::kLdap, ObjectKind::kAccount, "a"});
  // Renamed: the old DN goes from the index even if another object had it.
  ApplyBoth(&store, &mem,
            PutObject{Obj(Side::kLdap, "c", "uid=z,dc=y", "z@y")});
  ApplyBoth(&store, &mem,
            PutObject{Obj(Side::kLdap, "b", "uid=z,dc=y", "q@y")});
  // A source change moves the object between source listings.
  ApplyBoth(&store, &mem,
            PutObject{Obj(Side::kMail, "x@y", "x@y", "x@y", "mail/embedded")});
  // Links: a relink leaves the old by-mail entry of another link.
  LinkState l1{ObjectKind::kAccount, "a", "x@y", "y", "corp", {}, 1};
  LinkState l2{ObjectKind::kAccount, "b", "x@y", "y", "corp", {}, 2};
  ApplyBoth(&store, &mem, PutLink{l1});
  ApplyBoth(&store, &mem, PutLink{l2});
  LinkState l3 = l1;
  l3.mail_id = "w@y";
  ApplyBoth(&store, &mem, PutLink{l3});
  ApplyBoth(&store, &mem, EraseLink{ObjectKind::kAccount, "c", "x@y"});
  // Pending intents, retargeted from "" to an id, then erased.
  PendingIntent p;
  p.intent.id = MakeIntentId(9, 0);
  p.intent.target = Side::kLdap;
  ApplyBoth(&store, &mem, PutPending{p});
  p.intent.target_id = "b";
  p.applied = true;
  ApplyBoth(&store, &mem, PutPending{p});
  PendingIntent q = p;
  q.intent.id = MakeIntentId(9, 1);
  ApplyBoth(&store, &mem, PutPending{q});
  ApplyBoth(&store, &mem, ErasePending{q.intent.id});
  ApplyBoth(&store, &mem, PutWait{Side::kLdap, "uid=Z,dc=y", "g1"});
  ApplyBoth(&store, &mem, PutWait{Side::kLdap, "uid=z,dc=y", "g0"});
  ConflictState c;
  c.ldap_id = "b";
  c.fields = {"title"};
  ApplyBoth(&store, &mem, PutConflict{c});
  DriftState d;
  d.ldap_id = "a";
  d.fields = {"exists"};
  ApplyBoth(&store, &mem, PutDrift{d});
  ApplyBoth(&store, &mem, EraseDrift{ObjectKind::kAccount, "a"});
  HoldState h;
  h.hold.hold_id = "hold-1";
  ApplyBoth(&store, &mem, PutHold{h});
  // Aliases: two objects may hold one (the index lists both, by id); a
  // change moves only what changed; an erased object leaves none behind.
  ApplyBoth(&store, &mem, PutObject{MailObj("m1@y", {"A1@y", "a2@y"})});
  ApplyBoth(&store, &mem, PutObject{MailObj("m0@y", {"a1@y", "a1@Y"})});
  ApplyBoth(&store, &mem,
            PutObject{MailObj("g@y", {"a1@y"}, ObjectKind::kGroup)});
  ApplyBoth(&store, &mem, PutObject{MailObj("m1@y", {"a1@y", "a3@y"})});
  ApplyBoth(&store, &mem, PutObject{MailObj("m2@y", {"a2@y"})});
  ApplyBoth(&store, &mem,
            EraseObject{Side::kMail, ObjectKind::kAccount, "m2@y"});
  // An LDAP entry's values are not aliases the index lists.
  ObjectState ldap_with_aliases = Obj(Side::kLdap, "e", "uid=e,dc=y", "e@y");
  ldap_with_aliases.attrs.push_back({"aliases", {"a4@y"}});
  ApplyBoth(&store, &mem, PutObject{ldap_with_aliases});
  CHECK(mem.FindIdsByAlias(ObjectKind::kAccount, "A1@Y") ==
        std::vector<std::string>{"m0@y", "m1@y"});
  CHECK(mem.FindIdsByAlias(ObjectKind::kGroup, "a1@y") ==
        std::vector<std::string>{"g@y"});
  CHECK(mem.FindIdsByAlias(ObjectKind::kAccount, "a2@y").empty());
  CHECK(mem.FindIdsByAlias(ObjectKind::kAccount, "a4@y").empty());

  CHECK(Dump(mem) == Dump(store));
  const std::vector<std::string> keys = {
      "a",    "b",          "c",          "x@y",        "w@y", "z@y",
      "q@y",  "uid=x,dc=y", "uid=z,dc=y", "UID=Z,DC=Y", "",    "a1@y",
      "A1@Y", "a2@y",       "a3@y",       "a4@y",       "m1@y"};
  CHECK(Lookups(mem, keys) == Lookups(store, keys));
  CHECK(*mem.FindIdByDnRef(Side::kLdap, "uid=z,dc=y") == "b");
  // Key for key what the store holds, stale index entries included.
  CHECK(Stored(mem, false) == Stored(state));
  CHECK(Stored(mem, true) == Stored(links));

  // Exported into a fresh store, it lists the same records.
  MemKvStore s2, l2s;
  ProjectionStore exported(&s2, &l2s);
  REQUIRE(mem.ExportTo(&exported).ok());
  CHECK(Dump(exported) == Dump(mem));
  // The alias index is derived from the records alone: rebuilt from them it
  // is the same, key for key.
  CHECK(AliasKeys(s2) == AliasKeys(state));
  CHECK(AliasKeys(state).size() == 4);
}

TEST_CASE("replayed in memory, simulated histories give the log's projection",
          "[projection]") {
  // Records kept decoded, and every record packed at every Apply: the
  // decisions and the projection are the same either way.
  const std::size_t keep_decoded = GENERATE(4096, 0);
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    testing::SimOptions o;
    o.resolution = seed % 2 ? "ldap_wins" : "axigen_wins";
    testing::SimWorld w(seed, o);
    REQUIRE(w.Run());
    Replayer r;
    r.mutable_projection().KeepDecoded(keep_decoded);
    std::vector<std::string> keys;
    for (size_t i = 0; i < w.events().size(); ++i) {
      REQUIRE(r.Feed(w.events()[i], &w.decisions()[i]).ok());
      if (const auto* c = std::get_if<ObservedChange>(&w.events()[i].body)) {
        keys.push_back(c->id);
        keys.push_back(c->dn);
        for (const std::string& a : AttrValues(c->attrs, "aliases"))
          keys.push_back(a);
      }
    }
    INFO("seed " << seed << ", keeping " << keep_decoded << " decoded");
    CHECK(r.differences() == 0);
    CHECK(Dump(r.projection()) == Dump(w.projection()));
    CHECK(Lookups(r.projection(), keys) == Lookups(w.projection(), keys));
    CHECK(Stored(r.projection(), false) == Stored(w.state_kv()));
    CHECK(Stored(r.projection(), true) == Stored(w.links_kv()));
  }
}

}  // namespace dirledger

// Packed records unpack to exactly the record packed: every field, the
// spelling of every name, values of any bytes, the shortcuts for a DN or
// address equal to the id.
#include "replay/packed_record.h"

#include <catch2/catch.hpp>
#include <limits>

namespace dirledger {
namespace {

ObjectState Unpacked(const ObjectState& o, NameTable* names) {
  std::string packed;
  PackObject(o, names, &packed);
  ObjectState back;
  back.attrs = {{"stale", {"left over"}}};  // unpacking replaces everything
  UnpackObject(packed, o.side, o.kind, o.id, *names, &back);
  CHECK(PackedObjectSource(packed, *names) == o.source);
  return back;
}

}  // namespace

TEST_CASE("packed objects unpack to the object packed", "[packed]") {
  NameTable names;
  ObjectState o;
  o.side = Side::kLdap;
  o.kind = ObjectKind::kAccount;
  o.id = "7774c9fe-866a-1041-8626-793904d3a157";
  o.dn = "uid=Ann,ou=People,dc=example,dc=com";
  o.domain = "example.com";
  o.connector = "corp";
  o.address = "ann@example.com";
  o.source = "corp/syncrepl";
  o.version = std::numeric_limits<std::uint64_t>::max();
  o.creating_intent = 300;
  o.leaving_intent = 127;
  o.attrs = {{"cn", {"Ann", "Ann B"}},
             {"CN", {""}},  // another spelling, an empty value
             {"description", {}},
             {"jpegPhoto", {std::string("\0\xff\x80 bytes", 9)}},
             {"mail", {"ann@example.com"}},
             {"sn", {std::string(300, 'x')}}};
  CHECK(Unpacked(o, &names) == o);

  SECTION("a DN or address equal to the id, or an address equal to the DN") {
    ObjectState m = o;
    m.side = Side::kMail;
    m.id = m.dn = m.address = "ann@example.com";
    CHECK(Unpacked(m, &names) == m);
    m.address = "";
    CHECK(Unpacked(m, &names) == m);
    m.dn = "Ann@Example.com";  // equal only ignoring case: kept as it is
    m.address = m.dn;
    CHECK(Unpacked(m, &names) == m);
  }
  SECTION("nothing set") {
    ObjectState empty;
    CHECK(Unpacked(empty, &names) == empty);
  }
  SECTION("names are numbered once, by their exact spelling") {
    const std::size_t n = names.size();
    CHECK(Unpacked(o, &names) == o);
    CHECK(names.size() == n);
    CHECK(names.Intern("Cn") == n);
    CHECK(names.Name(names.Intern("cn")) == "cn");
  }
}

TEST_CASE("packed links unpack to the link packed", "[packed]") {
  NameTable names;
  LinkState l;
  l.kind = ObjectKind::kGroup;
  l.ldap_id = "cn=staff";
  l.mail_id = "staff@example.com";
  l.domain = "example.com";
  l.connector = "corp";
  l.version = 1u << 20;
  l.agreed = {{"displayName", {"Staff"}}, {"members", {"a@x", "b@x"}}};
  std::string packed;
  PackLink(l, &names, &packed);
  CHECK(PackedLinkMailId(packed) == l.mail_id);
  LinkState back;
  UnpackLink(packed, l.kind, l.ldap_id, names, &back);
  CHECK(back == l);
}

}  // namespace dirledger

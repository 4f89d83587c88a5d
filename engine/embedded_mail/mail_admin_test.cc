#include "engine/embedded_mail/mail_admin.h"

#include <catch2/catch.hpp>

#include "tests/support/temp_dir.h"

namespace dirledger {
namespace {

struct Fixture {
  test::TempDir tmp;
  std::unique_ptr<EmbeddedMailDirectory> dir;
  std::unique_ptr<MailAdmin> admin;
  Fixture() {
    EmbeddedMailOptions o;
    o.sync = false;
    dir = std::move(EmbeddedMailDirectory::Open(tmp / "mail", nullptr, o))
              .value();
    REQUIRE(dir->AddDomain("example.com").ok());
    admin = std::make_unique<MailAdmin>(dir.get());
  }
};

TEST_CASE("edits parse set, add, remove and kind", "[mail_admin]") {
  auto e = ParseMailEdits({"firstName=Ada Lovelace", "aliases+=a@x.org",
                           "aliases-=b@x.org", "kind=group",
                           "title=", "displayName=a=b"});
  REQUIRE(e.ok());
  REQUIRE(e->kind == ObjectKind::kGroup);
  REQUIRE(e->edits.size() == 5);
  REQUIRE(e->edits[0].value == "Ada Lovelace");
  REQUIRE(e->edits[1].op == FieldEdit::Op::kAdd);
  REQUIRE(e->edits[2].op == FieldEdit::Op::kRemove);
  REQUIRE(e->edits[3].value.empty());
  REQUIRE(e->edits[4].value == "a=b");
  REQUIRE_FALSE(ParseMailEdits({"novalue"}).ok());
  REQUIRE_FALSE(ParseMailEdits({"=x"}).ok());
  REQUIRE_FALSE(ParseMailEdits({"kind=robot"}).ok());
  auto pw = ParseMailEdits({"password=hunter2"});
  REQUIRE_FALSE(pw.ok());
  REQUIRE(pw.status().message().find("hunter2") == std::string::npos);
}

TEST_CASE("add, show, set, list and remove", "[mail_admin]") {
  Fixture f;
  auto ada = f.admin->Add("Ada@Example.com",
                          *ParseMailEdits({"firstName=Ada", "lastName=King",
                                           "aliases=ada.king@example.com",
                                           "aliases=AL@example.com"}),
                          Secret("pw"));
  REQUIRE(ada.ok());
  REQUIRE(ada->address == "ada@example.com");
  REQUIRE(AttrValues(ada->fields, "aliases") ==
          std::vector<std::string>{"ada.king@example.com", "al@example.com"});
  REQUIRE(ada->has_password);

  auto set = f.admin->Set(
      "ada@example.com", *ParseMailEdits({"lastName=Lovelace", "title=Countess",
                                          "aliases-=al@example.com",
                                          "aliases+=countess@example.com"}));
  REQUIRE(set.ok());
  REQUIRE(FirstValue(set->fields, "lastName") == "Lovelace");
  REQUIRE(
      AttrValues(set->fields, "aliases") ==
      std::vector<std::string>{"ada.king@example.com", "countess@example.com"});
  auto cleared = f.admin->Set("ada@example.com", *ParseMailEdits({"title="}));
  REQUIRE(FindAttr(cleared->fields, "title") == nullptr);

  REQUIRE(f.admin
              ->Add("staff@example.com",
                    *ParseMailEdits({"kind=group", "displayName=Staff",
                                     "members=ada@example.com"}))
              .ok());
  auto list = f.admin->List("");
  REQUIRE(list->size() == 2);
  REQUIRE((*list)[0].address == "ada@example.com");
  REQUIRE((*list)[1].kind == ObjectKind::kGroup);
  REQUIRE(f.admin->List("other.org")->empty());

  nlohmann::json j = ToJson((*list)[0]);
  REQUIRE(j["address"] == "ada@example.com");
  REQUIRE(j["firstName"] == "Ada");
  REQUIRE(j["aliases"].size() == 2);
  REQUIRE(j["password_set"] == true);
  REQUIRE(j.dump().find("pbkdf2") == std::string::npos);
  REQUIRE(ToText((*list)[1]).find("members: ada@example.com") !=
          std::string::npos);

  REQUIRE(f.admin->Remove("staff@example.com").ok());
  REQUIRE(f.admin->Show("staff@example.com").status().IsNotFound());
  REQUIRE(f.admin->Remove("staff@example.com").IsNotFound());
}

TEST_CASE("the admin refuses bad input with clear errors", "[mail_admin]") {
  Fixture f;
  REQUIRE(f.admin->Add("ada@example.com", {}).ok());
  auto dup = f.admin->Add("ADA@example.com", {});
  REQUIRE(dup.status().code() == StatusCode::kConflict);
  REQUIRE(dup.status().message().find("already exists") != std::string::npos);
  auto nodomain = f.admin->Add("ada@nowhere.org", {});
  REQUIRE(nodomain.status().message().find("domain nowhere.org") !=
          std::string::npos);
  auto badfield =
      f.admin->Set("ada@example.com", *ParseMailEdits({"members=x@y.z"}));
  REQUIRE(badfield.status().message().find("unknown account field") !=
          std::string::npos);
  auto badalias = f.admin->Set("ada@example.com",
                               *ParseMailEdits({"aliases=not an address"}));
  REQUIRE(badalias.status().message().find("aliases") != std::string::npos);
  auto two = f.admin->Set("ada@example.com",
                          *ParseMailEdits({"firstName=A", "firstName=B"}));
  REQUIRE(two.status().message().find("takes one value") != std::string::npos);
  REQUIRE(f.admin->Show("no such").status().code() ==
          StatusCode::kInvalidArgument);
  REQUIRE_FALSE(
      f.admin
          ->Add("g@example.com", *ParseMailEdits({"kind=group"}), Secret("x"))
          .ok());
  REQUIRE(f.dir->last_change() == 1);
}

}  // namespace
}  // namespace dirledger

// MailAdmin: the embedded mail directory's own administration — the stand-in
// for Axigen's admin, behind `dirledger mail list|show|add|set|remove`.
// Edits made here are written like any other write: they appear in the
// directory's change feed (with no origin intent), so the engine takes them
// into the log as changes seen on the mail side.
//
// Edits are given as FIELD=VALUE words (ParseMailEdits):
//   firstName=Ada         set a field ("firstName=" clears it)
//   aliases=a@x aliases=b@x   replace a multi-valued field with both values
//   aliases+=c@x          add a value;  aliases-=c@x  remove a value
//   kind=group            (add only) create a group instead of an account
// Field names are Axigen's (firstName, lastName, ..., aliases, members) and
// compare case-insensitively; unknown fields, bad addresses and bad values
// are refused with an error naming them. Passwords are never given as a
// FIELD=VALUE word (they would show in the process list): they come as a
// Secret and are stored hashed.
//
// Thread safety: as EmbeddedMailDirectory.
#ifndef DIRLEDGER_ENGINE_EMBEDDED_MAIL_MAIL_ADMIN_H_
#define DIRLEDGER_ENGINE_EMBEDDED_MAIL_MAIL_ADMIN_H_

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/embedded_mail/embedded_mail_directory.h"
#include "engine/secrets.h"

namespace dirledger {

struct FieldEdit {
  enum class Op { kSet, kAdd, kRemove };
  std::string field;
  Op op = Op::kSet;
  std::string value;
};

struct MailEdits {
  std::optional<ObjectKind> kind;  // from "kind=account|group"
  std::vector<FieldEdit> edits;
};

// Parses FIELD=VALUE, FIELD+=VALUE and FIELD-=VALUE words.
Result<MailEdits> ParseMailEdits(const std::vector<std::string>& words);

// One object as the admin shows it.
struct MailEntry {
  std::string address;
  ObjectKind kind = ObjectKind::kAccount;
  std::string domain;
  AttrList fields;  // canonical
  bool has_password = false;
};

// {"address": ..., "kind": "account", "domain": ..., "firstName": "...",
//  "aliases": [...], "password_set": true}: single-valued fields as strings,
// aliases and members as arrays. Never holds a password or its hash.
nlohmann::json ToJson(const MailEntry& entry);
// A few human-readable lines: the address and kind, then "  field: value",
// control characters escaped (codecs/printable.h).
std::string ToText(const MailEntry& entry);

class MailAdmin {
 public:
  // REQUIRES: `dir` outlives this object.
  explicit MailAdmin(EmbeddedMailDirectory* dir) : dir_(dir) {}

  // Every object, or those of `domain` ("" = all), in address order.
  Result<std::vector<MailEntry>> List(std::string_view domain) const;
  Result<MailEntry> Show(std::string_view address) const;
  Result<std::vector<std::string>> Domains() const;
  Status AddDomain(std::string_view domain);

  // Creates an account (or a group, edits.kind) at `address`. The domain
  // must exist. `password` is hashed before it is stored.
  Result<MailEntry> Add(std::string_view address, const MailEdits& edits,
                        const std::optional<Secret>& password = {});
  // Changes fields of an existing object; `password` (accounts) replaces
  // the password.
  Result<MailEntry> Set(std::string_view address, const MailEdits& edits,
                        const std::optional<Secret>& password = {});
  Status Remove(std::string_view address);

 private:
  Result<MailEntry> Entry(const MailObject& o) const;

  EmbeddedMailDirectory* dir_;
};

}  // namespace dirledger

#endif  // DIRLEDGER_ENGINE_EMBEDDED_MAIL_MAIL_ADMIN_H_

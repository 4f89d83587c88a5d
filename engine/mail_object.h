// MailObject and the rules every mail directory applies alike: what a valid
// address is, which fields an account or a group has, what values they
// take, and how a write intent turns the current object into the intended
// one (ApplyPlan). The embedded mail directory and the Axigen connector both
// decide through PlanIntent, so the same intents end in the same accounts and
// groups on either, and both are idempotent in the same way:
//   - the object already in the intended state: nothing to do
//     (already_applied);
//   - an `expect` value that does not match the current one: Conflict naming
//     the field, nothing written.
//
// Fields are Axigen's (replay/attribute_map.h, namespace field). Accounts
// carry the contact fields and `aliases`; groups carry `displayName` and
// `members`. `aliases` and `members` hold full addresses in lower case; the
// contact fields hold at most one UTF-8 value each.
//
// Thread safety: plain values and pure functions.
#ifndef DIRLEDGER_ENGINE_MAIL_OBJECT_H_
#define DIRLEDGER_ENGINE_MAIL_OBJECT_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "codecs/attributes.h"
#include "codecs/event.h"
#include "codecs/status.h"

namespace dirledger {

// One account or group as a mail directory holds it.
struct MailObject {
  ObjectKind kind = ObjectKind::kAccount;
  std::string address;  // name@domain, lower case
  AttrList attrs;       // canonical, field names in their canonical spelling

  std::string_view name() const;    // part before '@'
  std::string_view domain() const;  // part after '@'

  friend bool operator==(const MailObject&, const MailObject&) = default;
};

// Longest account/group name, domain and field value dirledger accepts on
// the mail side.
inline constexpr std::size_t kMaxNameLength = 64;
inline constexpr std::size_t kMaxDomainLength = 253;
inline constexpr std::size_t kMaxValueLength = 256 * 1024;

// Checks `address` ("name@domain") and returns it lower-cased. A name is
// 1..64 of [a-z0-9._+-] (not starting or ending with '.'); a domain is
// dot-separated labels of [a-z0-9-] (not starting or ending with '-').
// Anything else is InvalidArgument saying what is wrong with which address.
Result<std::string> NormalizeAddress(std::string_view address);
// Checks a domain name alone (same rules) and returns it lower-cased.
Result<std::string> NormalizeDomain(std::string_view domain);

// The canonical spelling of field `name` for `kind` ("FIRSTNAME" ->
// "firstName"), or InvalidArgument listing the fields `kind` has.
Result<std::string> CanonicalField(ObjectKind kind, std::string_view name);
// Whether a field holds addresses (aliases, members): multi-valued, lower
// case, each value a valid address.
bool IsAddressField(std::string_view canonical_field);
// Every field of `kind`, in a fixed order.
const std::vector<std::string_view>& FieldsOf(ObjectKind kind);

// Checks (and for address fields normalizes) the values of one field:
// contact fields take at most one value of valid UTF-8 up to
// kMaxValueLength bytes; address fields take valid addresses. Errors name
// the field and the object.
Status NormalizeValues(std::string_view object, std::string_view field,
                       std::vector<std::string>* values);

// Checks and normalizes an attribute list for `kind`: canonical field names
// and values, canonical order, no empty attributes.
Status NormalizeAttrs(ObjectKind kind, std::string_view object,
                      AttrList* attrs);

// What applying an intent to a mail directory takes.
struct ApplyPlan {
  enum class Action { kNothing, kCreate, kUpdate, kDelete, kRename };
  Action action = Action::kNothing;
  MailObject target;         // the intended object (kCreate, kUpdate, kRename)
  std::string renamed_from;  // kRename: the address the object leaves
  std::string description;   // "created account a@example.com", ...
};

// Decides what `intent` asks of the object `current` (std::nullopt when the
// address does not exist). Errors: InvalidArgument for a malformed intent
// (wrong side, bad address, unknown field, a rename: see PlanRename),
// NotFound for a modify of a missing object, Conflict for an `expect`
// mismatch or an add over a different existing object. A Conflict message
// names every field at fault.
Result<ApplyPlan> PlanIntent(const Intent& intent,
                             const std::optional<MailObject>& current);

// Decides a Rename intent (`dn` = the old address, `target_id` = the new
// one; its set / add_values / delete_values are written with the rename):
// `at_old` and `at_new` are the objects at those addresses now. The result
// is kRename (the object, with the writes applied, at the new address,
// `renamed_from` the old one), or kNothing when the object is at the new
// address already as intended (a rename applied before). The new address
// is never left among the object's own aliases (an alias that becomes the
// address is no longer an alias), and the old address becomes one only when
// the writes say so. Errors: NotFound when neither address holds the
// object; Conflict when the new address belongs to another object (the
// message names both) or an `expect` value differs; InvalidArgument for a
// malformed intent.
Result<ApplyPlan> PlanRename(const Intent& intent,
                             const std::optional<MailObject>& at_old,
                             const std::optional<MailObject>& at_new);

// The fields whose values differ between `a` and `b` (canonical lists), in
// canonical order.
std::vector<std::string> DifferingFields(const AttrList& a, const AttrList& b);

}  // namespace dirledger

#endif  // DIRLEDGER_ENGINE_MAIL_OBJECT_H_

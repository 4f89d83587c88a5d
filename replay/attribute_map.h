// AttributeMap: which LDAP attributes carry which Axigen account and group
// fields, per server type, overridable by a connector's custom schema file
// (Axigen's "Use custom schema"). Field and attribute names compare
// case-insensitively. docs/attribute-map.md lists the built-in maps and the
// custom schema format.
//
// Thread safety: immutable after construction.
#ifndef DIRLEDGER_REPLAY_ATTRIBUTE_MAP_H_
#define DIRLEDGER_REPLAY_ATTRIBUTE_MAP_H_

#include <string>
#include <string_view>
#include <vector>

#include "codecs/attributes.h"
#include "codecs/config.h"
#include "codecs/status.h"

namespace dirledger {

// Axigen account fields dirledger syncs (ContactInfo and account-level).
namespace field {
inline constexpr std::string_view kFirstName = "firstName";
inline constexpr std::string_view kLastName = "lastName";
inline constexpr std::string_view kNickName = "nickName";
inline constexpr std::string_view kDisplayName = "displayName";
inline constexpr std::string_view kCompany = "company";
inline constexpr std::string_view kDepartment = "department";
inline constexpr std::string_view kTitle = "title";
inline constexpr std::string_view kOffice = "office";
inline constexpr std::string_view kBusinessPhone = "businessPhone";
inline constexpr std::string_view kHomePhone = "homePhone";
inline constexpr std::string_view kMobilePhone = "mobilePhone";
inline constexpr std::string_view kFax = "fax";
inline constexpr std::string_view kAliases = "aliases";  // other addresses
inline constexpr std::string_view kMembers = "members";  // group members
}  // namespace field

// Every mapped single-valued contact field, in a fixed order.
const std::vector<std::string_view>& ContactFields();

struct FieldMapping {
  std::string field;      // Axigen field name
  std::string attribute;  // LDAP attribute name

  friend bool operator==(const FieldMapping&, const FieldMapping&) = default;
};

// The mapping of one object kind.
struct ObjectMap {
  // An entry is of this kind when it has any of these object classes.
  std::vector<std::string> object_classes;
  // ...and none of these (AD computers are objectClass user too).
  std::vector<std::string> excluded_classes;
  std::string name_attribute;     // account / group name (uid, cn, ...)
  std::string aliases_attribute;  // extra addresses ("" = not synced)
  std::string aliases_prefix;     // e.g. "smtp:" for proxyAddresses
  std::string members_attribute;  // groups: member DNs
  std::vector<FieldMapping> fields;

  // The LDAP attribute mapped to `field`, or "".
  std::string_view AttributeFor(std::string_view field) const;
  // The field mapped from LDAP `attribute`, or "".
  std::string_view FieldFor(std::string_view attribute) const;
  // The LDAP attributes that carry synced values other than the name: the
  // aliases, the members and each field's attribute, in that order.
  std::vector<std::string> ValueAttributes() const;
  // Whether an entry with these objectClass values is of this kind.
  bool Matches(const std::vector<std::string>& object_classes) const;

  friend bool operator==(const ObjectMap&, const ObjectMap&) = default;
};

struct AttributeMap {
  ObjectMap account;
  ObjectMap group;

  // inetOrgPerson / groupOfNames, or AD user / group.
  static AttributeMap Default(ServerType type);
  // The default map for `type` with the custom schema file's overrides.
  // Errors name the file, line and key.
  static Result<AttributeMap> WithCustomSchema(ServerType type,
                                               std::string_view schema_text,
                                               std::string_view schema_path);

  // Every LDAP attribute a source must request (sorted, unique).
  std::vector<std::string> RequestedAttributes() const;

  friend bool operator==(const AttributeMap&, const AttributeMap&) = default;
};

}  // namespace dirledger

#endif  // DIRLEDGER_REPLAY_ATTRIBUTE_MAP_H_

// ImagePlan: an ObjectMap (replay/attribute_map.h) compiled for building
// field images (replay/field_image.h) without a name lookup per field. It
// lists the image's fields in canonical order (the order of the image) and,
// for each side, the attributes that carry them in canonical attribute
// order, so that one merge walk over an object's canonical attribute list
// finds every value the image needs.
//
// Plans are compiled once per connector and object kind (RuleSet::Compile)
// and hold copies of the names they need.
//
// Thread safety: immutable after Compile; share freely.
#ifndef DIRLEDGER_REPLAY_IMAGE_PLAN_H_
#define DIRLEDGER_REPLAY_IMAGE_PLAN_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "codecs/attributes.h"
#include "replay/address_ownership.h"
#include "replay/attribute_map.h"

namespace dirledger {

class ImagePlan {
 public:
  // The most fields an image has: every contact field, aliases and members.
  static constexpr std::size_t kMaxFields = 16;

  enum class Role : std::uint8_t { kContact, kAliases, kMembers };

  struct Field {
    std::string name;  // Axigen field name, as the map spells it
    Role role = Role::kContact;
  };

  // An attribute that carries field `field` (an index into fields()).
  struct Source {
    std::string attribute;
    std::uint8_t field = 0;
  };

  // The values of each field's attribute in one attribute list, by field
  // index; nullptr where the list does not have the attribute.
  using Found = std::array<const std::vector<std::string>*, kMaxFields>;

  ImagePlan() = default;
  explicit ImagePlan(const ObjectMap& map);

  // In canonical order (case-insensitive by name).
  const std::vector<Field>& fields() const { return fields_; }
  // By LDAP attribute name (ObjectMap::fields, aliases and members
  // attributes), and by mail field name; each in canonical order.
  const std::vector<Source>& ldap_sources() const { return ldap_sources_; }
  const std::vector<Source>& mail_sources() const { return mail_sources_; }
  const std::string& aliases_prefix() const { return aliases_prefix_; }
  // Which aliases of an LDAP entry its image may hold (rules version 6).
  const AddressOwnership& ownership() const { return ownership_; }
  void set_ownership(AddressOwnership o) { ownership_ = std::move(o); }

  // Fills `found` from `attrs` (whose names are LDAP attribute names when
  // `ldap`, else mail field names): the same values AttrValues finds, in
  // one walk when the names of `attrs` are in canonical order (duplicates
  // allowed), else by a lookup per field.
  void Find(const AttrList& attrs, bool ldap, Found* found) const;

 private:
  std::vector<Field> fields_;
  std::vector<Source> ldap_sources_;
  std::vector<Source> mail_sources_;
  std::string aliases_prefix_;
  AddressOwnership ownership_;
};

}  // namespace dirledger

#endif  // DIRLEDGER_REPLAY_IMAGE_PLAN_H_

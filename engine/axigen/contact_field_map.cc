#include "engine/axigen/contact_field_map.h"

#include "codecs/attributes.h"
#include "replay/attribute_map.h"

namespace dirledger {

const std::vector<std::pair<std::string_view, std::string_view>>&
ContactFieldMap() {
  // Left: dirledger's name. Right: Axigen's ContactInfo attribute.
  static const std::vector<std::pair<std::string_view, std::string_view>> kMap =
      {
          {field::kFirstName, "firstName"},
          {field::kLastName, "lastName"},
          {field::kNickName, "nickName"},
          {field::kDisplayName, "displayName"},
          {field::kCompany, "company"},
          {field::kDepartment, "department"},
          {field::kTitle, "title"},
          {field::kOffice, "office"},
          {field::kBusinessPhone, "businessPhone"},
          {field::kHomePhone, "homePhone"},
          {field::kMobilePhone, "mobilePhone"},
          {field::kFax, "fax"},
      };
  return kMap;
}

std::string_view AxigenContactName(std::string_view canonical) {
  for (const auto& [ours, theirs] : ContactFieldMap())
    if (EqualsIgnoreCase(ours, canonical)) return theirs;
  return {};
}

std::optional<std::string> CanonicalContactName(std::string_view axigen) {
  for (const auto& [ours, theirs] : ContactFieldMap())
    if (EqualsIgnoreCase(theirs, axigen)) return std::string(ours);
  return std::nullopt;
}

}  // namespace dirledger

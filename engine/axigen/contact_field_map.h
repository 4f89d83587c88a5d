// ContactFieldMap: dirledger's canonical contact field names
// (replay/attribute_map.h, namespace field) and the attribute names of
// Axigen's ContactInfo context, in one table. Axigen's public documentation
// and its own scripts confirm firstName and lastName; for the other fields
// no public listing of the ContactInfo context was found, so their Axigen
// names are taken to be the canonical ones. A server whose names differ is
// adapted here alone (docs/axigen.md, "Field names").
//
// Thread safety: pure functions over a constant table.
#ifndef DIRLEDGER_ENGINE_AXIGEN_CONTACT_FIELD_MAP_H_
#define DIRLEDGER_ENGINE_AXIGEN_CONTACT_FIELD_MAP_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dirledger {

// (canonical, Axigen) for every synced contact field.
const std::vector<std::pair<std::string_view, std::string_view>>&
ContactFieldMap();

// The Axigen ContactInfo attribute for canonical field `canonical`
// ("" when it is not a contact field).
std::string_view AxigenContactName(std::string_view canonical);

// The canonical field for Axigen attribute `axigen` (case-insensitive), or
// std::nullopt for ContactInfo attributes dirledger does not sync.
std::optional<std::string> CanonicalContactName(std::string_view axigen);

}  // namespace dirledger

#endif  // DIRLEDGER_ENGINE_AXIGEN_CONTACT_FIELD_MAP_H_

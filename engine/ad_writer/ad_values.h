// How the AD writer compares and encodes attribute values: DN-valued
// attributes (member, manager, ...) compare as DNs (case and blanks around
// separators do not matter, as AD's own matching), other values bytewise
// after canonicalization (sorted, deduplicated); and the unicodePwd value AD
// takes for a password (the quoted password in UTF-16LE).
//
// Thread safety: pure functions.
#ifndef DIRLEDGER_ENGINE_AD_WRITER_AD_VALUES_H_
#define DIRLEDGER_ENGINE_AD_WRITER_AD_VALUES_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dirledger {

// Whether AD gives attribute `name` DN syntax (among those dirledger maps).
bool IsDnValued(std::string_view name);

// Whether two value sets of attribute `name` are the same for AD.
bool SameValues(std::string_view name, std::vector<std::string> a,
                std::vector<std::string> b);

// Values of `want` not in `have` / in `have` too, compared as SameValues
// does; the second returns `have`'s spelling (what the server holds).
std::vector<std::string> MissingValues(std::string_view name,
                                       const std::vector<std::string>& want,
                                       const std::vector<std::string>& have);
std::vector<std::string> PresentValues(std::string_view name,
                                       const std::vector<std::string>& want,
                                       const std::vector<std::string>& have);

// "\"password\"" in UTF-16LE; nullopt when `password` is not valid UTF-8.
std::optional<std::string> UnicodePwdValue(std::string_view password);

// Splits "CN=a\,b,OU=x,DC=y" into its first RDN "CN=a\,b" and its parent
// "OU=x,DC=y" ("" for a one-RDN DN).
std::pair<std::string, std::string> SplitDn(std::string_view dn);

// `values` for messages: ["a", "b"], long lists shortened.
std::string ShowValues(const std::vector<std::string>& values);

}  // namespace dirledger

#endif  // DIRLEDGER_ENGINE_AD_WRITER_AD_VALUES_H_

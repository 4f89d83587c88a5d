#include "codecs/secret_attributes.h"

#include "codecs/attributes.h"

namespace dirledger {

const std::vector<std::string_view>& BuiltinSecretAttributes() {
  static const std::vector<std::string_view> kList = {
      // OpenLDAP and other RFC directories
      "userPassword", "authPassword", "userPKCS12",
      // Samba's schema on OpenLDAP
      "sambaNTPassword", "sambaLMPassword", "sambaPasswordHistory",
      // Active Directory (MS-ADTS 3.1.1.5.3.2; most are never readable)
      "unicodePwd", "dBCSPwd", "supplementalCredentials", "ntPwdHistory",
      "lmPwdHistory", "currentValue", "priorValue", "initialAuthIncoming",
      "initialAuthOutgoing", "trustAuthIncoming", "trustAuthOutgoing",
      "msDS-ManagedPassword"};
  return kList;
}

bool IsSecretAttribute(std::string_view name,
                       const std::vector<std::string>& extra) {
  const std::string_view base = name.substr(0, name.find(';'));
  for (std::string_view s : BuiltinSecretAttributes())
    if (EqualsIgnoreCase(base, s)) return true;
  for (const std::string& s : extra)
    if (EqualsIgnoreCase(base, s)) return true;
  return false;
}

}  // namespace dirledger

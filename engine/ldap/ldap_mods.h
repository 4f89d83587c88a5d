// LdapModList: the LDAPMod array libldap's add and modify calls take, built
// from attribute names and byte-string values and owning all of its memory.
// Shared by the OpenLDAP and Active Directory writers.
//
// Thread safety: a plain value; not shared between threads while in use.
#ifndef DIRLEDGER_ENGINE_LDAP_LDAP_MODS_H_
#define DIRLEDGER_ENGINE_LDAP_LDAP_MODS_H_

#include <memory>
#include <string>
#include <vector>

#include "codecs/attributes.h"

typedef struct ldapmod LDAPMod;

namespace dirledger {

enum class ModOp { kAdd, kDelete, kReplace };

class LdapModList {
 public:
  LdapModList();
  ~LdapModList();
  LdapModList(LdapModList&&) noexcept;
  LdapModList& operator=(LdapModList&&) noexcept;

  // Every attribute with values as an add (the form ldap_add_ext takes).
  static LdapModList ForAdd(const AttrList& attrs);

  // Appends one modification. kReplace with no values removes the attribute;
  // kDelete with no values removes it too (and fails when it is absent).
  void Append(ModOp op, std::string attribute, std::vector<std::string> values);

  bool empty() const { return mods_.empty(); }
  std::size_t size() const { return mods_.size(); }

  // The NULL-terminated array. Valid until this list is changed or destroyed.
  LDAPMod** get();

  // "replace sn; add member (2 values)": for messages. Never shows values.
  std::string Describe() const;

 private:
  struct Mod;
  std::vector<std::unique_ptr<Mod>> mods_;
  std::vector<LDAPMod*> ptrs_;
};

}  // namespace dirledger

#endif  // DIRLEDGER_ENGINE_LDAP_LDAP_MODS_H_

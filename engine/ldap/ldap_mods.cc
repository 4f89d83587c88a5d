#include "engine/ldap/ldap_mods.h"

#include <ldap.h>

namespace dirledger {

struct LdapModList::Mod {
  std::string attribute;
  std::vector<std::string> values;
  std::vector<berval> bvals;
  std::vector<berval*> bval_ptrs;
  LDAPMod mod{};
  ModOp op;
};

LdapModList::LdapModList() = default;
LdapModList::~LdapModList() = default;
LdapModList::LdapModList(LdapModList&&) noexcept = default;
LdapModList& LdapModList::operator=(LdapModList&&) noexcept = default;

LdapModList LdapModList::ForAdd(const AttrList& attrs) {
  LdapModList list;
  for (const Attribute& a : attrs)
    if (!a.values.empty()) list.Append(ModOp::kAdd, a.name, a.values);
  return list;
}

void LdapModList::Append(ModOp op, std::string attribute,
                         std::vector<std::string> values) {
  auto m = std::make_unique<Mod>();
  m->op = op;
  m->attribute = std::move(attribute);
  m->values = std::move(values);
  ptrs_.clear();  // rebuilt by get()
  mods_.push_back(std::move(m));
}

LDAPMod** LdapModList::get() {
  ptrs_.clear();
  for (auto& m : mods_) {
    m->bvals.resize(m->values.size());
    m->bval_ptrs.clear();
    for (std::size_t i = 0; i < m->values.size(); ++i) {
      m->bvals[i].bv_val = m->values[i].data();
      m->bvals[i].bv_len = m->values[i].size();
      m->bval_ptrs.push_back(&m->bvals[i]);
    }
    m->bval_ptrs.push_back(nullptr);
    int op = LDAP_MOD_REPLACE;
    if (m->op == ModOp::kAdd) op = LDAP_MOD_ADD;
    if (m->op == ModOp::kDelete) op = LDAP_MOD_DELETE;
    m->mod.mod_op = op | LDAP_MOD_BVALUES;
    m->mod.mod_type = m->attribute.data();
    m->mod.mod_bvalues = m->values.empty() ? nullptr : m->bval_ptrs.data();
    ptrs_.push_back(&m->mod);
  }
  ptrs_.push_back(nullptr);
  return ptrs_.data();
}

std::string LdapModList::Describe() const {
  std::string out;
  for (const auto& m : mods_) {
    if (!out.empty()) out += "; ";
    out += m->op == ModOp::kAdd      ? "add "
           : m->op == ModOp::kDelete ? "delete "
                                     : "replace ";
    out += m->attribute;
    if (m->values.size() > 1)
      out += " (" + std::to_string(m->values.size()) + " values)";
  }
  return out;
}

}  // namespace dirledger

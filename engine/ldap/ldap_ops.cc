#include "engine/ldap/ldap_ops.h"

#include <ldap.h>

#include <cmath>
#include <cstdio>
#include <memory>

#include "codecs/attributes.h"
#include "replay/rules.h"

namespace dirledger {
namespace {

timeval Timeval(double s) {
  timeval tv;
  tv.tv_sec = static_cast<time_t>(std::floor(s));
  tv.tv_usec = static_cast<suseconds_t>((s - std::floor(s)) * 1e6);
  return tv;
}

struct ControlsFree {
  void operator()(LDAPControl** c) const { ldap_controls_free(c); }
};
struct MsgFree {
  void operator()(LDAPMessage* m) const { ldap_msgfree(m); }
};

// The request controls for `controls`, owned.
class RequestControls {
 public:
  ~RequestControls() {
    for (LDAPControl* c : owned_) ldap_control_free(c);
  }
  Status Build(LDAP* ld, const WriteControls& controls) {
    if (!controls.assertion.empty()) {
      LDAPControl* c = nullptr;
      int rc = ldap_create_assertion_control(
          ld, const_cast<char*>(controls.assertion.c_str()), 1, &c);
      if (rc != LDAP_SUCCESS)
        return Status::InvalidArgument("bad assertion filter \"" +
                                       controls.assertion +
                                       "\": " + ldap_err2string(rc));
      owned_.push_back(c);
    }
    if (!controls.read_back.empty()) {
      std::vector<char*> attrs;
      for (const std::string& a : controls.read_back)
        attrs.push_back(const_cast<char*>(a.c_str()));
      attrs.push_back(nullptr);
      BerElement* ber = ber_alloc_t(LBER_USE_DER);
      if (!ber) return Status::IOError("out of memory building a control");
      berval value{};
      int rc = ber_printf(ber, "{v}", attrs.data()) < 0 ||
                       ber_flatten2(ber, &value, 0) < 0
                   ? LDAP_ENCODING_ERROR
                   : LDAP_SUCCESS;
      LDAPControl* c = nullptr;
      if (rc == LDAP_SUCCESS)
        rc = ldap_control_create(LDAP_CONTROL_POST_READ, 1, &value, 1, &c);
      ber_free(ber, 1);
      if (rc != LDAP_SUCCESS)
        return Status::IOError(std::string("building the post-read control: ") +
                               ldap_err2string(rc));
      owned_.push_back(c);
    }
    for (const auto& [wanted, oid] :
         {std::pair{controls.relax, LDAP_CONTROL_RELAX},
          std::pair{controls.show_deleted, LDAP_CONTROL_X_SHOW_DELETED}}) {
      if (!wanted) continue;
      LDAPControl* c = nullptr;
      const int rc = ldap_control_create(oid, 1, nullptr, 1, &c);
      if (rc != LDAP_SUCCESS)
        return Status::IOError(std::string("building control ") + oid + ": " +
                               ldap_err2string(rc));
      owned_.push_back(c);
    }
    ptrs_ = owned_;
    ptrs_.push_back(nullptr);
    return Status::Ok();
  }
  LDAPControl** get() { return owned_.empty() ? nullptr : ptrs_.data(); }

 private:
  std::vector<LDAPControl*> owned_;
  std::vector<LDAPControl*> ptrs_;
};

std::string Describe(std::string_view op, const std::string& dn,
                     const LdapConnection& conn) {
  return std::string(op) + " \"" + dn + "\" on " + conn.uri();
}

// Waits for the result of `msgid`, within the connection's timeout.
Result<std::unique_ptr<LDAPMessage, MsgFree>> Await(LdapConnection& conn,
                                                    int msgid,
                                                    const std::string& what) {
  LDAP* ld = conn.handle();
  timeval tv = Timeval(conn.options().timeout_s);
  LDAPMessage* res = nullptr;
  const int rc = ldap_result(ld, msgid, LDAP_MSG_ALL, &tv, &res);
  if (rc == 0) {
    ldap_abandon_ext(ld, msgid, nullptr, nullptr);
    char secs[32];
    std::snprintf(secs, sizeof(secs), "%g", conn.options().timeout_s);
    return Status::Timeout(what + ": no reply within " + secs +
                           " s (timeout_s); abandoned");
  }
  if (rc < 0) {
    int err = LDAP_SERVER_DOWN;
    ldap_get_option(ld, LDAP_OPT_RESULT_CODE, &err);
    return LdapStatus(err, what);
  }
  return std::unique_ptr<LDAPMessage, MsgFree>(res);
}

Result<LdapEntry> ParsePostRead(const LDAPControl* ctrl) {
  BerElement* ber = ber_init(const_cast<berval*>(&ctrl->ldctl_value));
  if (!ber)
    return Status::IOError("out of memory reading the post-read control");
  LdapEntry entry;
  berval bv{};
  Status st;
  if (ber_scanf(ber, "{m{" /*}}*/, &bv) == LBER_ERROR) {
    st = Status::InvalidArgument("malformed post-read control");
  } else {
    entry.dn.assign(bv.bv_val, bv.bv_len);
    while (ber_scanf(ber, "{m" /*}*/, &bv) != LBER_ERROR) {
      BerVarray vals = nullptr;
      if (ber_scanf(ber, "[W]", &vals) == LBER_ERROR) {
        st = Status::InvalidArgument("malformed post-read control");
        break;
      }
      Attribute a;
      a.name.assign(bv.bv_val, bv.bv_len);
      for (BerVarray v = vals; v && v->bv_val; ++v)
        a.values.emplace_back(v->bv_val, v->bv_len);
      ber_bvarray_free(vals);
      if (!IsSecretAttribute(a.name)) entry.attrs.push_back(std::move(a));
    }
  }
  ber_free(ber, 1);
  if (!st.ok()) return st;
  return entry;
}

// Parses a write's result into a reply or a Status.
Result<WriteReply> FinishWrite(LdapConnection& conn, int msgid,
                               const std::string& what) {
  auto res = Await(conn, msgid, what);
  if (!res.ok()) return res.status();
  int err = LDAP_OTHER;
  char* diag = nullptr;
  LDAPControl** raw_ctrls = nullptr;
  int rc = ldap_parse_result(conn.handle(), res->get(), &err, nullptr, &diag,
                             nullptr, &raw_ctrls, 0);
  std::unique_ptr<LDAPControl*, ControlsFree> ctrls(raw_ctrls);
  WriteReply reply;
  if (diag) {
    reply.diagnostic = diag;
    ldap_memfree(diag);
  }
  if (rc != LDAP_SUCCESS) return LdapStatus(rc, what + ": reading the result");
  if (err == LDAP_ASSERTION_FAILED)
    return Status::Conflict(what +
                            ": the entry no longer holds the expected prior "
                            "values (assertion failed)");
  if (err != LDAP_SUCCESS) return LdapStatus(err, what, reply.diagnostic);
  if (ctrls) {
    if (LDAPControl* c =
            ldap_control_find(LDAP_CONTROL_POST_READ, ctrls.get(), nullptr)) {
      auto entry = ParsePostRead(c);
      if (!entry.ok()) return entry.status().WithContext(what);
      reply.post_read = std::move(entry).value();
    }
  }
  return reply;
}

}  // namespace

std::string NamingContextOf(LdapConnection& conn, const std::string& base) {
  auto root = SearchEntries(conn, "", SearchScope::kBase, "(objectClass=*)",
                            {"namingContexts"});
  if (!root.ok() || root->empty()) return base;
  const std::string normalized = NormalizeDn(base);
  std::string best;
  for (const std::string& nc :
       AttrValues(root->front().attrs, "namingContexts"))
    if (DnIsUnder(normalized, NormalizeDn(nc)) && nc.size() > best.size())
      best = nc;
  return best.empty() ? base : best;
}

std::pair<std::string, std::string> SplitFirstRdn(std::string_view dn) {
  for (std::size_t i = 0; i < dn.size(); ++i) {
    if (dn[i] == '\\') {
      ++i;
      continue;
    }
    if (dn[i] == ',') {
      std::size_t start = i + 1;
      while (start < dn.size() && dn[start] == ' ') ++start;
      return {std::string(dn.substr(0, i)), std::string(dn.substr(start))};
    }
  }
  return {std::string(dn), ""};
}

Result<AttrList> RdnAttributes(const std::string& dn) {
  LDAPDN parsed = nullptr;
  if (ldap_str2dn(dn.c_str(), &parsed, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS ||
      !parsed || !parsed[0])
    return Status::InvalidArgument("\"" + dn + "\" is not a valid DN");
  AttrList out;
  for (LDAPAVA** ava = parsed[0]; *ava; ++ava) {
    Attribute a;
    a.name.assign((*ava)->la_attr.bv_val, (*ava)->la_attr.bv_len);
    a.values.emplace_back((*ava)->la_value.bv_val, (*ava)->la_value.bv_len);
    out.push_back(std::move(a));
  }
  ldap_dnfree(parsed);
  return out;
}

Result<WriteReply> AddEntry(LdapConnection& conn, const std::string& dn,
                            LdapModList& mods, const WriteControls& controls) {
  const std::string what = Describe("add", dn, conn);
  RequestControls rc_ctrls;
  DIRLEDGER_RETURN_IF_ERROR(rc_ctrls.Build(conn.handle(), controls));
  int msgid = 0;
  int rc = ldap_add_ext(conn.handle(), dn.c_str(), mods.get(), rc_ctrls.get(),
                        nullptr, &msgid);
  if (rc != LDAP_SUCCESS) return LdapStatus(rc, what);
  return FinishWrite(conn, msgid, what);
}

Result<WriteReply> ModifyEntry(LdapConnection& conn, const std::string& dn,
                               LdapModList& mods,
                               const WriteControls& controls) {
  const std::string what = Describe("modify", dn, conn);
  RequestControls rc_ctrls;
  DIRLEDGER_RETURN_IF_ERROR(rc_ctrls.Build(conn.handle(), controls));
  int msgid = 0;
  int rc = ldap_modify_ext(conn.handle(), dn.c_str(), mods.get(),
                           rc_ctrls.get(), nullptr, &msgid);
  if (rc != LDAP_SUCCESS) return LdapStatus(rc, what);
  return FinishWrite(conn, msgid, what);
}

Result<WriteReply> DeleteEntry(LdapConnection& conn, const std::string& dn,
                               const WriteControls& controls) {
  const std::string what = Describe("delete", dn, conn);
  RequestControls rc_ctrls;
  DIRLEDGER_RETURN_IF_ERROR(rc_ctrls.Build(conn.handle(), controls));
  int msgid = 0;
  int rc = ldap_delete_ext(conn.handle(), dn.c_str(), rc_ctrls.get(), nullptr,
                           &msgid);
  if (rc != LDAP_SUCCESS) return LdapStatus(rc, what);
  return FinishWrite(conn, msgid, what);
}

Result<WriteReply> RenameEntry(LdapConnection& conn, const std::string& dn,
                               const std::string& new_rdn,
                               const std::string& new_superior,
                               const WriteControls& controls) {
  const std::string what = Describe("rename", dn, conn);
  RequestControls rc_ctrls;
  DIRLEDGER_RETURN_IF_ERROR(rc_ctrls.Build(conn.handle(), controls));
  int msgid = 0;
  int rc = ldap_rename(conn.handle(), dn.c_str(), new_rdn.c_str(),
                       new_superior.empty() ? nullptr : new_superior.c_str(), 1,
                       rc_ctrls.get(), nullptr, &msgid);
  if (rc != LDAP_SUCCESS) return LdapStatus(rc, what);
  return FinishWrite(conn, msgid, what);
}

Result<std::vector<LdapEntry>> SearchEntries(
    LdapConnection& conn, const std::string& base, SearchScope scope,
    const std::string& filter, const std::vector<std::string>& attrs,
    const EntryReadOptions& options) {
  const std::string what =
      "search " + filter + " under \"" + base + "\" on " + conn.uri();
  std::vector<char*> attr_ptrs;
  for (const std::string& a : attrs)
    attr_ptrs.push_back(const_cast<char*>(a.c_str()));
  attr_ptrs.push_back(nullptr);
  const int ldap_scope = scope == SearchScope::kBase       ? LDAP_SCOPE_BASE
                         : scope == SearchScope::kOneLevel ? LDAP_SCOPE_ONELEVEL
                                                           : LDAP_SCOPE_SUBTREE;
  int msgid = 0;
  int rc = ldap_search_ext(conn.handle(), base.c_str(), ldap_scope,
                           filter.c_str(), attr_ptrs.data(), 0, nullptr,
                           nullptr, nullptr, 0, &msgid);
  if (rc != LDAP_SUCCESS) return LdapStatus(rc, what);
  auto res = Await(conn, msgid, what);
  if (!res.ok()) return res.status();
  std::vector<LdapEntry> out;
  for (LDAPMessage* m = ldap_first_message(conn.handle(), res->get()); m;
       m = ldap_next_message(conn.handle(), m)) {
    const int type = ldap_msgtype(m);
    if (type == LDAP_RES_SEARCH_ENTRY) {
      auto e = ReadEntry(conn.handle(), m, options);
      if (!e.ok()) return e.status().WithContext(what);
      out.push_back(std::move(e).value());
    } else if (type == LDAP_RES_SEARCH_RESULT) {
      int err = LDAP_OTHER;
      char* diag = nullptr;
      rc = ldap_parse_result(conn.handle(), m, &err, nullptr, &diag, nullptr,
                             nullptr, 0);
      std::string text = diag ? diag : "";
      if (diag) ldap_memfree(diag);
      if (rc != LDAP_SUCCESS) return LdapStatus(rc, what);
      if (err != LDAP_SUCCESS) return LdapStatus(err, what, text);
    }
  }
  return out;
}

}  // namespace dirledger

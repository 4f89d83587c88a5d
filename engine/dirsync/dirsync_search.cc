#include "engine/dirsync/dirsync_search.h"

#include <ldap.h>

#include <cmath>
#include <cstdlib>
#include <memory>

#include "engine/dirsync/object_guid.h"
#include "replay/rules.h"

namespace dirledger {
namespace {

struct MsgFree {
  void operator()(LDAPMessage* m) const { ldap_msgfree(m); }
};
using MsgPtr = std::unique_ptr<LDAPMessage, MsgFree>;

timeval Tv(double s) {
  timeval tv;
  tv.tv_sec = static_cast<time_t>(std::floor(s));
  tv.tv_usec = static_cast<suseconds_t>((s - std::floor(s)) * 1e6);
  return tv;
}

std::string TimeoutText(const LdapConnection& conn) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", conn.options().timeout_s);
  return buf;
}

// The C array of attribute names libldap wants.
std::vector<char*> AttrArray(const std::vector<std::string>& attrs) {
  std::vector<char*> out;
  out.reserve(attrs.size() + 1);
  for (const std::string& a : attrs)
    out.push_back(const_cast<char*>(a.c_str()));
  out.push_back(nullptr);
  return out;
}

// Visits the DN and every attribute of an entry message without copying the
// message (ldap_get_attribute_ber reads the BER in place).
template <typename DnFn, typename AttrFn>
Status ReadEntry(LDAP* ld, LDAPMessage* entry, DnFn on_dn, AttrFn on_attr) {
  BerElement* ber = nullptr;
  berval bv;
  if (ldap_get_dn_ber(ld, entry, &ber, &bv) != LDAP_SUCCESS)
    return Status::IOError("cannot read the DN of a search result entry");
  on_dn(std::string_view(bv.bv_val, bv.bv_len));
  BerVarray vals = nullptr;
  int rc;
  for (rc = ldap_get_attribute_ber(ld, entry, ber, &bv, &vals);
       rc == LDAP_SUCCESS;
       rc = ldap_get_attribute_ber(ld, entry, ber, &bv, &vals)) {
    if (bv.bv_val == nullptr) break;
    std::vector<std::string> values;
    if (vals) {
      for (BerVarray v = vals; v->bv_val; ++v)
        values.emplace_back(v->bv_val, v->bv_len);
      ber_memfree(vals);
      vals = nullptr;
    }
    on_attr(std::string_view(bv.bv_val, bv.bv_len), std::move(values));
  }
  if (ber) ber_free(ber, 0);
  if (rc != LDAP_SUCCESS)
    return Status::IOError(
        "cannot read the attributes of a search result "
        "entry");
  return Status::Ok();
}

Status ResultStatus(LdapConnection* conn, LDAPMessage* msg,
                    std::string_view what, int* code,
                    LDAPControl*** server_controls) {
  int err = LDAP_SUCCESS;
  char* text = nullptr;
  const int rc = ldap_parse_result(conn->handle(), msg, &err, nullptr, &text,
                                   nullptr, server_controls, 0);
  std::string diagnostic = text ? text : "";
  if (text) ldap_memfree(text);
  if (rc != LDAP_SUCCESS) {
    *code = rc;
    return conn->Error(rc, std::string(what) + ": unreadable result");
  }
  *code = err;
  return LdapStatus(err, std::string(what) + " on " + conn->uri(), diagnostic);
}

}  // namespace

Result<NamingContext> FindNamingContext(LdapConnection* conn,
                                        std::string_view search_base) {
  LDAP* ld = conn->handle();
  const std::vector<std::string> attrs = {"namingContexts",
                                          "defaultNamingContext"};
  std::vector<char*> a = AttrArray(attrs);
  LDAPMessage* raw = nullptr;
  timeval tv = Tv(conn->options().timeout_s);
  int rc = ldap_search_ext_s(ld, "", LDAP_SCOPE_BASE, "(objectClass=*)",
                             a.data(), 0, nullptr, nullptr, &tv, 0, &raw);
  MsgPtr msg(raw);
  if (rc != LDAP_SUCCESS) return conn->Error(rc, "reading the root DSE");
  LDAPMessage* e = ldap_first_entry(ld, raw);
  if (!e)
    return Status::NotFound("the root DSE of " + conn->uri() +
                            " could not be read");
  std::vector<std::string> ncs;
  std::string default_nc;
  DIRLEDGER_RETURN_IF_ERROR(ReadEntry(
      ld, e, [](std::string_view) {},
      [&](std::string_view name, std::vector<std::string> values) {
        if (EqualsIgnoreCase(name, "namingContexts")) ncs = std::move(values);
        if (EqualsIgnoreCase(name, "defaultNamingContext") && !values.empty())
          default_nc = values[0];
      }));
  NamingContext out;
  const std::string base = NormalizeDn(search_base);
  if (!base.empty()) {
    for (const std::string& nc : ncs) {
      const std::string n = NormalizeDn(nc);
      if (DnIsUnder(base, n) && nc.size() > out.dn.size()) out.dn = nc;
    }
  }
  if (out.dn.empty()) {
    if (!base.empty() && !default_nc.empty() &&
        !DnIsUnder(base, NormalizeDn(default_nc)))
      return Status::InvalidArgument(
          "the base DNs (under \"" + std::string(search_base) +
          "\") lie in no naming context of " + conn->uri());
    out.dn = default_nc;
  }
  if (out.dn.empty())
    return Status::NotFound(conn->uri() +
                            " names no naming context (is it a directory "
                            "server with DirSync, Active Directory?)");
  const std::vector<std::string> guid_attr = {"objectGUID"};
  std::vector<char*> g = AttrArray(guid_attr);
  raw = nullptr;
  rc = ldap_search_ext_s(ld, out.dn.c_str(), LDAP_SCOPE_BASE, "(objectClass=*)",
                         g.data(), 0, nullptr, nullptr, &tv, 0, &raw);
  msg.reset(raw);
  if (rc != LDAP_SUCCESS)
    return conn->Error(rc, "reading the objectGUID of \"" + out.dn + "\"");
  e = ldap_first_entry(ld, raw);
  if (e) {
    DIRLEDGER_RETURN_IF_ERROR(ReadEntry(
        ld, e, [](std::string_view) {},
        [&](std::string_view name, std::vector<std::string> values) {
          if (EqualsIgnoreCase(name, "objectGUID") && values.size() == 1)
            out.guid = FormatObjectGuid(values[0]).value_or("");
        }));
  }
  if (out.guid.empty())
    return Status::InvalidArgument("naming context \"" + out.dn + "\" on " +
                                   conn->uri() + " has no objectGUID");
  return out;
}

DirSyncSearchResult RunDirSyncSearch(
    LdapConnection* conn, const DirSyncRequest& request,
    const std::function<Status(DirSyncEntry)>& on_entry) {
  DirSyncSearchResult out;
  LDAP* ld = conn->handle();
  const std::string what = "DirSync search of \"" + request.base + "\"";
  Result<std::string> value =
      EncodeDirSyncRequest(request.flags, request.cookie);
  if (!value.ok()) {
    out.status = value.status();
    return out;
  }
  LDAPControl dirsync;
  dirsync.ldctl_oid = const_cast<char*>(kDirSyncOid);
  dirsync.ldctl_value.bv_val = value->data();
  dirsync.ldctl_value.bv_len = value->size();
  dirsync.ldctl_iscritical = 1;
  LDAPControl show_deleted;
  show_deleted.ldctl_oid = const_cast<char*>(kShowDeletedOid);
  show_deleted.ldctl_value.bv_val = nullptr;
  show_deleted.ldctl_value.bv_len = 0;
  show_deleted.ldctl_iscritical = 0;
  LDAPControl* controls[] = {&dirsync, &show_deleted, nullptr};
  std::vector<char*> attrs = AttrArray(request.attributes);
  int msgid = 0;
  int rc = ldap_search_ext(ld, request.base.c_str(), LDAP_SCOPE_SUBTREE,
                           request.filter.c_str(), attrs.data(), 0, controls,
                           nullptr, nullptr, LDAP_NO_LIMIT, &msgid);
  if (rc != LDAP_SUCCESS) {
    out.ldap_code = rc;
    out.status = conn->Error(rc, what);
    return out;
  }
  const double timeout = conn->options().timeout_s;
  for (;;) {
    LDAPMessage* raw = nullptr;
    timeval tv = Tv(timeout);
    const int type = ldap_result(ld, msgid, LDAP_MSG_ONE, &tv, &raw);
    MsgPtr msg(raw);
    if (type == 0) {
      ldap_abandon_ext(ld, msgid, nullptr, nullptr);
      out.ldap_code = LDAP_TIMEOUT;
      out.status =
          Status::Timeout(what + " on " + conn->uri() + ": no answer within " +
                          TimeoutText(*conn) + " s");
      return out;
    }
    if (type == -1) {
      int err = LDAP_SERVER_DOWN;
      ldap_get_option(ld, LDAP_OPT_RESULT_CODE, &err);
      out.ldap_code = err;
      out.status = conn->Error(err, what);
      return out;
    }
    if (type == LDAP_RES_SEARCH_ENTRY) {
      ++out.entries;
      DirSyncEntry entry;
      Status s = ReadEntry(
          ld, raw, [&](std::string_view dn) { entry.dn = std::string(dn); },
          [&](std::string_view name, std::vector<std::string> values) {
            AddEntryAttribute(&entry, name, std::move(values));
          });
      if (s.ok()) s = on_entry(std::move(entry));
      if (!s.ok()) {
        ldap_abandon_ext(ld, msgid, nullptr, nullptr);
        out.status = s;
        return out;
      }
      continue;
    }
    if (type != LDAP_RES_SEARCH_RESULT) continue;  // references
    LDAPControl** sctrls = nullptr;
    out.status = ResultStatus(conn, raw, what, &out.ldap_code, &sctrls);
    if (out.status.ok()) {
      LDAPControl* c = ldap_control_find(kDirSyncOid, sctrls, nullptr);
      if (!c) {
        out.status = Status::InvalidArgument(
            what + " on " + conn->uri() +
            ": the server sent no DirSync response control (DirSync is an "
            "Active Directory feature)");
      } else {
        Result<DirSyncResponse> r = DecodeDirSyncResponse(
            std::string_view(c->ldctl_value.bv_val, c->ldctl_value.bv_len));
        if (r.ok()) {
          out.response = std::move(r).value();
        } else {
          out.status = r.status().WithContext(what + " on " + conn->uri());
        }
      }
    }
    if (sctrls) ldap_controls_free(sctrls);
    return out;
  }
}

Result<std::optional<DirSyncEntry>> ReadObjectByGuid(
    LdapConnection* conn, const std::string& guid,
    const std::vector<std::string>& attributes) {
  LDAP* ld = conn->handle();
  const std::string base = "<GUID=" + guid + ">";
  DirSyncEntry entry;
  bool found = false;
  std::vector<std::string> wanted = attributes;
  // Range retrieval: a server may return a large multi-valued attribute as
  // "member;range=0-1499"; the rest is asked for as "member;range=1500-*".
  for (int round = 0; !wanted.empty(); ++round) {
    std::vector<char*> a = AttrArray(wanted);
    LDAPMessage* raw = nullptr;
    timeval tv = Tv(conn->options().timeout_s);
    const int rc =
        ldap_search_ext_s(ld, base.c_str(), LDAP_SCOPE_BASE, "(objectClass=*)",
                          a.data(), 0, nullptr, nullptr, &tv, 0, &raw);
    MsgPtr msg(raw);
    if (rc == LDAP_NO_SUCH_OBJECT) return std::optional<DirSyncEntry>();
    if (rc != LDAP_SUCCESS) return conn->Error(rc, "reading object " + guid);
    LDAPMessage* e = ldap_first_entry(ld, raw);
    if (!e) return std::optional<DirSyncEntry>();
    found = true;
    std::vector<std::string> more;
    DIRLEDGER_RETURN_IF_ERROR(ReadEntry(
        ld, e,
        [&](std::string_view dn) {
          if (round == 0) entry.dn = std::string(dn);
        },
        [&](std::string_view desc, std::vector<std::string> values) {
          const size_t semi = desc.find(';');
          const std::string name(desc.substr(0, semi));
          const std::string_view opts = semi == std::string_view::npos
                                            ? std::string_view()
                                            : desc.substr(semi + 1);
          if (opts.substr(0, 6) == "range=") {
            const size_t dash = opts.find('-');
            const std::string_view end =
                dash == std::string_view::npos ? "*" : opts.substr(dash + 1);
            if (end != "*") {
              const long next =
                  std::strtol(std::string(end).c_str(), nullptr, 10) + 1;
              more.push_back(name + ";range=" + std::to_string(next) + "-*");
            }
          }
          AddEntryAttribute(&entry, name, std::move(values));
        }));
    if (round > 100000 && !more.empty())
      return Status::IOError("reading object " + guid +
                             ": range retrieval does not end");
    wanted = std::move(more);
  }
  if (!found) return std::optional<DirSyncEntry>();
  return std::optional<DirSyncEntry>(std::move(entry));
}

}  // namespace dirledger

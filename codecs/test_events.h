// Realistic sample events for tests and benchmarks: an inetOrgPerson change
// of about a dozen attributes, as syncrepl reports it.
#ifndef DIRLEDGER_CODECS_TEST_EVENTS_H_
#define DIRLEDGER_CODECS_TEST_EVENTS_H_

#include <cstdio>
#include <string>

#include "codecs/event.h"

namespace dirledger::testing {

// A syncrepl-style full image of person `n` (uid=userNNNNNN).
inline ObservedChange PersonChange(int n, ChangeOp op = ChangeOp::kModify) {
  char uid[32], uuid[40], phone[32];
  std::snprintf(uid, sizeof uid, "user%06d", n);
  std::snprintf(uuid, sizeof uuid, "%08x-1111-4222-8333-%012x", n, n * 7);
  std::snprintf(phone, sizeof phone, "+1 555 %07d", n);
  ObservedChange c;
  c.side = Side::kLdap;
  c.source = "corp/syncrepl";
  c.connector = "corp";
  c.domain = "example.com";
  c.kind = ObjectKind::kAccount;
  c.id = uuid;
  c.dn = std::string("uid=") + uid + ",ou=people,dc=example,dc=com";
  c.op = op;
  c.full_image = op != ChangeOp::kDelete;
  if (op == ChangeOp::kDelete) return c;
  const std::string num = std::to_string(n);
  c.attrs = {
      {"cn", {"User " + num}},
      {"description", {"generated test entry " + num}},
      {"displayName", {"User Number" + num}},
      {"employeeNumber", {num}},
      {"givenName", {"User"}},
      {"mail", {std::string(uid) + "@example.com"}},
      {"mobile", {std::string(phone) + "9"}},
      {"objectClass",
       {"inetOrgPerson", "organizationalPerson", "person", "top"}},
      {"ou", {"Engineering"}},
      {"sn", {"Number" + num}},
      {"telephoneNumber", {phone}},
      {"title", {"Engineer"}},
      {"uid", {uid}},
  };
  return c;
}

}  // namespace dirledger::testing

#endif  // DIRLEDGER_CODECS_TEST_EVENTS_H_

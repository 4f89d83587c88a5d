// HookEvent: what an alert hook is told, one JSON object on its standard
// input (docs/operations.md, "Alert hooks and journald"). It carries ids,
// names and a message meant for a person; never a secret: nothing in it is
// read from a password file or a secret attribute.
//
// Thread safety: a plain value.
#ifndef DIRLEDGER_ENGINE_HOOKS_HOOK_EVENT_H_
#define DIRLEDGER_ENGINE_HOOKS_HOOK_EVENT_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace dirledger {

struct HookEvent {
  std::string type;          // hold, failed_write, source_down, conflict,
                             // verify_failed (HookEventNames())
  std::int64_t time_us = 0;  // when it happened (the event's log time)
  std::uint64_t seq = 0;     // the log record that opened it, 0 when none
  std::string record;        // what an operator types: F<seq>, hold-<seq>
  std::string source;        // the source or connector concerned
  std::string side;          // ldap | mail, where known
  std::string kind;          // account | group, where known
  std::string object;        // the object's stable id on `side`
  std::string dn;
  std::string address;  // the mail address, where known
  std::string message;  // for a person
};

// {"type", "time" (ISO 8601 UTC), and every other field that is set}.
// Text that is not valid UTF-8 is replaced, never dropped whole.
nlohmann::json HookEventJson(const HookEvent& event);

}  // namespace dirledger

#endif  // DIRLEDGER_ENGINE_HOOKS_HOOK_EVENT_H_

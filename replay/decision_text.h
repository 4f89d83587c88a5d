// Readable text for events and decisions: what golden tests compare, and
// what `dirledger log` and `explain` print. One line per event; a block per
// decision (a head line, the reason, then one line per intent, link and
// conflict). Stable: the same record always renders the same text.
//
// Values are printed as they are when they are printable UTF-8; other bytes
// as \xNN (and a backslash as \\), so binary values (objectGUID) and bad
// input never garble a terminal.
//
// Thread safety: pure functions.
#ifndef DIRLEDGER_REPLAY_DECISION_TEXT_H_
#define DIRLEDGER_REPLAY_DECISION_TEXT_H_

#include <string>
#include <string_view>

#include "codecs/attributes.h"
#include "codecs/event.h"

namespace dirledger {

// "#12 change ldap account modify uid=jdoe,ou=people,dc=example,dc=com
// id=... source=corp/syncrepl full: cn=[John Doe] ..." (one line).
std::string EventText(const Event& event);

// A block of lines, each ending in '\n'; continuation lines are indented by
// four spaces:
//   #12 propagated [propagate/ldap-to-mail]
//       LDAP account uid=jdoe,... changed title; written to mail account ...
//       intent 12.0 modify mail account jdoe@example.com set title=[Engineer]
//         expect title=[Developer] version=7 from=<ldap id>
//       objects: ...
std::string DecisionText(const Decision& decision);

// One intent on one line: "12.0 modify mail account a@x.com set ...".
std::string IntentText(const Intent& intent);

// "cn=[John Doe] mail=[a@x.com,b@x.com]"; "-" for an empty list.
std::string AttrsText(const AttrList& attrs);

// A value escaped as described above.
std::string ValueText(std::string_view value);

}  // namespace dirledger

#endif  // DIRLEDGER_REPLAY_DECISION_TEXT_H_

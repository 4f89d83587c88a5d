// MailDirectory: the mail side (Axigen's account store) behind one
// interface: a Source of its changes (read since a cursor) and an Applier of
// write intents. Two implementations: the embedded mail directory
// (engine/embedded_mail/, the default, its own RocksDB) and Axigen over its
// CLI (engine/axigen/).
//
// Mail-side objects are identified by address: "name@domain" in lower case,
// for accounts and groups alike. Their attributes use Axigen's field names
// (replay/attribute_map.h, namespace field).
#ifndef DIRLEDGER_ENGINE_MAIL_DIRECTORY_H_
#define DIRLEDGER_ENGINE_MAIL_DIRECTORY_H_

#include "engine/applier.h"
#include "engine/source.h"

namespace dirledger {

class MailDirectory : public Source, public Applier {
 public:
  Side side() const override { return Side::kMail; }
};

}  // namespace dirledger

#endif  // DIRLEDGER_ENGINE_MAIL_DIRECTORY_H_

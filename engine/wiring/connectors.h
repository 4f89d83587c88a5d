// Connectors: the composition root. From the rules in force it builds every
// source and applier the config names: per connector that serves a domain,
// its change feed (syncrepl for OpenLDAP, DirSync for Active Directory) and
// its writer (whatever the direction: the reconciler decides what is
// written; an operator's rollback may write to the authoritative side, and
// writers connect only when they write); and the mail side (the
// embedded mail directory, or Axigen over its CLI), which is both a source
// and an applier. Nothing else in dirledger names a concrete connector.
//
// Thread safety: build once, then hand the pointers to a RunLoop.
#ifndef DIRLEDGER_ENGINE_WIRING_CONNECTORS_H_
#define DIRLEDGER_ENGINE_WIRING_CONNECTORS_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/applier.h"
#include "engine/mail_directory.h"
#include "engine/source.h"
#include "replay/rules.h"

namespace dirledger {

class EmbeddedMailDirectory;

struct ConnectorSet {
  std::vector<std::unique_ptr<Source>> ldap_sources;
  // (connector name, writer)
  std::vector<std::pair<std::string, std::unique_ptr<Applier>>> ldap_writers;
  std::unique_ptr<MailDirectory> mail;
  EmbeddedMailDirectory* embedded = nullptr;  // when [mail] kind = "embedded"

  // LDAP sources first, then the mail side.
  std::vector<Source*> sources() const;
  // (side, connector) -> applier, as RunLoop takes them; the mail side is
  // registered under connector "".
  std::map<std::pair<Side, std::string>, Applier*> appliers() const;
};

struct ConnectorSetOptions {
  bool ldap = true;       // build LDAP sources and writers
  bool mail = true;       // open the mail side
  bool mail_sync = true;  // fsync the embedded mail directory's writes
  // The service: its databases leave due compactions to the next start
  // (DatabaseSpec::settle_compactions_at_close).
  bool long_running = false;
};

// Builds what `rules` names. Errors name the connector and the cause (an
// unreadable password file, a bad URI, a mail directory in use...).
Result<ConnectorSet> BuildConnectors(std::shared_ptr<const RuleSet> rules,
                                     const ConnectorSetOptions& options = {});

// Opens only the embedded mail directory of `rules`' config (for
// `dirledger mail ...`).
Result<std::unique_ptr<EmbeddedMailDirectory>> OpenEmbeddedMail(
    std::shared_ptr<const RuleSet> rules, bool read_only = false);

}  // namespace dirledger

#endif  // DIRLEDGER_ENGINE_WIRING_CONNECTORS_H_

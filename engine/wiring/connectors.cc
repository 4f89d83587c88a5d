#include "engine/wiring/connectors.h"

#include "engine/ad_writer/ad_writer.h"
#include "engine/axigen/axigen_mail_directory.h"
#include "engine/dirsync/dirsync_source.h"
#include "engine/embedded_mail/embedded_mail_directory.h"
#include "engine/ldap_writer/ldap_writer.h"
#include "engine/syncrepl/syncrepl_source.h"

namespace dirledger {

std::vector<Source*> ConnectorSet::sources() const {
  std::vector<Source*> out;
  for (const auto& s : ldap_sources) out.push_back(s.get());
  if (mail) out.push_back(mail.get());
  return out;
}

std::map<std::pair<Side, std::string>, Applier*> ConnectorSet::appliers()
    const {
  std::map<std::pair<Side, std::string>, Applier*> out;
  for (const auto& [name, writer] : ldap_writers)
    out[{Side::kLdap, name}] = writer.get();
  if (mail) out[{Side::kMail, ""}] = mail.get();
  return out;
}

namespace {

bool ServesADomain(const ConnectorRules& c) { return !c.domains.empty(); }

}  // namespace

Result<std::unique_ptr<EmbeddedMailDirectory>> OpenEmbeddedMail(
    std::shared_ptr<const RuleSet> rules, bool read_only) {
  const std::string dir = EmbeddedMailDirectory::DirFor(rules->config());
  EmbeddedMailOptions o;
  o.read_only = read_only;
  auto m = EmbeddedMailDirectory::Open(dir, rules, o);
  if (!m.ok()) return m.status().WithContext("embedded mail directory " + dir);
  return m;
}

Result<ConnectorSet> BuildConnectors(std::shared_ptr<const RuleSet> rules,
                                     const ConnectorSetOptions& options) {
  ConnectorSet set;
  if (options.ldap) {
    for (const ConnectorRules& c : rules->connectors()) {
      if (!ServesADomain(c)) continue;
      const std::string& name = c.config.name;
      if (c.config.server_type == ServerType::kOpenLdap) {
        auto src = SyncreplSource::Create(rules, name);
        if (!src.ok()) return src.status();
        set.ldap_sources.push_back(std::move(src).value());
        auto w = LdapWriter::Create(rules, name);
        if (!w.ok()) return w.status();
        set.ldap_writers.emplace_back(name, std::move(w).value());
      } else {
        auto opts = DirSyncOptionsFor(rules, name);
        if (!opts.ok()) return opts.status();
        set.ldap_sources.push_back(
            std::make_unique<DirSyncSource>(std::move(opts).value()));
        auto wopts = AdWriterOptionsFor(*rules, name);
        if (!wopts.ok()) return wopts.status();
        set.ldap_writers.emplace_back(
            name, std::make_unique<AdWriter>(std::move(wopts).value()));
      }
    }
  }
  if (options.mail) {
    if (rules->config().mail.kind == MailKind::kEmbedded) {
      EmbeddedMailOptions mo;
      mo.sync = options.mail_sync;
      mo.settle_compactions_at_close = !options.long_running;
      const std::string dir = EmbeddedMailDirectory::DirFor(rules->config());
      auto m = EmbeddedMailDirectory::Open(dir, rules, mo);
      if (!m.ok())
        return m.status().WithContext("embedded mail directory " + dir);
      set.embedded = m->get();
      set.mail = std::move(m).value();
    } else {
      auto m = AxigenMailDirectory::FromConfig(rules->config(), rules);
      if (!m.ok()) return m.status().WithContext("Axigen");
      set.mail = std::move(m).value();
    }
  }
  return set;
}

}  // namespace dirledger

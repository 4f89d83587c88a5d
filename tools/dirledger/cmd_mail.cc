// `dirledger mail list|show|add|set|remove`: administration of the embedded
// mail directory, the stand-in for Axigen's own admin. Changes made here
// are taken into the log by the next `run`, like any change on the mail side.
#include <iostream>

#include "codecs/printable.h"
#include "engine/embedded_mail/embedded_mail_directory.h"
#include "engine/embedded_mail/mail_admin.h"
#include "engine/wiring/connectors.h"
#include "tools/dirledger/commands.h"

namespace dirledger::cli {

int RunMail(CliContext& ctx, const MailOptions& o) {
  const Config* cfg = ctx.config();
  if (!cfg) return kExitUsage;
  if (cfg->mail.kind != MailKind::kEmbedded) {
    ctx.err() << "dirledger: the mail side of " << ctx.config_path()
              << " is Axigen ([mail] kind = \"axigen\"); `dirledger mail` "
                 "administers the embedded mail directory only\n";
    return kExitUsage;
  }
  auto rules = RuleSet::Compile(*cfg);
  if (!rules.ok()) return ctx.Fail(rules.status());
  // Looking needs no lock: list and show work while `run` holds the
  // directory.
  const bool read_only = o.action == "list" || o.action == "show";
  // A change waits for no restore, and no restore swaps the directory out
  // from under it.
  if (!read_only && !ctx.LockDataDir()) return ctx.OpenFailedExit();
  // Carried out by the service: its directory, open already, and the
  // password the asking command read.
  std::unique_ptr<EmbeddedMailDirectory> opened;
  EmbeddedMailDirectory* directory = nullptr;
  if (ctx.service() && ctx.service()->embedded) {
    directory = ctx.service()->embedded;
  } else {
    auto dir = OpenEmbeddedMail(*rules, read_only);
    if (!dir.ok()) return ctx.Fail(dir.status());
    opened = std::move(dir).value();
    directory = opened.get();
  }
  MailAdmin admin(directory);

  std::optional<Secret> password;
  if (ctx.service()) {
    password = ctx.given_password();
  } else if (!o.password_file.empty() || !o.password_env.empty()) {
    auto p = ReadSecret(*cfg, o.password_file, o.password_env, "password");
    if (!p.ok()) return ctx.Fail(p.status());
    password = std::move(p).value();
  }
  auto print = [&](const MailEntry& e) {
    if (o.json)
      CliContext::JsonLine(ctx.out(), ToJson(e));
    else
      ctx.out() << ToText(e);
  };

  if (o.action == "list") {
    auto entries = admin.List(o.domain);
    if (!entries.ok()) return ctx.Fail(entries.status());
    for (const MailEntry& e : *entries) {
      if (o.json) {
        CliContext::JsonLine(ctx.out(), ToJson(e));
      } else {
        ctx.out() << PrintableText(e.address) << "  " << KindName(e.kind);
        const std::string_view first = FirstValue(e.fields, "firstName");
        const std::string_view last = FirstValue(e.fields, "lastName");
        const std::string_view display = FirstValue(e.fields, "displayName");
        if (!display.empty())
          ctx.out() << "  " << PrintableText(display);
        else if (!first.empty() || !last.empty())
          ctx.out() << "  " << PrintableText(first) << " "
                    << PrintableText(last);
        ctx.out() << "\n";
      }
    }
    if (!o.json) ctx.err() << entries->size() << " objects\n";
    return kExitOk;
  }
  if (o.address.empty()) {
    ctx.err() << "dirledger: mail " << o.action << " needs an ADDRESS\n";
    return kExitUsage;
  }
  if (o.action == "show") {
    auto e = admin.Show(o.address);
    if (!e.ok()) return ctx.Fail(e.status());
    print(*e);
    return kExitOk;
  }
  if (o.action == "remove") {
    Status s = admin.Remove(o.address);
    if (!s.ok()) return ctx.Fail(s);
    if (!o.json) ctx.out() << "removed " << PrintableText(o.address) << "\n";
    return kExitOk;
  }
  auto edits = ParseMailEdits(o.edits);
  if (!edits.ok()) return ctx.Fail(edits.status());
  if (o.action == "add") {
    auto e = admin.Add(o.address, *edits, password);
    if (!e.ok()) return ctx.Fail(e.status());
    print(*e);
    return kExitOk;
  }
  if (o.action == "set") {
    if (edits->edits.empty() && !password) {
      ctx.err() << "dirledger: mail set needs FIELD=VALUE edits\n";
      return kExitUsage;
    }
    auto e = admin.Set(o.address, *edits, password);
    if (!e.ok()) return ctx.Fail(e.status());
    print(*e);
    return kExitOk;
  }
  ctx.err() << "dirledger: unknown mail action " << o.action << "\n";
  return kExitUsage;
}

}  // namespace dirledger::cli

// `dirledger mail list|show|add|set|remove`: administration of the embedded
// mail directory, the stand-in for Axigen's own admin. Changes made here
// are taken into the log by the next `run`, like any change on the mail side.
#include <iostream>

#include "codecs/printable.h"
#include "engine/embedded_mail/mail_admin.h"
#include "engine/wiring/connectors.h"
#include "tools/dirledger/commands.h"

namespace dirledger::cli {

int RunMail(CliContext& ctx, const MailOptions& o) {
  const Config* cfg = ctx.config();
  if (!cfg) return kExitUsage;
  if (cfg->mail.kind != MailKind::kEmbedded) {
    std::cerr << "dirledger: the mail side of " << ctx.config_path()
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
  auto dir = OpenEmbeddedMail(*rules, read_only);
  if (!dir.ok()) return ctx.Fail(dir.status());
  MailAdmin admin(dir->get());

  std::optional<Secret> password;
  if (!o.password_file.empty() || !o.password_env.empty()) {
    auto p = ReadSecret(*cfg, o.password_file, o.password_env, "password");
    if (!p.ok()) return ctx.Fail(p.status());
    password = std::move(p).value();
  }
  auto print = [&](const MailEntry& e) {
    if (o.json)
      CliContext::JsonLine(ToJson(e));
    else
      std::cout << ToText(e);
  };

  if (o.action == "list") {
    auto entries = admin.List(o.domain);
    if (!entries.ok()) return ctx.Fail(entries.status());
    for (const MailEntry& e : *entries) {
      if (o.json) {
        CliContext::JsonLine(ToJson(e));
      } else {
        std::cout << PrintableText(e.address) << "  " << KindName(e.kind);
        const std::string_view first = FirstValue(e.fields, "firstName");
        const std::string_view last = FirstValue(e.fields, "lastName");
        const std::string_view display = FirstValue(e.fields, "displayName");
        if (!display.empty())
          std::cout << "  " << PrintableText(display);
        else if (!first.empty() || !last.empty())
          std::cout << "  " << PrintableText(first) << " "
                    << PrintableText(last);
        std::cout << "\n";
      }
    }
    if (!o.json) std::cerr << entries->size() << " objects\n";
    return kExitOk;
  }
  if (o.address.empty()) {
    std::cerr << "dirledger: mail " << o.action << " needs an ADDRESS\n";
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
    if (!o.json) std::cout << "removed " << PrintableText(o.address) << "\n";
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
      std::cerr << "dirledger: mail set needs FIELD=VALUE edits\n";
      return kExitUsage;
    }
    auto e = admin.Set(o.address, *edits, password);
    if (!e.ok()) return ctx.Fail(e.status());
    print(*e);
    return kExitOk;
  }
  std::cerr << "dirledger: unknown mail action " << o.action << "\n";
  return kExitUsage;
}

}  // namespace dirledger::cli

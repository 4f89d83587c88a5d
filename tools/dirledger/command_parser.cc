#include "tools/dirledger/command_parser.h"

#include "tools/dirledger/version.h"

namespace dirledger::cli {
namespace {

constexpr const char* kFooter =
    "Exit codes: 0 ok, 1 failure or mismatch (`run --once`: a write failed, "
    "or a failure was opened, in this run), 2 usage or config error (an "
    "unknown failure id for `dismiss`), 3 held by the mass-delete "
    "guard.\nWhile `dirledger run` runs as a service, approve, reject, "
    "dismiss, rollback, mail add|set|remove and backup are carried out by "
    "it (its control socket, DATA/control.sock); restore needs it "
    "stopped.\nDocs: docs/operations.md, "
    "docs/audit.md, docs/configuration.md.";

constexpr const char* kByService =
    "While `dirledger run` runs as a service, the service carries this "
    "command out (its control socket, DATA/control.sock) and its answer is "
    "printed here.";

// CLI11 reports an unknown command word as "A subcommand is required";
// this names the word and the commands there are instead. Returns 0, or
// kExitUsage after printing.
int CheckCommandWords(CLI::App& app, int argc, const char* const* argv,
                      std::ostream& err) {
  CLI::App* at = &app;
  std::string path = "dirledger";
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    if (word == "--") break;
    if (word == "--config") {
      ++i;
      continue;
    }
    if (!word.empty() && word[0] == '-') continue;
    const auto subs = at->get_subcommands([](CLI::App*) { return true; });
    if (subs.empty()) break;  // a leaf command's own arguments follow
    CLI::App* next = nullptr;
    std::string names;
    for (CLI::App* sub : subs) {
      if (sub->get_name() == word) next = sub;
      names += (names.empty() ? "" : ", ") + sub->get_name();
    }
    if (!next) {
      err << path << ": unknown command \"" << word
          << "\"; the commands are: " << names
          << "\nRun with --help for more information.\n";
      return kExitUsage;
    }
    at = next;
    path += " " + word;
  }
  return 0;
}

}  // namespace

CommandParser::CommandParser() {
  app.description(
      "dirledger: keeps an LDAP directory and Axigen's accounts and groups in "
      "sync through an append-only, tamper-evident log");
  app.footer(kFooter);
  app.require_subcommand(1);
  app.add_option("--config", config, "config file")->capture_default_str();
  // The version, the revision and what it was built with (version.h).
  app.set_version_flag(
      "--version",
      [] {
        std::string text = VersionText();
        if (!text.empty() && text.back() == '\n') text.pop_back();
        return text;
      },
      "print the version, git revision, log format and rules versions, and "
      "library versions, and exit");

  run = app.add_subcommand(
      "run",
      "sync: take changes from every source, decide, apply; runs until "
      "SIGTERM unless --once");
  run->add_flag("--once", run_o.once,
                "one pass of every source, apply the writes, exit");
  run->add_flag("--dry-run", run_o.dry_run,
                "decide and print the writes; write nothing, move no cursor");
  run->add_flag("--json", run_o.json, "with --dry-run: intents as JSON Lines");
  run->add_flag("--quiet", run_o.quiet, "print only errors");

  status = app.add_subcommand(
      "status",
      "sources, cursors, held deletes, open conflicts, drift, "
      "intents not yet applied");
  status->add_flag("--json", status_o.json, "JSON Lines output");

  log = app.add_subcommand(
      "log",
      "events with their decisions; --follow: a live audit stream of the "
      "records the service appends");
  log->add_option("--object", log_o.object,
                  "only events about this object (address, DN, entryUUID, "
                  "objectGUID)");
  log->add_option("--since", log_o.since, "from this SEQ or TIME (ISO 8601)");
  log->add_option("--until", log_o.until, "up to this SEQ or TIME");
  log->add_option("--side", log_o.side, "only events of this side")
      ->check(CLI::IsMember({"ldap", "mail"}));
  log->add_flag("--json", log_o.json, "JSON Lines output");
  log->add_flag("--follow", log_o.follow,
                "keep printing records as they are appended (while the "
                "service runs, too), until SIGINT or SIGTERM; with --since "
                "SEQ it starts after SEQ: the first record printed is "
                "SEQ+1");
  log->footer(
      "--follow reads the log without locking it, polling every 200 ms; "
      "each record is printed once, in order, none skipped. --since SEQ "
      "prints the records with seq > SEQ-1 (from SEQ) without --follow, and "
      "seq > SEQ (after SEQ) with it, so `--follow --since` the last seq "
      "received resumes a stream; --until does not go with --follow.\n" +
      std::string(kFooter));

  explain = app.add_subcommand(
      "explain",
      "an object's whole history: what each side said, what the "
      "rule decided and why, what was written");
  explain
      ->add_option("ID", explain_o.id,
                   "mail address, DN, entryUUID or objectGUID")
      ->required();
  explain->add_flag("--json", explain_o.json, "JSON Lines output");

  verify = app.add_subcommand(
      "verify",
      "check the hash chain, every record, replay determinism and the stored "
      "projection; keeps a projection checkpoint of the log it checked");
  verify->add_option("--expect-head", verify_o.expect_head,
                     "a head sha256 recorded earlier from `status`: fail "
                     "unless this log still holds it (the head now, or an "
                     "earlier record of the chain)");

  replay = app.add_subcommand(
      "replay",
      "re-decide the log from the start: exit 0 when every decision "
      "matches the record; --set replays it under other rules");
  replay->add_option("--until", replay_o.until,
                     "stop at this SEQ or TIME and show the state then");
  replay->add_option(
      "--set", replay_o.sets,
      "what-if: KEY=VALUE, e.g. conflict_resolution=ldap_wins, "
      "corp.direction=both_ways, domain.example.com.ldap_sync=false");
  replay->add_flag("--json", replay_o.json, "JSON Lines output");

  rollback = app.add_subcommand(
      "rollback",
      "undo changes made after SEQ|TIME: plan, then compensating "
      "writes (itself logged and reversible)");
  rollback->add_option("--to", rollback_o.to, "SEQ or TIME to return to")
      ->required();
  rollback->add_option("--domain", rollback_o.domain, "only this domain");
  rollback->add_option("--side", rollback_o.side, "ldap, mail or both")
      ->check(CLI::IsMember({"ldap", "mail", "both"}))
      ->capture_default_str();
  rollback->add_flag("--dry-run", rollback_o.dry_run,
                     "show the plan, write nothing");
  rollback->add_flag("--yes", rollback_o.yes,
                     "go ahead even above the delete threshold");
  rollback->add_flag("--full-replay", rollback_o.full_replay,
                     "rebuild the state from the first record, not from a "
                     "projection checkpoint");

  approve = app.add_subcommand(
      "approve", "carry out deletes held by the mass-delete guard");
  approve->add_option("HOLD", hold_id, "hold id from `dirledger status`")
      ->required();
  reject =
      app.add_subcommand("reject", "keep the objects whose deletes were held");
  reject->add_option("HOLD", hold_id, "hold id from `dirledger status`")
      ->required();

  dismiss = app.add_subcommand(
      "dismiss",
      "drop an open failure (a failed write, an object error) from `status`");
  dismiss->add_option("ID", failure_id, "failure id from `dirledger status`")
      ->required();

  exp = app.add_subcommand(
      "export", "a side's state as the log knows it, now or at any point");
  exp->add_option("--side", export_o.side, "ldap or mail")
      ->required()
      ->check(CLI::IsMember({"ldap", "mail"}));
  exp->add_option("--at", export_o.at, "as of this SEQ or TIME");
  exp->add_option("--format", export_o.format, "ldif or json")
      ->check(CLI::IsMember({"ldif", "json"}))
      ->capture_default_str();
  exp->add_flag("--full-replay", export_o.full_replay,
                "with --at: rebuild the state from the first record, not "
                "from a projection checkpoint");

  backup = app.add_subcommand("backup", "checkpoint the data dir into DIR");
  backup->add_option("DIR", backup_dir, "a new directory")->required();
  restore = app.add_subcommand("restore", "replace the data dir with a backup");
  restore->add_option("DIR", restore_dir, "a directory made by `backup`")
      ->required();
  restore->add_flag("--yes", restore_o.yes, "really replace it");
  restore->add_flag("--other-installation", restore_o.other_installation,
                    "restore a backup made by another installation");

  version = app.add_subcommand("version",
                               "the same as --version; needs no config file");

  mail = app.add_subcommand(
      "mail",
      "administer the embedded mail directory (list, show, add, set, "
      "remove)");
  mail->require_subcommand(1);
  mail_list = mail->add_subcommand("list", "accounts and groups");
  mail_list->add_option("--domain", mail_o.domain, "only this domain");
  mail_list->add_flag("--json", mail_o.json, "JSON Lines output");
  mail_show = mail->add_subcommand("show", "one account or group");
  mail_show->add_option("ADDRESS", mail_o.address, "name@domain")->required();
  mail_show->add_flag("--json", mail_o.json, "JSON output");
  mail_add = mail->add_subcommand(
      "add", "create an account (or a group with kind=group)");
  mail_add->add_option("ADDRESS", mail_o.address, "name@domain")->required();
  mail_add->add_option("FIELD=VALUE", mail_o.edits,
                       "fields: firstName=Ada, aliases=a@x, aliases+=b@x, "
                       "kind=group, members=...");
  mail_add->add_option("--password-file", mail_o.password_file,
                       "read the account's password from this file");
  mail_add->add_option("--password-env", mail_o.password_env,
                       "read the account's password from this variable");
  mail_add->add_flag("--json", mail_o.json, "JSON output");
  mail_set = mail->add_subcommand("set", "change fields");
  mail_set->add_option("ADDRESS", mail_o.address, "name@domain")->required();
  mail_set->add_option("FIELD=VALUE", mail_o.edits,
                       "FIELD=VALUE sets (empty clears), FIELD+=VALUE adds, "
                       "FIELD-=VALUE removes a value");
  mail_set->add_option("--password-file", mail_o.password_file,
                       "new password from this file");
  mail_set->add_option("--password-env", mail_o.password_env,
                       "new password from this variable");
  mail_set->add_flag("--json", mail_o.json, "JSON output");
  mail_remove = mail->add_subcommand("remove", "delete an account or group");
  mail_remove->add_option("ADDRESS", mail_o.address, "name@domain")->required();
  // Each subcommand's help ends with the exit codes (the footer it took
  // from the app), and says where the service carries it out.
  const std::string by_service = std::string(kByService) + "\n" + kFooter;
  for (CLI::App* writes :
       {approve, reject, dismiss, backup, mail_add, mail_set, mail_remove})
    writes->footer(by_service);
  rollback->footer(std::string(kByService) +
                   " --dry-run only reads: it runs by itself.\n" + kFooter);
  restore->footer(
      std::string(
          "Refused while `dirledger run` runs as a service: stop it first.\n") +
      kFooter);
}

int CommandParser::Parse(int argc, const char* const* argv, std::ostream& out,
                         std::ostream& err) {
  if (const int rc = CheckCommandWords(app, argc, argv, err)) return rc;
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e, out, err);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  return -1;
}

std::string CommandParser::Name() const {
  for (const CLI::App* sub : app.get_subcommands()) {
    std::string name = sub->get_name();
    for (const CLI::App* leaf : sub->get_subcommands())
      name += " " + leaf->get_name();
    return name;
  }
  return "";
}

int CommandParser::Dispatch(CliContext& ctx) {
  if (*run) return RunRun(ctx, run_o);
  if (*replay) return RunReplay(ctx, replay_o);
  if (*rollback) return RunRollback(ctx, rollback_o);
  if (*approve) return RunHold(ctx, hold_id, true);
  if (*reject) return RunHold(ctx, hold_id, false);
  if (*dismiss) return RunDismiss(ctx, failure_id);
  if (*exp) return RunExport(ctx, export_o);
  if (*mail) {
    for (auto* sub : mail->get_subcommands()) mail_o.action = sub->get_name();
    return RunMail(ctx, mail_o);
  }
  if (*status) return RunStatus(ctx, status_o);
  if (*log) return RunLog(ctx, log_o);
  if (*explain) return RunExplain(ctx, explain_o);
  if (*verify) return RunVerify(ctx, verify_o);
  if (*backup) return RunBackup(ctx, backup_dir);
  if (*restore) return RunRestore(ctx, restore_dir, restore_o);
  return kExitUsage;
}

}  // namespace dirledger::cli

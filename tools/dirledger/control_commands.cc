#include "tools/dirledger/control_commands.h"

#include <pwd.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <vector>

#include "codecs/printable.h"
#include "engine/secrets.h"

namespace dirledger::cli {
namespace {

std::string UserName(uid_t uid) {
  passwd pw;
  passwd* found = nullptr;
  std::vector<char> buf(16384);
  if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) == 0 && found)
    return found->pw_name;
  return "uid " + std::to_string(uid);
}

std::string Join(const std::vector<std::string>& words, std::size_t from) {
  std::string line;
  for (std::size_t i = from; i < words.size(); ++i) {
    if (i > from) line += ' ';
    line += words[i];
  }
  return line;
}

// Why a refused command is refused.
std::string RefusalOf(const CommandParser& parsed) {
  if (*parsed.restore)
    return "restore refused: stop the service first: it has the data dir "
           "open, and a restore replaces it";
  return "stop the service first: it runs on this data dir already";
}

}  // namespace

ServiceRoute RouteOf(const CommandParser& p) {
  if (*p.approve || *p.reject || *p.dismiss || *p.backup)
    return ServiceRoute::kService;
  if (*p.rollback)
    return p.rollback_o.dry_run ? ServiceRoute::kAlone : ServiceRoute::kService;
  if (*p.mail)
    return (*p.mail_add || *p.mail_set || *p.mail_remove)
               ? ServiceRoute::kService
               : ServiceRoute::kAlone;
  if (*p.restore || *p.run) return ServiceRoute::kRefused;
  return ServiceRoute::kAlone;
}

bool ForwardToService(CliContext& ctx, const CommandParser& parsed, int argc,
                      const char* const* argv, int* rc) {
  const ServiceRoute route = RouteOf(parsed);
  if (route == ServiceRoute::kAlone) return false;
  const std::string data = ctx.data_dir();
  if (data.empty()) return false;
  const std::string path = ControlSocketPath(data);
  auto fd = ConnectControl(path);
  if (!fd.ok()) {
    *rc = ctx.Fail(fd.status());
    return true;
  }
  if (*fd < 0) return false;  // no service: the command runs by itself
  if (route == ServiceRoute::kRefused) {
    ::close(*fd);
    ctx.err() << "dirledger: " << RefusalOf(parsed) << " (its control socket "
              << path << " answers)\n";
    *rc = kExitFailure;
    return true;
  }
  ControlRequest request;
  request.argv.assign(argv, argv + argc);
  // The service runs elsewhere: a backup's DIR is given to it whole.
  if (*parsed.backup) {
    std::error_code ec;
    const std::string absolute =
        std::filesystem::absolute(parsed.backup_dir, ec).string();
    bool after_backup = false;
    for (std::size_t i = 1; i < request.argv.size() && !ec; ++i) {
      if (!after_backup && request.argv[i] == "backup")
        after_backup = true;  // the command word; DIR may be "backup" too
      else if (after_backup && request.argv[i] == parsed.backup_dir) {
        request.argv[i] = absolute;
        break;
      }
    }
  }
  if (const char* sudo = std::getenv("SUDO_USER"); sudo && *sudo)
    request.actor = sudo;
  // A new password is read here, where the operator's file and environment
  // are, and sent with the request.
  const MailOptions& m = parsed.mail_o;
  if ((*parsed.mail_add || *parsed.mail_set) &&
      (!m.password_file.empty() || !m.password_env.empty())) {
    auto p =
        ReadSecret(*ctx.config(), m.password_file, m.password_env, "password");
    if (!p.ok()) {
      ::close(*fd);
      *rc = ctx.Fail(p.status());
      return true;
    }
    request.password = p->reveal();
  }
  auto reply = ExchangeControl(*fd, request, [&](const std::string& note) {
    ctx.err() << "dirledger: " << note << "\n";
    ctx.err().flush();
  });
  if (!reply.ok()) {
    *rc = ctx.Fail(reply.status());
    return true;
  }
  ctx.out() << reply->out;
  ctx.err() << reply->err;
  *rc = reply->exit;
  return true;
}

std::string RequestText(const ControlRequest& request) {
  // A password typed as a field (`mail add a@x password=...`) is refused
  // by the command, but this line is logged before it is parsed: a word
  // whose key names a secret shows the key only.
  ControlRequest shown = request;
  for (std::string& w : shown.argv) {
    const std::size_t eq = w.find('=');
    if (eq == std::string::npos) continue;
    std::string key = w.substr(0, eq);
    for (char& c : key) c = static_cast<char>(std::tolower(c));
    for (const char* secret : {"pass", "pwd", "secret", "token"})
      if (key.find(secret) != std::string::npos) {
        w = w.substr(0, eq + 1) + "(not shown)";
        break;
      }
  }
  return PrintableText(Join(shown.argv, 1));
}

std::string RequestActor(const ControlRequest& request,
                         const PeerCredentials& peer) {
  return request.actor.empty() ? UserName(peer.uid) : request.actor;
}

ControlReply CarryOutRequest(const ControlRequest& request,
                             const PeerCredentials& peer,
                             const ServiceConfig& config,
                             const ServiceHandles& service) {
  std::ostringstream out;
  std::ostringstream err;
  ControlReply reply;
  try {
    std::vector<const char*> args;
    for (const std::string& w : request.argv) args.push_back(w.c_str());
    CommandParser parsed;
    const int parse_rc =
        parsed.Parse(static_cast<int>(args.size()), args.data(), out, err);
    if (parse_rc >= 0) {
      reply.exit = parse_rc;
    } else if (RouteOf(parsed) != ServiceRoute::kService) {
      err << "dirledger: the service does not carry out `" << parsed.Name()
          << "`"
          << (RouteOf(parsed) == ServiceRoute::kRefused
                  ? "; " + RefusalOf(parsed)
                  : "; run it yourself: it works beside the service")
          << "\n";
      reply.exit = kExitUsage;
    } else {
      CliContext ctx(config.config_path);
      ctx.ServeFrom(*config.config, config.config_text, &service);
      ctx.set_output(&out, &err);
      ctx.set_actor(RequestActor(request, peer));
      ctx.set_command_line(Join(request.argv, 0));
      if (request.password) ctx.set_given_password(Secret(*request.password));
      ctx.set_asker_pid(peer.pid);
      reply.exit = parsed.Dispatch(ctx);
    }
  } catch (const std::exception& e) {
    err << "dirledger: the service failed to carry out the command: "
        << e.what() << "\n";
    reply.exit = kExitFailure;
  }
  reply.out = out.str();
  reply.err = err.str();
  return reply;
}

}  // namespace dirledger::cli

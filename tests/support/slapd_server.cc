#include "tests/support/slapd_server.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace dirledger::test {

std::string SourceDir() { return DIRLEDGER_SOURCE_DIR; }

int RunCommand(const std::string& cmd, std::string* out) {
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return -1;
  std::array<char, 4096> buf;
  std::string text;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0)
    text.append(buf.data(), n);
  const int status = pclose(p);
  if (out) *out = std::move(text);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

SlapdServer::SlapdServer(std::string dir, int port, int people)
    : SlapdServer(std::move(dir), port, SlapdOptions{.people = people}) {}

SlapdServer::SlapdServer(std::string dir, int port, const SlapdOptions& options)
    : dir_(std::move(dir)), port_(port), options_(options) {
  url_ = "ldap://127.0.0.1:" + std::to_string(port_);
  Start();
}

SlapdServer::~SlapdServer() { Stop(); }

std::string SlapdServer::ldaps_url() const {
  return "ldaps://127.0.0.1:" + std::to_string(port_ + 1);
}

void SlapdServer::Start() {
  const std::string harness = SourceDir() + "/tests/harness/slapd.sh";
  std::string ldif;
  if (options_.people > 0) {
    ldif = dir_ + ".people.ldif";
    if (RunCommand(harness + " people " + std::to_string(options_.people) +
                   " > '" + ldif + "'") != 0)
      throw std::runtime_error("generating people LDIF failed");
  }
  const std::string env =
      "SLAPD_TLS=" + std::string(options_.tls ? "1" : "0") +
      " SLAPD_SESSIONLOG=" + std::to_string(options_.sessionlog) +
      " SLAPD_RELOADHINT=" + (options_.reload_hint ? "1" : "0") + " ";
  std::string out;
  if (RunCommand(env + harness + " start '" + dir_ + "' " +
                     std::to_string(port_) +
                     (ldif.empty() ? "" : " '" + ldif + "'") + " 2>&1",
                 &out) != 0)
    throw std::runtime_error("slapd did not start: " + out);
  running_ = true;
}

void SlapdServer::Stop() {
  if (!running_) return;
  Resume();
  RunCommand(SourceDir() + "/tests/harness/slapd.sh stop '" + dir_ + "'");
  running_ = false;
}

int SlapdServer::pid() const {
  std::ifstream f(dir_ + "/slapd.pid");
  int pid = 0;
  f >> pid;
  return pid;
}

void SlapdServer::Pause() {
  if (!running_ || paused_) return;
  const int p = pid();
  if (p <= 0 || kill(p, SIGSTOP) != 0)
    throw std::runtime_error("cannot pause slapd in " + dir_);
  paused_ = true;
  // SIGSTOP takes effect asynchronously: wait until every thread has stopped.
  const std::string tasks = "/proc/" + std::to_string(p) + "/task";
  for (int i = 0; i < 500; ++i) {
    bool all_stopped = true;
    for (const auto& t : std::filesystem::directory_iterator(tasks)) {
      std::ifstream stat(t.path() / "stat");
      std::string line;
      std::getline(stat, line);
      const auto close = line.rfind(')');
      if (close == std::string::npos || close + 2 >= line.size() ||
          line[close + 2] != 'T') {
        all_stopped = false;
        break;
      }
    }
    if (all_stopped) return;
    usleep(2000);
  }
  throw std::runtime_error("slapd in " + dir_ + " did not stop on SIGSTOP");
}

void SlapdServer::Resume() {
  if (!paused_) return;
  if (const int p = pid(); p > 0) kill(p, SIGCONT);
  paused_ = false;
}

std::string SlapdServer::EntryUuid(const std::string& dn) const {
  std::string out;
  RunCommand("ldapsearch -x -LLL -o ldif-wrap=no -H " + url_ + " -D " +
                 kAdminDn + " -y '" + password_file() + "' -s base -b '" + dn +
                 "' entryUUID 2>/dev/null",
             &out);
  const std::string key = "entryUUID: ";
  const auto at = out.find(key);
  if (at == std::string::npos) return "";
  const auto end = out.find('\n', at);
  return out.substr(at + key.size(), end - at - key.size());
}

int SlapdServer::Modify(const std::string& ldif) const {
  const std::string file = dir_ + "/modify.ldif";
  {
    std::ofstream f(file);
    f << ldif;
  }
  std::string out;
  return RunCommand("ldapmodify -x -H " + url_ + " -D " + kAdminDn + " -y '" +
                        password_file() + "' -f '" + file + "' 2>&1",
                    &out);
}

std::string SlapdServer::Search(const std::string& filter,
                                const std::string& attrs) const {
  std::string out;
  RunCommand("ldapsearch -x -LLL -o ldif-wrap=no -H " + url_ + " -D " +
                 kAdminDn + " -y '" + password_file() + "' -b " + kBase + " '" +
                 filter + "' " + attrs + " 2>&1",
             &out);
  return out;
}

}  // namespace dirledger::test

#include "tests/support/slapd_server.h"

#include <sys/wait.h>

#include <array>
#include <cstdio>
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
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) text.append(buf.data(), n);
  const int status = pclose(p);
  if (out) *out = std::move(text);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

SlapdServer::SlapdServer(std::string dir, int port, int people)
    : dir_(std::move(dir)), port_(port), people_(people) {
  url_ = "ldap://127.0.0.1:" + std::to_string(port_);
  Start();
}

SlapdServer::~SlapdServer() { Stop(); }

void SlapdServer::Start() {
  const std::string harness = SourceDir() + "/tests/harness/slapd.sh";
  std::string ldif;
  if (people_ > 0) {
    ldif = dir_ + ".people.ldif";
    if (RunCommand(harness + " people " + std::to_string(people_) + " > '" +
                   ldif + "'") != 0)
      throw std::runtime_error("generating people LDIF failed");
  }
  std::string out;
  if (RunCommand(harness + " start '" + dir_ + "' " + std::to_string(port_) +
                     (ldif.empty() ? "" : " '" + ldif + "'") + " 2>&1",
                 &out) != 0)
    throw std::runtime_error("slapd did not start: " + out);
  running_ = true;
}

void SlapdServer::Stop() {
  if (!running_) return;
  RunCommand(SourceDir() + "/tests/harness/slapd.sh stop '" + dir_ + "'");
  running_ = false;
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
                 kAdminDn + " -y '" + password_file() + "' -b " + kBase +
                 " '" + filter + "' " + attrs + " 2>&1",
             &out);
  return out;
}

}  // namespace dirledger::test

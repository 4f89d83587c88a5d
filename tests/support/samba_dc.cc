#include "tests/support/samba_dc.h"

#include <strings.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "tests/support/slapd_server.h"

namespace dirledger::test {
namespace {

std::string Harness() { return SourceDir() + "/tests/harness/samba.sh"; }

std::string BaseOf(const std::string& realm) {
  std::string out, label;
  for (size_t i = 0; i <= realm.size(); ++i) {
    if (i == realm.size() || realm[i] == '.') {
      if (!out.empty()) out += ",";
      out += "DC=" + label;
      label.clear();
    } else {
      const char c = realm[i];
      label += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    }
  }
  return out;
}

}  // namespace

SambaDc::SambaDc(std::string dir, std::string addr, std::string realm)
    : dir_(std::move(dir)),
      addr_(std::move(addr)),
      realm_(std::move(realm)),
      base_(BaseOf(realm_)) {
  // A DC a crashed run left in this directory is ours: stop it by its PID
  // file, then start from a fresh provisioning.
  RunCommand(Harness() + " stop '" + dir_ + "' 2>&1");
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
  Start();
}

SambaDc::~SambaDc() {
  Stop();
  if (!std::getenv("DIRLEDGER_KEEP_TEMP")) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

void SambaDc::Start() {
  std::string out;
  if (RunCommand(
          Harness() + " start '" + dir_ + "' " + addr_ + " " + realm_ + " 2>&1",
          &out) != 0)
    throw std::runtime_error("Samba AD DC did not start: " + out);
  running_ = true;
}

void SambaDc::Stop() {
  if (!running_) return;
  RunCommand(Harness() + " stop '" + dir_ + "' 2>&1");
  running_ = false;
}

int SambaDc::Run(const std::string& tool, const std::string& ldif,
                 std::string* out) const {
  static std::atomic<int> counter{0};
  const std::string file =
      dir_ + "/input-" + std::to_string(counter++) + ".ldif";
  {
    std::ofstream f(file);
    f << ldif;
  }
  std::string text;
  const int rc =
      RunCommand(tool + " -x -H " + url() + " -D " + admin() + " -y '" +
                     password_file() + "' -f '" + file + "' 2>&1",
                 &text);
  std::filesystem::remove(file);
  if (out) *out = text;
  return rc;
}

int SambaDc::Add(const std::string& ldif, std::string* out) const {
  return Run("ldapadd", ldif, out);
}

int SambaDc::Modify(const std::string& ldif, std::string* out) const {
  return Run("ldapmodify", ldif, out);
}

std::string SambaDc::Search(const std::string& filter, const std::string& attrs,
                            const std::string& base,
                            const std::string& extra) const {
  std::string out;
  RunCommand("ldapsearch -x -LLL -o ldif-wrap=no -H " + url() + " -D " +
                 admin() + " -y '" + password_file() + "' " + extra + " -b '" +
                 (base.empty() ? base_ : base) + "' '" + filter + "' " + attrs +
                 " 2>&1",
             &out);
  return out;
}

std::string SambaDc::Value(const std::string& dn,
                           const std::string& attr) const {
  const std::string text = Search("(objectClass=*)", attr, dn, "-s base");
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(pos, end - pos);
    if (line.size() > attr.size() + 1 &&
        strncasecmp(line.c_str(), attr.c_str(), attr.size()) == 0 &&
        line[attr.size()] == ':') {
      std::string v = line.substr(attr.size() + 1);
      if (!v.empty() && v[0] == ' ') v.erase(0, 1);
      return v;
    }
    pos = end + 1;
  }
  return "";
}

void SambaDc::AddUsers(int n, const std::string& ou, const std::string& prefix,
                       int from) const {
  const std::string file = dir_ + "/users-" + prefix + ".ldif";
  if (RunCommand(Harness() + " users " + std::to_string(n) + " '" + ou + "' " +
                 prefix + " " + std::to_string(from) + " > '" + file + "'") !=
      0)
    throw std::runtime_error("generating users failed");
  std::string out;
  if (RunCommand("ldapadd -x -H " + url() + " -D " + admin() + " -y '" +
                     password_file() + "' -f '" + file + "' 2>&1 >/dev/null",
                 &out) != 0)
    throw std::runtime_error("ldapadd of " + std::to_string(n) +
                             " users failed: " + out);
  std::filesystem::remove(file);
}

}  // namespace dirledger::test

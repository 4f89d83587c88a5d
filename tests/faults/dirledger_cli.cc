#include "tests/faults/dirledger_cli.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace dirledger::test {
namespace {

std::atomic<int> g_counter{0};

int DecodeStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

pid_t Spawn(const std::string& workdir, const std::vector<std::string>& args,
            const CliOptions& options, const std::string& out_file,
            const std::string& err_file) {
  std::vector<std::string> argv_s{DirledgerBinary(), "--config",
                                  workdir + "/dirledger.toml"};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  // The environment is built before fork: the child of a threaded process
  // may only make async-signal-safe calls.
  std::vector<std::string> env_s;
  for (char** e = environ; *e; ++e) {
    const std::string kv(*e);
    const std::string key = kv.substr(0, kv.find('='));
    if (!options.env.count(key)) env_s.push_back(kv);
  }
  for (const auto& [k, v] : options.env) env_s.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (std::string& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    if (chdir(workdir.c_str()) != 0) _exit(126);
    const int in = open("/dev/null", O_RDONLY);
    const int out = open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int err = open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || out < 0 || err < 0) _exit(126);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    if (options.in_child) options.in_child();
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  return pid;
}

std::string OutFile(const std::string& workdir, const char* what) {
  // Outside the workdir's data dir, so a test that reads the data dir does
  // not read the output files too.
  return workdir + "/cli-" + std::to_string(getpid()) + "-" +
         std::to_string(g_counter++) + "." + what;
}

}  // namespace

std::string DirledgerBinary() { return DIRLEDGER_BINARY; }

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void DirledgerCli::WriteConfig(const std::string& toml) const {
  std::ofstream(config_path()) << toml;
}

CliResult DirledgerCli::Run(const std::vector<std::string>& args,
                            const CliOptions& options) const {
  BackgroundRun run = Start(args, options);
  return run.Wait();
}

BackgroundRun DirledgerCli::Start(const std::vector<std::string>& args,
                                  const CliOptions& options) const {
  const std::string out = OutFile(workdir_, "out");
  const std::string err = OutFile(workdir_, "err");
  const pid_t pid = Spawn(workdir_, args, options, out, err);
  return BackgroundRun(pid, out, err);
}

BackgroundRun::BackgroundRun(BackgroundRun&& o) noexcept
    : pid_(o.pid_),
      out_file_(std::move(o.out_file_)),
      err_file_(std::move(o.err_file_)),
      reaped_(o.reaped_),
      status_(o.status_) {
  o.reaped_ = true;
}

BackgroundRun::~BackgroundRun() {
  if (reaped_) return;
  kill(pid_, SIGKILL);
  waitpid(pid_, &status_, 0);
}

bool BackgroundRun::Running() {
  if (reaped_) return false;
  const pid_t r = waitpid(pid_, &status_, WNOHANG);
  if (r == pid_) reaped_ = true;
  return !reaped_;
}

void BackgroundRun::Signal(int sig) {
  if (!reaped_) kill(pid_, sig);
}

CliResult BackgroundRun::Wait(double timeout_s) {
  if (!reaped_) {
    const auto until = std::chrono::steady_clock::now() +
                       std::chrono::duration<double>(timeout_s);
    while (Running() && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (!reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status_, 0);
      reaped_ = true;
    }
  }
  CliResult r;
  r.exit_code = DecodeStatus(status_);
  r.out = ReadFile(out_file_);
  r.err = ReadFile(err_file_);
  unlink(out_file_.c_str());
  unlink(err_file_.c_str());
  return r;
}

std::string BackgroundRun::err_so_far() const { return ReadFile(err_file_); }

bool WaitFor(const std::function<bool()>& pred, double timeout_s) {
  const auto until = std::chrono::steady_clock::now() +
                     std::chrono::duration<double>(timeout_s);
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return pred();
}

TestConfig TestConfig::For(const SlapdServer& slapd) {
  TestConfig c;
  c.uri = slapd.url();
  c.password_file = slapd.password_file();
  return c;
}

std::string TestConfig::ToToml() const {
  std::string t = "data_dir = \"./data\"\n" + top_extra + "\n" + mail + "\n";
  t += "[[connector]]\nname = \"corp\"\nserver_type = \"" + server_type +
       "\"\nuris = [\"" + uri + "\"]\n";
  t += "bind_dn = \"" + bind_dn + "\"\n";
  if (!password_file.empty())
    t += "bind_password_file = \"" + password_file + "\"\n";
  t += "timeout_s = " + std::to_string(timeout_s) + "\n";
  t += "direction = \"" + direction + "\"\n";
  if (!conflict_resolution.empty())
    t += "conflict_resolution = \"" + conflict_resolution + "\"\n";
  t += "account_base_dn = \"" + account_base_dn + "\"\n";
  t += "group_sync = true\ngroup_base_dn = \"" + group_base_dn + "\"\n";
  t += "delete_threshold = " + std::to_string(delete_threshold) + "\n";
  t += connector_extra + "\n";
  t += "[[domain]]\nname = \"" + domain +
       "\"\nldap_sync = true\nconnector = \"corp\"\n";
  return t;
}

std::vector<nlohmann::json> JsonLines(const std::string& text) {
  std::vector<nlohmann::json> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    out.push_back(j.is_discarded() ? nlohmann::json(line) : std::move(j));
  }
  return out;
}

}  // namespace dirledger::test

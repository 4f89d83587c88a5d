#include "tests/e2e/cli_runner.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace dirledger::test {
namespace {

int ExitCodeOf(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

int WaitFor(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return ExitCodeOf(status);
}

}  // namespace

std::string DirledgerBinary() { return DIRLEDGER_BINARY; }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
}

std::string CliResult::Describe() const {
  return "exit " + std::to_string(exit_code) + "\n--- stdout:\n" + out +
         "--- stderr:\n" + err;
}

std::vector<nlohmann::json> CliResult::Json() const {
  std::vector<nlohmann::json> lines;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    INFO("not a JSON line: " << line);
    REQUIRE_FALSE(j.is_discarded());
    lines.push_back(std::move(j));
  }
  return lines;
}

CliRunner::CliRunner(std::string work_dir) : work_dir_(std::move(work_dir)) {}

CliRunner::~CliRunner() {
  if (service_running()) {
    kill(service_pid_, SIGTERM);
    WaitFor(service_pid_);
  }
}

void CliRunner::WriteConfig(const std::string& text) const {
  WriteFile(config_path(), text);
}

pid_t CliRunner::Spawn(const std::vector<std::string>& argv,
                       const std::map<std::string, std::string>& env,
                       const std::string& out_file,
                       const std::string& err_file) const {
  std::vector<char*> args;
  for (const std::string& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  // The environment is built before fork: the test may run threads (the
  // fake Axigen server), so the child must not allocate.
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    const std::string entry(*e);
    const std::string name = entry.substr(0, entry.find('='));
    if (!env.count(name)) env_strings.push_back(entry);
  }
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    // The child: only async-signal-safe calls until exec.
    if (chdir(work_dir_.c_str()) != 0) _exit(126);
    const int out = open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int err = open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int in = open("/dev/null", O_RDONLY);
    if (out < 0 || err < 0 || in < 0) _exit(126);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    execve(args[0], args.data(), envp.data());
    _exit(127);
  }
  return pid;
}

CliResult CliRunner::Run(const std::vector<std::string>& args) const {
  return RunWithEnv(args, {});
}

CliResult CliRunner::RunWithEnv(
    const std::vector<std::string>& args,
    const std::map<std::string, std::string>& env) const {
  std::vector<std::string> all{"--config", config_path()};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<std::string> argv{DirledgerBinary()};
  argv.insert(argv.end(), all.begin(), all.end());
  const std::string base = work_dir_ + "/.cmd" + std::to_string(++counter_);
  CliResult r;
  r.exit_code = WaitFor(Spawn(argv, env, base + ".out", base + ".err"));
  r.out = ReadFile(base + ".out");
  r.err = ReadFile(base + ".err");
  return r;
}

CliResult CliRunner::RunRaw(const std::vector<std::string>& args) const {
  std::vector<std::string> argv{DirledgerBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  const std::string base = work_dir_ + "/.cmd" + std::to_string(++counter_);
  CliResult r;
  r.exit_code = WaitFor(Spawn(argv, {}, base + ".out", base + ".err"));
  r.out = ReadFile(base + ".out");
  r.err = ReadFile(base + ".err");
  return r;
}

void CliRunner::StartService(const std::vector<std::string>& args,
                             const std::map<std::string, std::string>& env) {
  if (service_running()) throw std::runtime_error("a service already runs");
  std::vector<std::string> argv{DirledgerBinary(), "--config", config_path()};
  argv.insert(argv.end(), args.begin(), args.end());
  service_out_ = work_dir_ + "/.service.out";
  service_err_ = work_dir_ + "/.service.err";
  service_pid_ = Spawn(argv, env, service_out_, service_err_);
}

CliResult CliRunner::StopService() {
  CliResult r;
  if (!service_running()) return r;
  kill(service_pid_, SIGTERM);
  r.exit_code = WaitFor(service_pid_);
  service_pid_ = -1;
  r.out = ReadFile(service_out_);
  r.err = ReadFile(service_err_);
  return r;
}

}  // namespace dirledger::test

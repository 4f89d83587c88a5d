// fake_axigen: the test stand-in for the Axigen CLI as a program, for demos
// (docs/axigen.md): listens on 127.0.0.1:PORT until SIGINT or SIGTERM.
//   fake_axigen [--port N] [--user NAME] [--password-file FILE]
//               [--domain NAME]...
// The password defaults to the one in FAKE_AXIGEN_PASSWORD, else "secret".
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

#include "tests/fake_axigen/fake_axigen_server.h"

namespace {
volatile std::sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }
}  // namespace

int main(int argc, char** argv) {
  dirledger::test::FakeAxigenOptions o;
  if (const char* pw = std::getenv("FAKE_AXIGEN_PASSWORD")) o.password = pw;
  std::vector<std::string> domains;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "fake_axigen: " << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--port") {
      o.port = std::atoi(next().c_str());
    } else if (a == "--user") {
      o.user = next();
    } else if (a == "--password-file") {
      std::ifstream f(next());
      if (!f || !std::getline(f, o.password)) {
        std::cerr << "fake_axigen: cannot read the password file\n";
        return 2;
      }
    } else if (a == "--domain") {
      domains.push_back(next());
    } else {
      std::cerr << "usage: fake_axigen [--port N] [--user NAME] "
                   "[--password-file FILE] [--domain NAME]...\n";
      return 2;
    }
  }
  dirledger::test::FakeAxigenServer server(o);
  for (const auto& d : domains) server.AddDomain(d);
  auto s = server.Start();
  if (!s.ok()) {
    std::cerr << s.ToString() << "\n";
    return 1;
  }
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::cout << "fake_axigen listening on 127.0.0.1:" << server.port()
            << std::endl;
  while (!g_stop) pause();
  server.Stop();
  return 0;
}

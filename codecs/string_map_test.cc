#include "codecs/string_map.h"

#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <string>

namespace dirledger {
namespace {

// Everything the map holds, in key order.
std::map<std::string, int> Contents(const StringMap<int>& m) {
  std::map<std::string, int> out;
  for (const auto& [key, value] : m) out.emplace(key, value);
  return out;
}

TEST_CASE("string map: finds, replaces and erases like a map") {
  StringMap<int> m;
  CHECK(m.find("a") == m.end());
  CHECK(m.erase("a") == 0);
  m["a"] = 1;
  CHECK(m.emplace("b", 2).second);
  CHECK_FALSE(m.emplace("b", 3).second);  // kept, as std::map::emplace does
  CHECK(m.find("b")->second == 2);
  CHECK_FALSE(m.try_emplace("a").second);
  m["a"] = 4;
  CHECK(Contents(m) == std::map<std::string, int>{{"a", 4}, {"b", 2}});
  CHECK(m.erase("a") == 1);
  CHECK(m.find("a") == m.end());
  CHECK(m.find("b")->second == 2);
  m.erase(m.find("b"));
  CHECK(m.empty());
}

TEST_CASE("string map: agrees with std::map over random inserts and erases") {
  // Few distinct keys and many erases: erased slots are reused and swept,
  // the table grows through several sizes, entries move into holes.
  std::mt19937 rng(20261206);
  StringMap<int> m;
  std::map<std::string, int> model;
  for (int step = 0; step < 200000; ++step) {
    const int range = step < 100000 ? 5000 : 300;
    const std::string key = "uid=user" + std::to_string(rng() % range);
    switch (rng() % 4) {
      case 0:
      case 1:
        m[key] = step;
        model[key] = step;
        break;
      case 2:
        REQUIRE(m.erase(key) == model.erase(key));
        break;
      case 3: {
        const auto it = m.find(key);
        const auto want = model.find(key);
        REQUIRE((it == m.end()) == (want == model.end()));
        if (want != model.end()) REQUIRE(it->second == want->second);
        break;
      }
    }
    REQUIRE(m.size() == model.size());
    if (step % 20000 == 0) REQUIRE(Contents(m) == model);
  }
  REQUIRE(Contents(m) == model);
  for (const auto& [key, value] : model) {
    REQUIRE(m.erase(key) == 1);
    REQUIRE(m.find(key) == m.end());
  }
  CHECK(m.empty());
  CHECK(m.begin() == m.end());
}

}  // namespace
}  // namespace dirledger

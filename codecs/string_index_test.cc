#include "codecs/string_index.h"

#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <string>

namespace dirledger {
namespace {

std::map<std::string, std::string> Contents(const StringIndex& index) {
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : index)
    out.emplace(std::string(key), std::string(value));
  return out;
}

TEST_CASE("string index: sets, replaces and erases like a map") {
  StringIndex index;
  CHECK(index.find("a") == index.end());
  CHECK(index.Set("a", "one"));
  CHECK_FALSE(index.Set("a", "uno"));  // replaced
  CHECK(index.find("a")->second == "uno");
  CHECK_FALSE(index.Set("a", "uno"));  // the same value again
  CHECK(index.Set("b", ""));
  CHECK(index.find("b")->second.empty());
  CHECK(index.erase("a") == 1);
  CHECK(index.erase("a") == 0);
  index.erase(index.find("b"));
  CHECK(index.empty());
}

TEST_CASE("string index: agrees with std::map through value compactions") {
  // Values rewritten over and over: the arena of values fills with dead
  // bytes and is rebuilt many times.
  std::mt19937 rng(20261207);
  StringIndex index;
  std::map<std::string, std::string> model;
  for (int step = 0; step < 300000; ++step) {
    const std::string key = "uid=user" + std::to_string(rng() % 2000);
    switch (rng() % 5) {
      case 0:
        REQUIRE(index.erase(key) == model.erase(key));
        break;
      case 1: {
        const auto it = index.find(key);
        const auto want = model.find(key);
        REQUIRE((it == index.end()) == (want == model.end()));
        if (want != model.end()) REQUIRE(it->second == want->second);
        break;
      }
      default: {
        const std::string value =
            "id-" + std::to_string(step) + std::string(rng() % 60, 'v');
        REQUIRE(index.Set(key, value) == (model.count(key) == 0));
        model[key] = value;
      }
    }
    REQUIRE(index.size() == model.size());
  }
  CHECK(Contents(index) == model);
  StringIndex copy = index;
  index = StringIndex();
  CHECK(Contents(copy) == model);
}

}  // namespace
}  // namespace dirledger

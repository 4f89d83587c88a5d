#include "codecs/string_map.h"

#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "codecs/string_arena.h"

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

TEST_CASE("string arena: compacts only when mostly dead, keeping what lives") {
  StringArena arena;
  std::vector<std::string_view> views;
  std::vector<std::string> want;
  const auto itself = [](std::string_view& v) -> std::string_view& {
    return v;
  };
  // 3 MiB in strings of 300 bytes, and one longer than a quarter block.
  for (int i = 0; i < 10000; ++i) {
    want.push_back(std::to_string(i) + std::string(300, 'a' + i % 26));
    views.push_back(arena.Add(want.back()));
  }
  want.push_back(std::string(40000, 'L'));
  views.push_back(arena.Add(want.back()));
  CHECK(arena.Add("").empty());
  CHECK_FALSE(arena.CompactIfMostlyDead(views, itself));  // nothing dead
  // Half released: not more dead than alive yet.
  std::vector<std::string_view> kept;
  std::vector<std::string> kept_want;
  for (std::size_t i = 0; i < views.size(); ++i) {
    if (i % 2 == 0 && i + 1 < views.size()) {
      arena.Release(views[i]);
    } else {
      kept.push_back(views[i]);
      kept_want.push_back(want[i]);
    }
  }
  views = kept;
  CHECK_FALSE(arena.CompactIfMostlyDead(views, itself));
  // Most released: compacted, the views moved to copies of the same bytes.
  kept.clear();
  kept_want.clear();
  for (std::size_t i = 0; i < views.size(); ++i) {
    if (i % 4 != 0 && i + 1 < views.size()) {
      arena.Release(views[i]);
    } else {
      kept.push_back(views[i]);
      kept_want.push_back(std::string(views[i]));
    }
  }
  views = kept;
  const char* before = views.front().data();
  CHECK(arena.CompactIfMostlyDead(views, itself));
  CHECK(views.front().data() != before);
  CHECK(arena.dead_bytes() == 0);
  // An arena moved from starts over; the one moved to keeps the views.
  StringArena moved = std::move(arena);
  CHECK(arena.live_bytes() == 0);
  CHECK(arena.Add("after the move") == "after the move");
  CHECK(views.front() == kept_want.front());
  CHECK(moved.live_bytes() > 0);
  REQUIRE(views.size() == kept_want.size());
  for (std::size_t i = 0; i < views.size(); ++i)
    CHECK(views[i] == kept_want[i]);
}

TEST_CASE("string map: keys survive the compaction of their arena") {
  // Long keys, most of them erased: the arena holding their bytes is
  // rebuilt several times (each time more of it is dead than alive).
  StringMap<int> m;
  std::map<std::string, int> model;
  const std::string pad(200, 'x');
  for (int round = 0; round < 40; ++round) {
    for (int i = 0; i < 1000; ++i) {
      const std::string key = "k" + std::to_string(round * 1000 + i) + pad;
      m[key] = i;
      model[key] = i;
    }
    for (int i = 0; i < 1000; ++i) {
      if (i % 10 == 0) continue;  // one in ten stays
      const std::string key = "k" + std::to_string(round * 1000 + i) + pad;
      REQUIRE(m.erase(key) == 1);
      model.erase(key);
    }
  }
  REQUIRE(m.size() == 4000);
  CHECK(Contents(m) == model);
  for (const auto& [key, value] : model) REQUIRE(m.find(key)->second == value);
}

TEST_CASE("string map: a copy owns its keys") {
  StringMap<int> a;
  for (int i = 0; i < 100; ++i) a["key number " + std::to_string(i)] = i;
  StringMap<int> b = a;
  StringMap<int> c;
  c = b;
  // Erasing and overwriting in `a` (and dropping it) leaves the copies whole.
  for (int i = 0; i < 100; i += 2) a.erase("key number " + std::to_string(i));
  a = StringMap<int>();
  std::map<std::string, int> want;
  for (int i = 0; i < 100; ++i) want["key number " + std::to_string(i)] = i;
  CHECK(Contents(b) == want);
  CHECK(Contents(c) == want);
  // A moved map keeps its keys where they were.
  StringMap<int> d = std::move(b);
  CHECK(Contents(d) == want);
}

}  // namespace
}  // namespace dirledger

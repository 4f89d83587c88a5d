#include "codecs/utf8.h"

#include <catch2/catch.hpp>

namespace dirledger {

TEST_CASE("UTF-8 validation", "[ldap][utf8]") {
  CHECK(IsValidUtf8(""));
  CHECK(IsValidUtf8("ascii"));
  CHECK(IsValidUtf8("J\xc3\xbcrgen \xe2\x82\xac \xf0\x9f\x98\x80"));
  CHECK_FALSE(IsValidUtf8("\xff"));
  CHECK_FALSE(IsValidUtf8("\xc3"));              // truncated
  CHECK_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  CHECK_FALSE(IsValidUtf8("\xe0\x80\xaf"));      // overlong
  CHECK_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  CHECK_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  CHECK_FALSE(IsValidUtf8("a\x80z"));            // stray continuation
}

}  // namespace dirledger

#include "codecs/printable.h"

#include <catch2/catch.hpp>

namespace dirledger {
namespace {

TEST_CASE("printable text shows control characters as visible escapes",
          "[printable]") {
  CHECK(PrintableText("Ada Lovelace") == "Ada Lovelace");
  CHECK(PrintableText("cn=Smith\\, John") == "cn=Smith\\, John");
  CHECK(PrintableText("Zoë 李") == "Zoë 李");
  CHECK(PrintableText("a\r\nb") == "a\\r\\nb");
  CHECK(PrintableText("x\x1b[2J\x1b]0;t\x07") == "x\\x1b[2J\\x1b]0;t\\x07");
  CHECK(PrintableText(std::string("n\0l\t\x7f", 5)) == "n\\x00l\\t\\x7f");
  // C1 controls (CSI is U+009B) and bytes that are not UTF-8.
  CHECK(PrintableText("a\xc2\x9b"
                      "31m") == "a\\u009b31m");
  CHECK(PrintableText("\x9b\xff") == "\\x9b\\xff");
  // An overlong form of ESC is not UTF-8 either.
  CHECK(PrintableText("\xe0\x80\x9b") == "\\xe0\\x80\\x9b");
  CHECK(PrintableText("\xc2\xa0") == "\xc2\xa0");  // no-break space is text
}

}  // namespace
}  // namespace dirledger

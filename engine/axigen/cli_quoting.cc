#include "engine/axigen/cli_quoting.h"

namespace dirledger {

Result<std::string> QuoteValue(std::string_view value, std::string_view what) {
  std::string out;
  out.reserve(value.size() + 2);
  out += '"';
  for (std::size_t i = 0; i < value.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(value[i]);
    if (c < 0x20 || c == 0x7f) {
      static const char kHex[] = "0123456789abcdef";
      std::string code = "0x";
      code += kHex[c >> 4];
      code += kHex[c & 15];
      return Status::InvalidArgument(
          std::string(what) + ": the value holds control character " + code +
          " at byte " + std::to_string(i) +
          ", which the Axigen CLI cannot carry in a command line");
    }
    if (c == '"' || c == '\\') out += '\\';
    out += static_cast<char>(c);
  }
  out += '"';
  return out;
}

Result<std::string> UnquoteValue(std::string_view text) {
  if (text.size() < 2 || text.front() != '"')
    return Status::InvalidArgument("not a double-quoted string");
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 1; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\\') {
      if (i + 1 >= text.size())
        return Status::InvalidArgument("quoted string ends in a backslash");
      const char n = text[++i];
      if (n != '"' && n != '\\')
        return Status::InvalidArgument(
            "unknown escape in quoted string (only \\\" and \\\\ exist)");
      out += n;
    } else if (c == '"') {
      if (i + 1 != text.size())
        return Status::InvalidArgument(
            "text follows the closing quote of a quoted string");
      return out;
    } else {
      out += c;
    }
  }
  return Status::InvalidArgument("quoted string has no closing quote");
}

std::string HidePasswords(std::string_view command) {
  constexpr std::string_view kWord = "password";
  std::string out;
  std::size_t i = 0;
  while (i < command.size()) {
    // The keyword, as a whole word, in any case.
    const bool at_word = command.size() - i > kWord.size() &&
                         (i == 0 || command[i - 1] == ' ') &&
                         command[i + kWord.size()] == ' ';
    bool match = at_word;
    for (std::size_t k = 0; match && k < kWord.size(); ++k)
      match = (command[i + k] | 0x20) == kWord[k];
    if (!match) {
      out += command[i++];
      continue;
    }
    out.append(command.substr(i, kWord.size() + 1));
    i += kWord.size() + 1;
    while (i < command.size() && command[i] == ' ') out += command[i++];
    // Skip the value: double-quoted (with \ escapes), single-quoted, or a
    // word (with backslash escapes).
    if (i < command.size() && command[i] == '"') {
      for (++i; i < command.size() && command[i] != '"'; ++i)
        if (command[i] == '\\') ++i;
      ++i;
    } else if (i < command.size() && command[i] == '\'') {
      for (++i; i < command.size() && command[i] != '\''; ++i) {
      }
      ++i;
    } else {
      for (; i < command.size() && command[i] != ' '; ++i)
        if (command[i] == '\\') ++i;
    }
    out += "\"***\"";
  }
  return out;
}

}  // namespace dirledger

#include "engine/axigen/cli_reply.h"

#include <cctype>

#include "engine/axigen/cli_quoting.h"

namespace dirledger {
namespace {

bool IsPromptChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '_' || c == '-';
}

// The prompt name inside "<...> " when `line` is exactly a prompt.
std::optional<std::string> PromptOf(std::string_view line) {
  if (line.size() < 3 || line.front() != '<' ||
      line.substr(line.size() - 2) != "> ")
    return std::nullopt;
  std::string_view inner = line.substr(1, line.size() - 3);
  std::string_view body = inner;
  if (!body.empty() && body.back() == '#') body.remove_suffix(1);
  for (char c : body) {
    if (!IsPromptChar(c)) return std::nullopt;
  }
  return std::string(inner);
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

// Text after "+OK" / "-ERR": an optional ':' and blanks are dropped.
std::string StatusText(std::string_view rest) {
  if (!rest.empty() && rest.front() == ':') rest.remove_prefix(1);
  return std::string(Trim(rest));
}

}  // namespace

std::string CliReply::context() const {
  std::string c = prompt;
  if (!c.empty() && c.back() == '#') c.pop_back();
  return c;
}

bool CliReply::logged_in() const {
  return !prompt.empty() && prompt.back() == '#';
}

std::string Printable(std::string_view text, std::size_t max) {
  std::string out;
  for (std::size_t i = 0; i < text.size() && out.size() < max; ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c == 0x7f) {
      static const char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (out.size() >= max) out += "...";
  return out;
}

bool EndsWithPrompt(std::string_view buffer) {
  const auto nl = buffer.rfind('\n');
  std::string_view last =
      nl == std::string_view::npos ? buffer : buffer.substr(nl + 1);
  return PromptOf(last).has_value();
}

Result<CliReply> ParseReply(std::string_view raw, bool expect_status) {
  if (raw.size() > kMaxReplyBytes)
    return Status::InvalidArgument("reply of " + std::to_string(raw.size()) +
                                   " bytes is larger than the limit");
  const auto nl = raw.rfind('\n');
  std::string_view last =
      nl == std::string_view::npos ? raw : raw.substr(nl + 1);
  auto prompt = PromptOf(last);
  if (!prompt)
    return Status::InvalidArgument("reply does not end with a prompt: \"" +
                                   Printable(last) + "\"");
  CliReply reply;
  reply.prompt = *prompt;
  std::string_view body =
      nl == std::string_view::npos ? std::string_view() : raw.substr(0, nl + 1);
  std::size_t pos = 0;
  while (pos < body.size()) {
    auto end = body.find('\n', pos);
    std::string_view line = body.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    reply.lines.emplace_back(line);
    pos = end + 1;
  }
  if (!reply.lines.empty()) {
    std::string_view s = reply.lines.back();
    if (s.rfind("+OK", 0) == 0) {
      reply.has_status = true;
      reply.ok = true;
      reply.status_text = StatusText(s.substr(3));
    } else if (s.rfind("-ERR", 0) == 0) {
      reply.has_status = true;
      reply.ok = false;
      reply.status_text = StatusText(s.substr(4));
    }
    if (reply.has_status) reply.lines.pop_back();
  }
  if (expect_status && !reply.has_status) {
    const std::string seen = reply.lines.empty()
                                 ? std::string("nothing")
                                 : "\"" + Printable(reply.lines.back()) + "\"";
    return Status::InvalidArgument(
        "reply has no +OK/-ERR line before the prompt (the line before it "
        "was " +
        seen + ")");
  }
  return reply;
}

Result<std::vector<std::pair<std::string, std::string>>> ParseShow(
    const CliReply& reply) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const std::string& line : reply.lines) {
    const auto eq = line.find(" = ");
    if (eq == std::string::npos) continue;
    std::string name(Trim(std::string_view(line).substr(0, eq)));
    if (name.empty()) continue;
    std::string_view rest = std::string_view(line).substr(eq + 3);
    if (!rest.empty() && rest.front() == '"') {
      auto v = UnquoteValue(rest);
      if (!v.ok())
        return Status::InvalidArgument("value of " + Printable(name, 64) +
                                       ": " + v.status().message());
      out.emplace_back(std::move(name), std::move(v).value());
    } else {
      out.emplace_back(std::move(name), std::string(rest));
    }
  }
  return out;
}

namespace {

bool HasBlank(std::string_view s) {
  return s.find_first_of(" \t") != std::string_view::npos;
}

// A dashed rule under a column header: dashes, optionally split into columns
// by blanks, '+' or '|'.
bool IsRule(std::string_view t) {
  std::size_t dashes = 0;
  for (char c : t) {
    if (c == '-') {
      ++dashes;
    } else if (c != ' ' && c != '\t' && c != '+' && c != '|') {
      return false;
    }
  }
  return dashes >= 3;
}

// A title ("The list of accounts:"), as opposed to a bare item: words, or
// ending in ':'. Axigen names never hold blanks or ':'.
bool IsTitle(std::string_view t) {
  return HasBlank(t) || (!t.empty() && t.back() == ':');
}

std::size_t ColumnCount(std::string_view header) {
  std::size_t n = 0;
  bool in_word = false;
  for (char c : header) {
    const bool sep = c == ' ' || c == '\t' || c == '|';
    if (!sep && !in_word) ++n;
    in_word = !sep;
  }
  return n;
}

class ListParser {
 public:
  ListParser(const CliReply& reply, std::string_view command)
      : command_(command) {
    for (const std::string& l : reply.lines) lines_.push_back(Trim(l));
  }

  Result<std::vector<std::string>> Parse() {
    std::size_t rule = lines_.size();
    for (std::size_t i = 0; i < lines_.size(); ++i) {
      if (!IsRule(lines_[i])) continue;
      if (rule != lines_.size())
        return Bad(i, "a second dashed rule (the first is on line " +
                          std::to_string(rule + 1) + ")");
      rule = i;
    }
    if (rule != lines_.size()) return Table(rule);
    std::size_t first = 0;
    while (first < lines_.size() && lines_[first].empty()) ++first;
    if (first == lines_.size()) return std::vector<std::string>();
    if (!IsTitle(lines_[first])) return Items(first, 1);
    if (!Titled())
      return Bad(first,
                 "a title, but no column header with a dashed rule under it "
                 "follows (the listing is cut short or not a table)");
    if (first + 1 >= lines_.size() || !lines_[first + 1].empty())
      return Bad(first, "a title without the blank line under it");
    return Items(first + 2, 1);
  }

 private:
  // Whether `command` lists in the titled layout (no column header).
  bool Titled() const {
    std::string_view c = Trim(command_);
    const auto sp = c.find(' ');
    std::string what(sp == std::string_view::npos ? std::string_view()
                                                  : Trim(c.substr(sp + 1)));
    for (char& ch : what) ch = static_cast<char>(std::tolower(ch));
    return what == "aliases" || what == "addresses";
  }

  Result<std::vector<std::string>> Table(std::size_t rule) {
    if (rule == 0 || lines_[rule - 1].empty())
      return Bad(rule, "a dashed rule with no column header above it");
    const std::size_t columns = ColumnCount(lines_[rule - 1]);
    // Above the header: the title and blank lines only.
    for (std::size_t i = 0; i + 1 < rule; ++i) {
      if (!lines_[i].empty() && i != 0)
        return Bad(i, "text between the title and the column header");
    }
    return Items(rule + 1, columns);
  }

  Result<std::vector<std::string>> Items(std::size_t from,
                                         std::size_t columns) {
    std::vector<std::string> out;
    for (std::size_t i = from; i < lines_.size(); ++i) {
      std::string_view t = lines_[i];
      if (t.empty()) continue;
      if (columns <= 1 && IsTitle(t))
        return Bad(i, "not a single name where the listing's items are");
      const auto end = t.find_first_of(" \t|");
      if (end == 0)
        return Bad(i, "an item line with no name in its first column");
      out.emplace_back(t.substr(0, end));
    }
    return out;
  }

  Status Bad(std::size_t line, const std::string& why) const {
    return Status::Unavailable(
        "Axigen CLI: the reply to `" + Printable(command_, 40) +
        "` does not parse as a listing: line " + std::to_string(line + 1) +
        " \"" + Printable(lines_[line], 80) + "\": " + why);
  }

  std::string_view command_;
  std::vector<std::string_view> lines_;
};

}  // namespace

Result<std::vector<std::string>> ParseList(const CliReply& reply,
                                           std::string_view command) {
  return ListParser(reply, command).Parse();
}

}  // namespace dirledger

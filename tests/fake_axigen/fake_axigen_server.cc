#include "tests/fake_axigen/fake_axigen_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

namespace dirledger::test {
namespace {

constexpr std::size_t kMaxLine = (1u << 20) + 4096;
constexpr int kMaxAuthErrors = 3;

std::string Lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

// Whether `name` is an account, a group or an alias in `d`, other than an
// alias of the account `self`.
bool NameTaken(const FakeDomain& d, const std::string& name,
               const std::string& self) {
  if (d.groups.count(name)) return true;
  for (const auto& [n, a] : d.accounts) {
    if (n == name && n != self) return true;
    if (n != self && a.aliases.count(name)) return true;
  }
  return false;
}

bool IEquals(const std::string& a, const char* b) {
  return Lower(a) == Lower(b);
}

// Splits a command line into words by the CLI's three value forms:
//   escaped:        a\ b\"c   (backslash before space, quotes, backslash)
//   single-quoted:  'a b'     (literal; no single quote inside)
//   double-quoted:  "a \"b\" \\ c"  (backslash before " and \ only)
// Returns std::nullopt and sets *error for anything else.
std::optional<std::vector<std::string>> Tokenize(const std::string& line,
                                                 std::string* error) {
  std::vector<std::string> out;
  std::size_t i = 0;
  const std::size_t n = line.size();
  for (char c : line) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      *error = "control character in command";
      return std::nullopt;
    }
  }
  while (true) {
    while (i < n && line[i] == ' ') ++i;
    if (i >= n) break;
    std::string word;
    if (line[i] == '"') {
      ++i;
      bool closed = false;
      while (i < n) {
        const char c = line[i++];
        if (c == '\\') {
          if (i >= n || (line[i] != '"' && line[i] != '\\')) {
            *error = "invalid escape in double-quoted string";
            return std::nullopt;
          }
          word += line[i++];
        } else if (c == '"') {
          closed = true;
          break;
        } else {
          word += c;
        }
      }
      if (!closed) {
        *error = "unterminated double-quoted string";
        return std::nullopt;
      }
    } else if (line[i] == '\'') {
      ++i;
      const auto end = line.find('\'', i);
      if (end == std::string::npos) {
        *error = "unterminated single-quoted string";
        return std::nullopt;
      }
      word = line.substr(i, end - i);
      i = end + 1;
    } else {
      while (i < n && line[i] != ' ') {
        const char c = line[i++];
        if (c == '\\') {
          if (i >= n || (line[i] != ' ' && line[i] != '"' && line[i] != '\'' &&
                         line[i] != '\\')) {
            *error = "invalid escape in escaped string";
            return std::nullopt;
          }
          word += line[i++];
        } else if (c == '"' || c == '\'') {
          *error = "unescaped quote inside a word";
          return std::nullopt;
        } else {
          word += c;
        }
      }
    }
    if (i < n && line[i] != ' ') {
      *error = "text follows a quoted string";
      return std::nullopt;
    }
    out.push_back(std::move(word));
  }
  return out;
}

// A value as SHOW prints it: double-quoted, " and \ escaped.
std::string Quoted(const std::string& v) {
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// Keyword parameters after the verb and object: name N password P ...
std::map<std::string, std::string> Params(const std::vector<std::string>& w,
                                          std::size_t from, bool* ok) {
  std::map<std::string, std::string> p;
  *ok = (w.size() - from) % 2 == 0;
  for (std::size_t i = from; i + 1 < w.size(); i += 2)
    p[Lower(w[i])] = w[i + 1];
  return p;
}

bool ValidName(const std::string& n) {
  if (n.empty() || n.size() > 64) return false;
  for (char c : n) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ||
          c == '+'))
      return false;
  }
  return true;
}

}  // namespace

const std::vector<std::string>& FakeContactFields() {
  static const std::vector<std::string> kFields = {
      "firstName", "middleName",  "lastName", "nickName", "displayName",
      "company",   "department",  "title",    "office",   "businessPhone",
      "homePhone", "mobilePhone", "fax"};
  return kFields;
}

// One CLI session.
class FakeAxigenServer::Session {
 public:
  Session(FakeAxigenServer* server, int fd) : server_(server), fd_(fd) {}
  void Run();

 private:
  enum class Kind { kRoot, kDomain, kAccount, kContact, kGroup };
  struct Context {
    Kind kind = Kind::kRoot;
    std::string domain;
    std::string name;
    bool is_new = false;
    FakeAccount account;
    FakeGroup group;
    std::map<std::string, std::string> contact;  // kContact working copy
    std::set<std::string> removed_accounts;      // kDomain, until COMMIT
    std::set<std::string> removed_groups;
  };

  bool Send(const std::string& bytes);
  std::string Prompt() const;
  bool Reply(const std::vector<std::string>& lines, bool ok,
             const std::string& text);
  bool Ok(const std::string& text = "command successful") {
    return Reply({}, true, text);
  }
  bool Err(const std::string& text) { return Reply({}, false, text); }
  bool Handle(const std::string& line);
  bool HandleLogin(const std::string& line);
  bool Command(const std::vector<std::string>& w, const std::string& line);
  bool DoCommit();
  bool List(const std::string& title, const std::vector<std::string>& items);
  bool Show(const std::string& title,
            const std::vector<std::pair<std::string, std::string>>& attrs);
  std::optional<std::string> ContactField(const std::string& name) const;

  FakeAxigenServer* server_;
  int fd_;
  bool quiet_ = false;
  bool authed_ = false;
  bool want_password_ = false;
  std::string user_;
  int auth_errors_ = 0;
  bool closing_ = false;
  std::vector<Context> stack_;
};

bool FakeAxigenServer::Session::Send(const std::string& bytes) {
  // Replies may be sent with the server lock held: the delay is atomic.
  const std::chrono::milliseconds delay(server_->delay_ms_.load());
  if (delay.count() > 0) std::this_thread::sleep_for(delay);
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t r =
        ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (r <= 0) {
      if (r < 0 && errno == EINTR) continue;
      return false;
    }
    done += static_cast<std::size_t>(r);
  }
  return true;
}

std::string FakeAxigenServer::Session::Prompt() const {
  if (!authed_) return want_password_ ? "<password> " : "<login> ";
  std::string path;
  for (const Context& c : stack_) {
    const char* name = nullptr;
    switch (c.kind) {
      case Kind::kRoot:
        continue;
      case Kind::kDomain:
        name = "domain";
        break;
      case Kind::kAccount:
        name = "account";
        break;
      case Kind::kContact:
        name = "contactinfo";
        break;
      case Kind::kGroup:
        name = "group";
        break;
    }
    if (!path.empty()) path += "-";
    path += name;
  }
  return "<" + path + "#> ";
}

bool FakeAxigenServer::Session::Reply(const std::vector<std::string>& lines,
                                      bool ok, const std::string& text) {
  std::string out;
  for (const auto& l : lines) out += l + "\r\n";
  out += (ok ? "+OK: " : "-ERR: ") + text + "\r\n";
  out += Prompt();
  return Send(out);
}

bool FakeAxigenServer::Session::List(const std::string& title,
                                     const std::vector<std::string>& items) {
  const ListForm form = server_->list_form_.load();
  if (form == ListForm::kBare) return Reply(items, true, "command successful");
  const bool table = title != "aliases" && title != "addresses";
  std::vector<std::string> lines = {"The list of " + title + ":", ""};
  if (table) {
    lines.push_back("name");
    if (form != ListForm::kNoRule)
      lines.push_back("--------------------------------");
    lines.push_back("");
  }
  lines.insert(lines.end(), items.begin(), items.end());
  lines.push_back("");
  return Reply(lines, true, "command successful");
}

bool FakeAxigenServer::Session::Show(
    const std::string& title,
    const std::vector<std::pair<std::string, std::string>>& attrs) {
  std::vector<std::string> lines;
  if (!quiet_) {
    lines.push_back("The attributes of " + title + ":");
    lines.push_back("------------------------------");
  }
  for (const auto& [k, v] : attrs) lines.push_back(k + " = " + Quoted(v));
  return Reply(lines, true, "command successful");
}

std::optional<std::string> FakeAxigenServer::Session::ContactField(
    const std::string& name) const {
  for (const auto& f : FakeContactFields())
    if (Lower(f) == Lower(name)) return f;
  return std::nullopt;
}

void FakeAxigenServer::Session::Run() {
  stack_.push_back(Context{});
  if (!Send("Welcome to the Axigen CLI (dirledger test fake)\r\n"
            "You must login first\r\n<login> "))
    return;
  std::string buffer;
  char buf[65536];
  while (!closing_) {
    const auto nl = buffer.find('\n');
    if (nl == std::string::npos) {
      if (buffer.size() > kMaxLine) {
        Err("line too long");
        return;
      }
      const ssize_t r = ::recv(fd_, buf, sizeof(buf), 0);
      if (r <= 0) {
        if (r < 0 && errno == EINTR) continue;
        return;  // the session ends: uncommitted changes are discarded
      }
      buffer.append(buf, static_cast<std::size_t>(r));
      continue;
    }
    std::string line = buffer.substr(0, nl);
    buffer.erase(0, nl + 1);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!Handle(line)) return;
  }
}

bool FakeAxigenServer::Session::HandleLogin(const std::string& line) {
  if (want_password_) {
    want_password_ = false;
    {
      std::lock_guard<std::mutex> lock(server_->mu_);
      server_->commands_.push_back("<password>");
    }
    if (user_ == server_->options_.user && line == server_->options_.password) {
      authed_ = true;
      return Ok("Authentication successful");
    }
    if (++auth_errors_ >= kMaxAuthErrors) {
      Err("Authentication failed; too many errors, closing");
      return false;
    }
    return Err("Authentication failed");
  }
  {
    std::lock_guard<std::mutex> lock(server_->mu_);
    server_->commands_.push_back(line);
  }
  std::string error;
  auto w = Tokenize(line, &error);
  if (!w) return Err(error);
  if (w->empty()) return Reply({}, false, "empty command");
  const std::string verb = Lower((*w)[0]);
  if (verb == "user" && w->size() == 2) {
    user_ = (*w)[1];
    want_password_ = true;
    return Send(Prompt());  // no status line: the password is awaited
  }
  if (verb == "set" && w->size() == 3 && IEquals((*w)[1], "quiet")) {
    quiet_ = IEquals((*w)[2], "on") || IEquals((*w)[2], "yes");
    return Ok();
  }
  if (verb == "set" && w->size() == 3 && IEquals((*w)[1], "console-codes"))
    return Ok();
  if (verb == "get" && w->size() == 2 && IEquals((*w)[1], "version"))
    return Reply({"10.5.0|Linux|x86_64"}, true, "command successful");
  if (verb == "help")
    return Reply({"HELP", "USER <name>", "SET QUIET on|off",
                  "SET CONSOLE-CODES on|off", "GET VERSION", "EXIT"},
                 true, "command successful");
  if (verb == "exit" || verb == "quit") {
    Send("+OK: have a nice day\r\n");
    return false;
  }
  return Err("unknown command in the login context");
}

bool FakeAxigenServer::Session::Handle(const std::string& line) {
  if (!authed_) return HandleLogin(line);
  std::string garble;
  std::optional<std::string> fail;
  {
    std::lock_guard<std::mutex> lock(server_->mu_);
    server_->commands_.push_back(line);
    for (auto& f : server_->command_faults_) {
      if (f.times > 0 && Lower(line).rfind(Lower(f.prefix), 0) == 0) {
        --f.times;
        if (f.garble) {
          garble = "\x01\xff<garbled>\r\n";
        } else {
          fail = f.message;
        }
        break;
      }
    }
  }
  if (!garble.empty()) return Send(garble + Prompt());
  if (fail) return Err(*fail);
  std::string error;
  auto w = Tokenize(line, &error);
  if (!w) return Err("syntax error: " + error);
  if (w->empty()) return Err("empty command");
  return Command(*w, line);
}

bool FakeAxigenServer::Session::DoCommit() {
  CommitFault fault;
  {
    std::lock_guard<std::mutex> lock(server_->mu_);
    fault = server_->commit_fault_;
    server_->commit_fault_ = CommitFault::kNone;
  }
  if (fault == CommitFault::kDropBeforeEffect) return false;
  Context c = stack_.back();
  std::string error;
  {
    std::lock_guard<std::mutex> lock(server_->mu_);
    auto dit = server_->state_.find(c.domain);
    if (c.kind != Kind::kRoot && dit == server_->state_.end()) {
      error = "domain no longer exists";
    } else if (c.kind == Kind::kAccount) {
      FakeDomain& d = dit->second;
      if (c.is_new && d.accounts.count(c.name)) {
        error = "account already exists";
      } else if (c.is_new && NameTaken(d, c.name, c.name)) {
        error =
            "the name " + c.name + " is already in use in domain " + c.domain;
      } else if (!c.is_new && !d.accounts.count(c.name)) {
        error = "account no longer exists";
      } else {
        d.accounts[c.name] = c.account;
        ++server_->commits_;
      }
    } else if (c.kind == Kind::kGroup) {
      FakeDomain& d = dit->second;
      if (c.is_new && d.groups.count(c.name)) {
        error = "group already exists";
      } else {
        d.groups[c.name] = c.group;
        ++server_->commits_;
      }
    } else if (c.kind == Kind::kDomain) {
      FakeDomain& d = dit->second;
      for (const auto& n : c.removed_accounts) d.accounts.erase(n);
      for (const auto& n : c.removed_groups) d.groups.erase(n);
      if (!c.removed_accounts.empty() || !c.removed_groups.empty())
        ++server_->commits_;
    }
  }
  if (fault == CommitFault::kDropAfterEffect) return false;
  if (!error.empty()) return Err(error);
  stack_.pop_back();
  return Ok("changes committed");
}

bool FakeAxigenServer::Session::Command(const std::vector<std::string>& w,
                                        const std::string& line) {
  const std::string verb = Lower(w[0]);
  const std::string object = w.size() > 1 ? Lower(w[1]) : "";
  Context& ctx = stack_.back();

  if (verb == "exit" || verb == "quit") {
    Send("+OK: have a nice day\r\n");
    return false;
  }
  if (verb == "help")
    return Reply({"BACK", "COMMIT", "DONE", "SHOW", "LIST", "SET", "ADD",
                  "REMOVE", "UPDATE", "CONFIG", "EXIT"},
                 true, "command successful");
  if (verb == "set" && w.size() == 3 && object == "quiet") {
    quiet_ = IEquals(w[2], "on") || IEquals(w[2], "yes");
    return Ok();
  }
  if (verb == "back") {
    if (ctx.kind == Kind::kRoot) return Err("BACK is not available here");
    stack_.pop_back();
    return Ok();
  }
  if (verb == "done") {
    if (ctx.kind != Kind::kContact)
      return Err("DONE is for CONFIG contexts; use COMMIT");
    Context child = ctx;
    stack_.pop_back();
    stack_.back().account.contact = child.contact;
    return Ok();
  }
  if (verb == "commit") {
    if (ctx.kind == Kind::kRoot) return Err("nothing to commit here");
    if (ctx.kind == Kind::kContact) {  // as DONE, as in every CONFIG context
      Context child = ctx;
      stack_.pop_back();
      stack_.back().account.contact = child.contact;
      return Ok();
    }
    return DoCommit();
  }

  bool params_ok = true;
  switch (ctx.kind) {
    case Kind::kRoot: {
      if (verb == "list" && object == "domains" && w.size() == 2) {
        std::vector<std::string> names;
        {
          std::lock_guard<std::mutex> lock(server_->mu_);
          for (const auto& [n, d] : server_->state_) names.push_back(n);
        }
        return List("domains", names);
      }
      if (verb == "update" && object == "domain") {
        auto p = Params(w, 2, &params_ok);
        if (!params_ok || !p.count("name"))
          return Err("usage: UPDATE Domain name <domain>");
        const std::string d = Lower(p["name"]);
        {
          std::lock_guard<std::mutex> lock(server_->mu_);
          if (!server_->state_.count(d)) return Err("no such domain: " + d);
        }
        Context c;
        c.kind = Kind::kDomain;
        c.domain = d;
        stack_.push_back(c);
        return Ok();
      }
      break;
    }
    case Kind::kDomain: {
      FakeDomain committed;
      {
        std::lock_guard<std::mutex> lock(server_->mu_);
        auto it = server_->state_.find(ctx.domain);
        if (it == server_->state_.end()) return Err("domain no longer exists");
        committed = it->second;
      }
      if (verb == "list" && (object == "accounts" || object == "groups")) {
        std::vector<std::string> names;
        if (object == "accounts") {
          for (const auto& [n, a] : committed.accounts) names.push_back(n);
        } else {
          for (const auto& [n, g] : committed.groups) names.push_back(n);
        }
        return List(object, names);
      }
      const bool is_account = object == "account";
      const bool is_group = object == "group";
      if (!is_account && !is_group) break;
      auto p = Params(w, 2, &params_ok);
      if (!params_ok || !p.count("name"))
        return Err("usage: " + w[0] + " " + w[1] + " name <name> ...");
      const std::string name = Lower(p["name"]);
      if (!ValidName(name)) return Err("invalid name");
      const bool exists = is_account ? committed.accounts.count(name) > 0
                                     : committed.groups.count(name) > 0;
      if (verb == "add") {
        if (exists)
          return Err(std::string(is_account ? "account" : "group") +
                     " already exists");
        if (is_account && (!p.count("password") || p["password"].empty()))
          return Err("ADD Account needs a password");
        if (is_account && committed.groups.count(name))
          return Err("a group has this name");
        if (is_group && committed.accounts.count(name))
          return Err("an account has this name");
        Context c;
        c.kind = is_account ? Kind::kAccount : Kind::kGroup;
        c.domain = ctx.domain;
        c.name = name;
        c.is_new = true;
        c.account.password = p["password"];
        stack_.push_back(c);
        return Ok();
      }
      if (verb == "update") {
        if (!exists)
          return Err(std::string("no such ") +
                     (is_account ? "account" : "group"));
        Context c;
        c.kind = is_account ? Kind::kAccount : Kind::kGroup;
        c.domain = ctx.domain;
        c.name = name;
        if (is_account) c.account = committed.accounts[name];
        if (is_group) c.group = committed.groups[name];
        stack_.push_back(c);
        return Ok();
      }
      if (verb == "remove") {
        if (!exists)
          return Err(std::string("no such ") +
                     (is_account ? "account" : "group"));
        (is_account ? ctx.removed_accounts : ctx.removed_groups).insert(name);
        return Ok();
      }
      break;
    }
    case Kind::kAccount: {
      if (verb == "config" && object == "contactinfo" && w.size() == 2) {
        Context c;
        c.kind = Kind::kContact;
        c.domain = ctx.domain;
        c.name = ctx.name;
        c.contact = ctx.account.contact;
        stack_.push_back(c);
        return Ok();
      }
      if (verb == "show" && object == "contactinfo" && w.size() == 2) {
        std::vector<std::pair<std::string, std::string>> attrs;
        for (const auto& [k, v] : ctx.account.contact) attrs.emplace_back(k, v);
        return Show("the contact info of " + ctx.name, attrs);
      }
      if (verb == "show" && w.size() == 1)
        return Show("account " + ctx.name, {{"name", ctx.name}});
      if (verb == "list" && object == "aliases" && w.size() == 2)
        return List("aliases",
                    {ctx.account.aliases.begin(), ctx.account.aliases.end()});
      if ((verb == "add" || verb == "remove") && object == "alias" &&
          w.size() == 3) {
        const std::string a = Lower(w[2]);
        if (!ValidName(a)) return Err("invalid alias name");
        if (verb == "add") {
          if (a == ctx.name) return Err("an alias may not be the account name");
          // As Axigen: a name belongs to one account, group or alias of the
          // domain.
          {
            std::lock_guard<std::mutex> lock(server_->mu_);
            auto dit = server_->state_.find(ctx.domain);
            if (dit != server_->state_.end() &&
                NameTaken(dit->second, a, ctx.name))
              return Err("the name " + a + " is already in use in domain " +
                         ctx.domain);
          }
          if (!ctx.account.aliases.insert(a).second)
            return Err("alias already exists");
        } else if (!ctx.account.aliases.erase(a)) {
          return Err("no such alias");
        }
        return Ok();
      }
      if (verb == "set" && w.size() == 3 && object == "password") {
        ctx.account.password = w[2];
        return Ok();
      }
      break;
    }
    case Kind::kContact: {
      if (verb == "set" && w.size() == 3) {
        auto f = ContactField(w[1]);
        if (!f) return Err("unknown attribute " + w[1]);
        if (w[2].empty()) {
          ctx.contact.erase(*f);
        } else {
          ctx.contact[*f] = w[2];
        }
        return Ok();
      }
      if (verb == "show") {
        std::vector<std::pair<std::string, std::string>> attrs;
        if (w.size() == 3 && object == "attr") {
          auto f = ContactField(w[2]);
          if (!f) return Err("unknown attribute " + w[2]);
          auto it = ctx.contact.find(*f);
          attrs.emplace_back(*f, it == ctx.contact.end() ? "" : it->second);
        } else if (w.size() == 1) {
          for (const auto& [k, v] : ctx.contact) attrs.emplace_back(k, v);
        } else {
          break;
        }
        return Show("the contact info of " + ctx.name, attrs);
      }
      break;
    }
    case Kind::kGroup: {
      if (verb == "set" && w.size() == 3 && object == "displayname") {
        if (w[2].empty()) {
          ctx.group.attrs.erase("displayName");
        } else {
          ctx.group.attrs["displayName"] = w[2];
        }
        return Ok();
      }
      if (verb == "show" && w.size() == 1) {
        std::vector<std::pair<std::string, std::string>> attrs = {
            {"name", ctx.name}};
        for (const auto& [k, v] : ctx.group.attrs) attrs.emplace_back(k, v);
        return Show("group " + ctx.name, attrs);
      }
      if (verb == "list" && object == "addresses" && w.size() == 2)
        return List("addresses",
                    {ctx.group.addresses.begin(), ctx.group.addresses.end()});
      if ((verb == "add" || verb == "remove") && object == "address" &&
          w.size() == 3) {
        const std::string a = Lower(w[2]);
        const auto at = a.find('@');
        if (at == std::string::npos || at == 0 || !ValidName(a.substr(0, at)))
          return Err("invalid address");
        if (verb == "add") {
          if (!ctx.group.addresses.insert(a).second)
            return Err("address already in the group");
        } else if (!ctx.group.addresses.erase(a)) {
          return Err("address not in the group");
        }
        return Ok();
      }
      break;
    }
  }
  (void)line;
  return Err("unknown command in this context (use HELP)");
}

FakeAxigenServer::FakeAxigenServer(FakeAxigenOptions options)
    : options_(std::move(options)) {}

FakeAxigenServer::~FakeAxigenServer() { Stop(); }

Status FakeAxigenServer::Start() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0)
    return Status::IOError(std::string("fake axigen: socket: ") +
                           std::strerror(errno));
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(options_.port));
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) !=
          0 ||
      ::listen(listen_fd_, 16) != 0) {
    const std::string err = std::strerror(errno);
    ::close(listen_fd_);
    listen_fd_ = -1;
    return Status::IOError("fake axigen: cannot listen on 127.0.0.1:" +
                           std::to_string(options_.port) + ": " + err);
  }
  socklen_t len = sizeof(addr);
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  accept_thread_ = std::thread([this] { AcceptLoop(); });
  return Status::Ok();
}

void FakeAxigenServer::AcceptLoop() {
  while (!stopping_) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR) continue;
      return;  // closed by Stop
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      ::close(fd);
      return;
    }
    ++sessions_;
    session_fds_.insert(fd);
    session_threads_.emplace_back([this, fd] {
      Session s(this, fd);
      s.Run();
      std::lock_guard<std::mutex> l(mu_);
      session_fds_.erase(fd);
      ::shutdown(fd, SHUT_RDWR);
      ::close(fd);
    });
  }
}

void FakeAxigenServer::Stop() {
  if (stopping_.exchange(true)) return;
  if (listen_fd_ >= 0) {
    ::shutdown(listen_fd_, SHUT_RDWR);
    ::close(listen_fd_);
  }
  if (accept_thread_.joinable()) accept_thread_.join();
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (int fd : session_fds_) ::shutdown(fd, SHUT_RDWR);
    threads.swap(session_threads_);
  }
  for (auto& t : threads) t.join();
}

void FakeAxigenServer::AddDomain(const std::string& domain) {
  std::lock_guard<std::mutex> lock(mu_);
  state_[Lower(domain)];
}

FakeState FakeAxigenServer::State() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_;
}

void FakeAxigenServer::Mutate(const std::function<void(FakeState*)>& fn) {
  std::lock_guard<std::mutex> lock(mu_);
  fn(&state_);
}

void FakeAxigenServer::FailNextCommit(CommitFault fault) {
  std::lock_guard<std::mutex> lock(mu_);
  commit_fault_ = fault;
}

void FakeAxigenServer::FailCommand(const std::string& prefix, int times,
                                   const std::string& message) {
  std::lock_guard<std::mutex> lock(mu_);
  command_faults_.push_back({prefix, times, message, false});
}

void FakeAxigenServer::GarbleCommand(const std::string& prefix, int times) {
  std::lock_guard<std::mutex> lock(mu_);
  command_faults_.push_back({prefix, times, "", true});
}

void FakeAxigenServer::SetReplyDelay(std::chrono::milliseconds delay) {
  delay_ms_ = delay.count();
}

void FakeAxigenServer::SetListForm(ListForm form) { list_form_ = form; }

int FakeAxigenServer::commits() const {
  std::lock_guard<std::mutex> lock(mu_);
  return commits_;
}

int FakeAxigenServer::sessions() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sessions_;
}

std::vector<std::string> FakeAxigenServer::commands() const {
  std::lock_guard<std::mutex> lock(mu_);
  return commands_;
}

}  // namespace dirledger::test

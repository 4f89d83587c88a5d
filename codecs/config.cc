#include "codecs/config.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
// toml++ is used header-only, without exceptions: errors become Status.
#define TOML_HEADER_ONLY 1
#define TOML_EXCEPTIONS 0
#include <toml++/toml.h>

#include "codecs/rules_version.h"
#include "codecs/sha256.h"

namespace dirledger {
namespace {

// Collects the location prefix for errors: "file:line: ".
class Ctx {
 public:
  explicit Ctx(std::string_view path)
      : path_(path.empty() ? "<config>" : path) {}

  Status Error(const toml::node* node, std::string msg) const {
    std::string out = path_;
    if (node && node->source().begin.line > 0)
      out += ":" + std::to_string(node->source().begin.line);
    out += ": " + msg;
    return Status::InvalidArgument(std::move(out));
  }

 private:
  std::string path_;
};

std::string Quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  out += s;
  out += '"';
  return out;
}

std::string Join(const std::vector<std::string_view>& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += ", ";
    out += v[i];
  }
  return out;
}

// Rejects keys outside `allowed`, naming the table.
Status CheckKeys(const Ctx& ctx, const toml::table& t, std::string_view where,
                 const std::vector<std::string_view>& allowed) {
  for (const auto& [k, v] : t) {
    if (std::find(allowed.begin(), allowed.end(), k.str()) == allowed.end()) {
      std::string hint;
      if (k.str() == "bind_password" || k.str() == "password")
        hint = " (passwords never go in the config: use " +
               std::string(k.str() == "password"
                               ? "password_file or password_env"
                               : "bind_password_file or bind_password_env") +
               ")";
      return ctx.Error(&v, std::string(where) + ": unknown key " +
                               Quote(k.str()) + hint +
                               "; allowed: " + Join(allowed));
    }
  }
  return Status::Ok();
}

Status GetString(const Ctx& ctx, const toml::table& t, std::string_view where,
                 std::string_view key, std::string* out) {
  const toml::node* n = t.get(key);
  if (!n) return Status::Ok();
  if (!n->is_string())
    return ctx.Error(
        n, std::string(where) + ": " + std::string(key) + " must be a string");
  *out = n->as_string()->get();
  return Status::Ok();
}

Status GetBool(const Ctx& ctx, const toml::table& t, std::string_view where,
               std::string_view key, bool* out) {
  const toml::node* n = t.get(key);
  if (!n) return Status::Ok();
  if (!n->is_boolean())
    return ctx.Error(n, std::string(where) + ": " + std::string(key) +
                            " must be true or false");
  *out = n->as_boolean()->get();
  return Status::Ok();
}

Status GetNumber(const Ctx& ctx, const toml::table& t, std::string_view where,
                 std::string_view key, double min, double max, double* out) {
  const toml::node* n = t.get(key);
  if (!n) return Status::Ok();
  double v;
  if (n->is_integer())
    v = static_cast<double>(n->as_integer()->get());
  else if (n->is_floating_point())
    v = n->as_floating_point()->get();
  else
    return ctx.Error(
        n, std::string(where) + ": " + std::string(key) + " must be a number");
  if (!(v >= min && v <= max)) {
    std::ostringstream os;
    os << where << ": " << key << " = " << v << " is out of range; allowed "
       << min << " to " << max;
    return ctx.Error(n, os.str());
  }
  *out = v;
  return Status::Ok();
}

template <typename E>
Status GetEnum(const Ctx& ctx, const toml::table& t, std::string_view where,
               std::string_view key,
               const std::vector<std::pair<std::string_view, E>>& choices,
               E* out, bool* present = nullptr) {
  const toml::node* n = t.get(key);
  if (present) *present = n != nullptr;
  if (!n) return Status::Ok();
  std::vector<std::string_view> names;
  for (const auto& c : choices) names.push_back(c.first);
  if (!n->is_string())
    return ctx.Error(n, std::string(where) + ": " + std::string(key) +
                            " must be a string; allowed: " + Join(names));
  const std::string& s = n->as_string()->get();
  for (const auto& c : choices) {
    if (c.first == s) {
      *out = c.second;
      return Status::Ok();
    }
  }
  return ctx.Error(n, std::string(where) + ": " + std::string(key) + " = " +
                          Quote(s) +
                          " is not allowed; allowed: " + Join(names));
}

const std::vector<std::pair<std::string_view, ServerType>> kServerTypes = {
    {"openldap", ServerType::kOpenLdap},
    {"activedirectory", ServerType::kActiveDirectory}};
const std::vector<std::pair<std::string_view, Direction>> kDirections = {
    {"ldap_to_axigen", Direction::kLdapToAxigen},
    {"axigen_to_ldap", Direction::kAxigenToLdap},
    {"both_ways", Direction::kBothWays}};
const std::vector<std::pair<std::string_view, ConflictResolution>>
    kResolutions = {{"ldap_wins", ConflictResolution::kLdapWins},
                    {"axigen_wins", ConflictResolution::kAxigenWins},
                    {"no_change", ConflictResolution::kNoChange}};
const std::vector<std::pair<std::string_view, MailKind>> kMailKinds = {
    {"embedded", MailKind::kEmbedded}, {"axigen", MailKind::kAxigen}};

Status ParseThreshold(const Ctx& ctx, const toml::node* n, ConnectorConfig* c) {
  if (!n) return Status::Ok();
  if (n->is_integer()) {
    const int64_t v = n->as_integer()->get();
    if (v < 0)
      return ctx.Error(
          n, "connector " + Quote(c->name) + ": delete_threshold must be >= 0");
    c->delete_threshold = static_cast<std::uint64_t>(v);
    c->delete_threshold_percent = 0;
    return Status::Ok();
  }
  if (n->is_string()) {
    std::string s = n->as_string()->get();
    if (!s.empty() && s.back() == '%') {
      s.pop_back();
      char* end = nullptr;
      const double p = std::strtod(s.c_str(), &end);
      if (!s.empty() && end && *end == '\0' && p > 0 && p <= 100) {
        c->delete_threshold_percent = p;
        return Status::Ok();
      }
    }
  }
  return ctx.Error(n, "connector " + Quote(c->name) +
                          ": delete_threshold must be a count (e.g. 500) or a "
                          "percentage of known objects (e.g. \"10%\")");
}

Status ParseConnector(const Ctx& ctx, const toml::table& t,
                      const FileLoader& loader, Config* cfg,
                      ConnectorConfig* c) {
  const std::string where0 = "[[connector]]";
  DIRLEDGER_RETURN_IF_ERROR(GetString(ctx, t, where0, "name", &c->name));
  if (c->name.empty()) return ctx.Error(&t, "[[connector]]: name is required");
  const std::string where = "connector " + Quote(c->name);
  DIRLEDGER_RETURN_IF_ERROR(CheckKeys(ctx, t, where,
                                      {"name",
                                       "server_type",
                                       "uris",
                                       "bind_dn",
                                       "bind_password_file",
                                       "bind_password_env",
                                       "timeout_s",
                                       "direction",
                                       "conflict_resolution",
                                       "account_base_dn",
                                       "group_sync",
                                       "group_base_dn",
                                       "custom_schema_file",
                                       "ignore_ldap_deletes",
                                       "delete_threshold",
                                       "delete_delay_s",
                                       "polling_interval_s",
                                       "start_tls",
                                       "ca_file",
                                       "tls_verify",
                                       "search_base",
                                       "secret_attributes"}));
  DIRLEDGER_RETURN_IF_ERROR(
      GetEnum(ctx, t, where, "server_type", kServerTypes, &c->server_type));
  if (const toml::node* n = t.get("uris")) {
    const toml::array* a = n->as_array();
    if (!a || a->empty() || a->size() > 5)
      return ctx.Error(n, where + ": uris must be a list of 1 to 5 LDAP URIs");
    for (const toml::node& u : *a) {
      if (!u.is_string())
        return ctx.Error(&u, where + ": uris must hold strings");
      const std::string& s = u.as_string()->get();
      if (s.rfind("ldap://", 0) != 0 && s.rfind("ldaps://", 0) != 0 &&
          s.rfind("ldapi://", 0) != 0)
        return ctx.Error(&u,
                         where + ": " + Quote(s) +
                             " is not an ldap://, ldaps:// or ldapi:// URI");
      c->uris.push_back(s);
    }
  } else {
    return ctx.Error(&t, where + ": uris is required");
  }
  if (const toml::node* n = t.get("secret_attributes")) {
    const toml::array* a = n->as_array();
    if (!a)
      return ctx.Error(n, where +
                              ": secret_attributes must be a list of "
                              "attribute names");
    for (const toml::node& u : *a) {
      if (!u.is_string() || u.as_string()->get().empty())
        return ctx.Error(&u, where +
                                 ": secret_attributes must hold "
                                 "attribute names");
      c->secret_attributes.push_back(u.as_string()->get());
    }
  }
  DIRLEDGER_RETURN_IF_ERROR(GetString(ctx, t, where, "bind_dn", &c->bind_dn));
  DIRLEDGER_RETURN_IF_ERROR(
      GetString(ctx, t, where, "bind_password_file", &c->bind_password_file));
  DIRLEDGER_RETURN_IF_ERROR(
      GetString(ctx, t, where, "bind_password_env", &c->bind_password_env));
  if (!c->bind_password_file.empty() && !c->bind_password_env.empty())
    return ctx.Error(t.get("bind_password_env"),
                     where +
                         ": give bind_password_file or bind_password_env, "
                         "not both");
  DIRLEDGER_RETURN_IF_ERROR(
      GetNumber(ctx, t, where, "timeout_s", 0.01, 3600, &c->timeout_s));
  DIRLEDGER_RETURN_IF_ERROR(
      GetEnum(ctx, t, where, "direction", kDirections, &c->direction));
  bool has_resolution = false;
  DIRLEDGER_RETURN_IF_ERROR(GetEnum(ctx, t, where, "conflict_resolution",
                                    kResolutions, &c->conflict_resolution,
                                    &has_resolution));
  if (has_resolution && c->direction != Direction::kBothWays)
    return ctx.Error(t.get("conflict_resolution"),
                     where +
                         ": conflict_resolution is only allowed with "
                         "direction = \"both_ways\" (direction is " +
                         Quote(DirectionName(c->direction)) + ")");
  if (!has_resolution && c->direction == Direction::kBothWays)
    return ctx.Error(t.get("direction"),
                     where +
                         ": direction = \"both_ways\" needs "
                         "conflict_resolution (ldap_wins, axigen_wins or "
                         "no_change)");
  DIRLEDGER_RETURN_IF_ERROR(
      GetString(ctx, t, where, "account_base_dn", &c->account_base_dn));
  if (c->account_base_dn.empty())
    return ctx.Error(&t, where + ": account_base_dn is required");
  DIRLEDGER_RETURN_IF_ERROR(
      GetBool(ctx, t, where, "group_sync", &c->group_sync));
  DIRLEDGER_RETURN_IF_ERROR(
      GetString(ctx, t, where, "group_base_dn", &c->group_base_dn));
  if (!c->group_sync && !c->group_base_dn.empty())
    return ctx.Error(t.get("group_base_dn"),
                     where +
                         ": group_base_dn is only allowed with "
                         "group_sync = true");
  if (c->group_sync && c->group_base_dn.empty())
    return ctx.Error(t.get("group_sync"),
                     where + ": group_sync = true needs group_base_dn");
  DIRLEDGER_RETURN_IF_ERROR(
      GetString(ctx, t, where, "custom_schema_file", &c->custom_schema_file));
  if (!c->custom_schema_file.empty()) {
    Result<std::string> text = loader(cfg->Resolve(c->custom_schema_file));
    if (!text.ok())
      return ctx.Error(t.get("custom_schema_file"),
                       where + ": custom_schema_file " +
                           Quote(c->custom_schema_file) + ": " +
                           text.status().message());
    c->custom_schema_text = std::move(text).value();
  }
  DIRLEDGER_RETURN_IF_ERROR(
      GetBool(ctx, t, where, "ignore_ldap_deletes", &c->ignore_ldap_deletes));
  DIRLEDGER_RETURN_IF_ERROR(ParseThreshold(ctx, t.get("delete_threshold"), c));
  DIRLEDGER_RETURN_IF_ERROR(
      GetNumber(ctx, t, where, "delete_delay_s", 0, 86400, &c->delete_delay_s));
  DIRLEDGER_RETURN_IF_ERROR(GetNumber(ctx, t, where, "polling_interval_s", 0.05,
                                      86400, &c->polling_interval_s));
  DIRLEDGER_RETURN_IF_ERROR(GetBool(ctx, t, where, "start_tls", &c->start_tls));
  DIRLEDGER_RETURN_IF_ERROR(GetString(ctx, t, where, "ca_file", &c->ca_file));
  DIRLEDGER_RETURN_IF_ERROR(
      GetBool(ctx, t, where, "tls_verify", &c->tls_verify));
  DIRLEDGER_RETURN_IF_ERROR(
      GetString(ctx, t, where, "search_base", &c->search_base));
  return Status::Ok();
}

Status ParseService(const Ctx& ctx, const toml::table& t,
                    ServiceSettings* out) {
  DIRLEDGER_RETURN_IF_ERROR(CheckKeys(ctx, t, "[service]", {"metrics_listen"}));
  DIRLEDGER_RETURN_IF_ERROR(
      GetString(ctx, t, "[service]", "metrics_listen", &out->metrics_listen));
  if (t.get("metrics_listen")) {
    Result<ListenAddress> a = ParseListenAddress(out->metrics_listen);
    if (!a.ok())
      return ctx.Error(
          t.get("metrics_listen"),
          "[service]: metrics_listen = " + Quote(out->metrics_listen) + ": " +
              a.status().message());
  }
  return Status::Ok();
}

// A list of strings (`key` required, at least one).
Status GetStrings(const Ctx& ctx, const toml::table& t, std::string_view where,
                  std::string_view key, std::vector<std::string>* out) {
  const toml::node* n = t.get(key);
  if (!n)
    return ctx.Error(
        &t, std::string(where) + ": " + std::string(key) + " is required");
  const toml::array* a = n->as_array();
  if (!a || a->empty())
    return ctx.Error(n, std::string(where) + ": " + std::string(key) +
                            " must be a list of strings, e.g. [\"a\"]");
  for (const toml::node& v : *a) {
    if (!v.is_string())
      return ctx.Error(&v, std::string(where) + ": " + std::string(key) +
                               " must be a list of strings");
    out->push_back(v.as_string()->get());
  }
  return Status::Ok();
}

Status ParseHook(const Ctx& ctx, const toml::table& t, const Config& cfg,
                 HookConfig* h) {
  const std::string where = "[[hook]] " + std::to_string(cfg.hooks.size() + 1);
  DIRLEDGER_RETURN_IF_ERROR(
      CheckKeys(ctx, t, where, {"on", "command", "timeout_s"}));
  DIRLEDGER_RETURN_IF_ERROR(GetStrings(ctx, t, where, "on", &h->on));
  const auto& names = HookEventNames();
  for (const std::string& on : h->on)
    if (std::find(names.begin(), names.end(), on) == names.end())
      return ctx.Error(t.get("on"), where + ": on: unknown event " + Quote(on) +
                                        "; allowed: " + Join(names));
  DIRLEDGER_RETURN_IF_ERROR(GetStrings(ctx, t, where, "command", &h->command));
  // Run without a shell and without a search of PATH: the program is named
  // by its path; a relative one is taken from the config file's directory.
  if (h->command[0].empty() || h->command[0].find('/') == std::string::npos)
    return ctx.Error(t.get("command"),
                     where +
                         ": command[0] must be the program's path (e.g. "
                         "\"/usr/local/bin/notify-ops\"); it is run "
                         "without a shell or a PATH search");
  std::error_code ec;
  const std::filesystem::path program =
      std::filesystem::absolute(cfg.Resolve(h->command[0]), ec);
  if (!ec) h->command[0] = program.lexically_normal().string();
  DIRLEDGER_RETURN_IF_ERROR(
      GetNumber(ctx, t, where, "timeout_s", 0.1, 3600, &h->timeout_s));
  return Status::Ok();
}

Status ParseMail(const Ctx& ctx, const toml::table& t, MailConfig* m) {
  const std::string where = "[mail]";
  DIRLEDGER_RETURN_IF_ERROR(CheckKeys(
      ctx, t, where,
      {"kind", "host", "port", "user", "password_file", "password_env", "tls",
       "ca_file", "tls_verify", "polling_interval_s",
       "transient_error_retry_interval_s", "timeout_s"}));
  DIRLEDGER_RETURN_IF_ERROR(
      GetEnum(ctx, t, where, "kind", kMailKinds, &m->kind));
  DIRLEDGER_RETURN_IF_ERROR(GetString(ctx, t, where, "host", &m->host));
  double port = m->port;
  DIRLEDGER_RETURN_IF_ERROR(GetNumber(ctx, t, where, "port", 1, 65535, &port));
  m->port = static_cast<int>(port);
  DIRLEDGER_RETURN_IF_ERROR(GetString(ctx, t, where, "user", &m->user));
  DIRLEDGER_RETURN_IF_ERROR(
      GetString(ctx, t, where, "password_file", &m->password_file));
  DIRLEDGER_RETURN_IF_ERROR(
      GetString(ctx, t, where, "password_env", &m->password_env));
  DIRLEDGER_RETURN_IF_ERROR(GetBool(ctx, t, where, "tls", &m->tls));
  DIRLEDGER_RETURN_IF_ERROR(GetString(ctx, t, where, "ca_file", &m->ca_file));
  DIRLEDGER_RETURN_IF_ERROR(
      GetBool(ctx, t, where, "tls_verify", &m->tls_verify));
  DIRLEDGER_RETURN_IF_ERROR(GetNumber(ctx, t, where, "polling_interval_s", 0.05,
                                      86400, &m->polling_interval_s));
  DIRLEDGER_RETURN_IF_ERROR(
      GetNumber(ctx, t, where, "transient_error_retry_interval_s", 0.01, 86400,
                &m->transient_error_retry_interval_s));
  DIRLEDGER_RETURN_IF_ERROR(
      GetNumber(ctx, t, where, "timeout_s", 0.01, 3600, &m->timeout_s));
  if (m->kind == MailKind::kAxigen && m->password_file.empty() &&
      m->password_env.empty())
    return ctx.Error(&t, where +
                             ": kind = \"axigen\" needs password_file or "
                             "password_env");
  return Status::Ok();
}

}  // namespace

std::string ListenAddress::ToString() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

bool ListenAddress::loopback() const {
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1)
    return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  return inet_pton(AF_INET6, host.c_str(), &v6) == 1 &&
         IN6_IS_ADDR_LOOPBACK(&v6);
}

Result<ListenAddress> ParseListenAddress(std::string_view text) {
  const auto bad = [&](std::string_view why) {
    return Status::InvalidArgument(
        std::string(why) +
        "; write an IP address and a port: \"127.0.0.1:9464\" (this host "
        "only), \"[::1]:9464\", or an interface's address, e.g. "
        "\"0.0.0.0:9464\" for every IPv4 interface");
  };
  ListenAddress out;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() ||
        text[close + 1] != ':')
      return bad("an IPv6 address in brackets must be followed by :PORT");
    out.host = std::string(text.substr(1, close - 1));
    port = text.substr(close + 2);
    in6_addr v6{};
    if (inet_pton(AF_INET6, out.host.c_str(), &v6) != 1)
      return bad("\"" + out.host + "\" is not an IPv6 address");
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return bad("no port");
    if (colon == 0) return bad("no address");
    out.host = std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
    in_addr v4{};
    if (inet_pton(AF_INET, out.host.c_str(), &v4) != 1)
      return bad("\"" + out.host +
                 "\" is not an IPv4 address (names are not resolved)");
  }
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string_view::npos)
    return bad("the port must be a number from 1 to 65535");
  out.port = std::stoi(std::string(port));
  if (out.port < 1 || out.port > 65535)
    return bad("the port must be a number from 1 to 65535");
  return out;
}

std::string_view ServerTypeName(ServerType t) {
  return t == ServerType::kOpenLdap ? "openldap" : "activedirectory";
}

std::string_view DirectionName(Direction d) {
  switch (d) {
    case Direction::kLdapToAxigen:
      return "ldap_to_axigen";
    case Direction::kAxigenToLdap:
      return "axigen_to_ldap";
    case Direction::kBothWays:
      return "both_ways";
  }
  return "unknown";
}

std::string_view ConflictResolutionName(ConflictResolution c) {
  switch (c) {
    case ConflictResolution::kLdapWins:
      return "ldap_wins";
    case ConflictResolution::kAxigenWins:
      return "axigen_wins";
    case ConflictResolution::kNoChange:
      return "no_change";
  }
  return "unknown";
}

const ConnectorConfig* Config::FindConnector(std::string_view name) const {
  for (const auto& c : connectors)
    if (c.name == name) return &c;
  return nullptr;
}

const DomainConfig* Config::FindDomain(std::string_view name) const {
  for (const auto& d : domains)
    if (EqualsIgnoreCase(d.name, name)) return &d;
  return nullptr;
}

std::string Config::Resolve(std::string_view p) const {
  std::filesystem::path path(p);
  if (path.is_absolute() || base_dir.empty()) return std::string(p);
  return (std::filesystem::path(base_dir) / path).lexically_normal().string();
}

Result<std::string> LoadFileFromDisk(const std::string& path) {
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return Status::IOError(
        "cannot read " + path +
        (errno ? std::string(": ") + std::strerror(errno) : std::string()));
  std::ostringstream os;
  os << in.rdbuf();
  if (in.bad()) return Status::IOError("error reading " + path);
  return os.str();
}

namespace {

// Decodes one UTF-8 sequence whose lead byte (>= 0x80) is text[*i];
// advances *i to its last byte. False on invalid UTF-8.
bool DecodeUtf8(std::string_view text, size_t* i, char32_t* cp) {
  const unsigned char c = static_cast<unsigned char>(text[*i]);
  size_t n;
  char32_t v;
  if (c >= 0xc2 && c <= 0xdf) {
    n = 1;
    v = c & 0x1f;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 2;
    v = c & 0x0f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 3;
    v = c & 0x07;
  } else {
    return false;
  }
  if (*i + n >= text.size()) return false;
  for (size_t k = 1; k <= n; ++k) {
    const unsigned char t = static_cast<unsigned char>(text[*i + k]);
    if ((t & 0xc0) != 0x80) return false;
    v = (v << 6) | (t & 0x3f);
  }
  if ((n == 2 && v < 0x800) || (n == 3 && (v < 0x10000 || v > 0x10ffff)) ||
      (v >= 0xd800 && v <= 0xdfff))
    return false;
  *i += n;
  *cp = v;
  return true;
}

void AppendEscape(std::string* out, char32_t cp) {
  char buf[16];
  if (cp <= 0xffff)
    std::snprintf(buf, sizeof buf, "\\u%04X", static_cast<unsigned>(cp));
  else
    std::snprintf(buf, sizeof buf, "\\U%08X", static_cast<unsigned>(cp));
  *out += buf;
}

}  // namespace

Result<std::string> ToAsciiToml(std::string_view text, std::string_view path) {
  enum class In { kCode, kComment, kBasic, kLiteral, kMlBasic, kMlLiteral };
  constexpr std::string_view kMlBasicQuote = "\"\"\"";
  constexpr std::string_view kMlLiteralQuote = "'''";
  In in = In::kCode;
  int line = 1;
  std::string out;
  out.reserve(text.size() + 16);
  auto fail = [&](const std::string& what) -> Status {
    return Status::InvalidArgument(
        (path.empty() ? std::string("<config>") : std::string(path)) + ":" +
        std::to_string(line) + ": " + what);
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    const std::string_view rest = text.substr(i);
    if (c == '\n') {
      if (in == In::kBasic || in == In::kLiteral)
        return fail("a single-line string is not closed");
      ++line;
      if (in == In::kComment) in = In::kCode;
      out += '\n';
      continue;
    }
    if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "0x%02x", c);
      return fail(std::string("control character ") + buf +
                  " (TOML allows only tab, CR and LF)");
    }
    if (c >= 0x80) {
      char32_t cp = 0;
      if (!DecodeUtf8(text, &i, &cp)) return fail("invalid UTF-8");
      if (in == In::kCode) return fail("non-ASCII character outside a string");
      if (in == In::kComment)
        out += '?';
      else
        AppendEscape(&out, cp);
      continue;
    }
    switch (in) {
      case In::kCode:
        if (c == '#') {
          in = In::kComment;
          out += '#';
        } else if (rest.substr(0, 3) == kMlBasicQuote) {
          in = In::kMlBasic;
          out += kMlBasicQuote;
          i += 2;
        } else if (rest.substr(0, 3) == kMlLiteralQuote) {
          in = In::kMlLiteral;
          out += kMlBasicQuote;
          i += 2;
        } else if (c == '"') {
          in = In::kBasic;
          out += '"';
        } else if (c == '\'') {
          in = In::kLiteral;
          out += '"';
        } else {
          out += static_cast<char>(c);
        }
        break;
      case In::kComment:
        out += static_cast<char>(c);
        break;
      case In::kBasic:
      case In::kMlBasic:
        if (c == '\\' && i + 1 < text.size()) {
          out += '\\';
          const unsigned char n = static_cast<unsigned char>(text[i + 1]);
          if (n >= 0x80) break;  // an invalid escape: the parser will say so
          if (n == '\n') ++line;
          out += static_cast<char>(n);
          ++i;
          break;
        }
        if (in == In::kBasic && c == '"') {
          in = In::kCode;
          out += '"';
        } else if (in == In::kMlBasic && rest.substr(0, 3) == kMlBasicQuote) {
          in = In::kCode;
          out += kMlBasicQuote;
          i += 2;
        } else {
          out += static_cast<char>(c);
        }
        break;
      case In::kLiteral:
      case In::kMlLiteral:
        // A literal string becomes a basic string with the same value.
        if (in == In::kLiteral && c == '\'') {
          in = In::kCode;
          out += '"';
        } else if (in == In::kMlLiteral &&
                   rest.substr(0, 3) == kMlLiteralQuote) {
          in = In::kCode;
          out += kMlBasicQuote;
          i += 2;
        } else if (c == '\\' || c == '"') {
          out += '\\';
          out += static_cast<char>(c);
        } else {
          out += static_cast<char>(c);
        }
        break;
    }
  }
  return out;
}

const std::vector<std::string_view>& HookEventNames() {
  static const std::vector<std::string_view> kNames = {
      "hold", "failed_write", "source_down", "conflict", "verify_failed"};
  return kNames;
}

Result<Config> ParseConfig(std::string_view text, std::string_view path,
                           const FileLoader& loader) {
  Ctx ctx(path);
  // toml++ only ever sees ASCII (see ToAsciiToml).
  Result<std::string> ascii = ToAsciiToml(text, path);
  if (!ascii.ok()) return ascii.status();
  Config cfg;
  cfg.path = std::string(path);
  if (!path.empty()) {
    cfg.base_dir = std::filesystem::path(path).parent_path().string();
    if (cfg.base_dir.empty()) cfg.base_dir = ".";
  }
  toml::parse_result parsed = toml::parse(*ascii, std::string(path));
  if (!parsed) {
    const toml::parse_error& err = parsed.error();
    return Status::InvalidArgument(
        (path.empty() ? std::string("<config>") : std::string(path)) + ":" +
        std::to_string(err.source().begin.line) + ": " +
        std::string(err.description()));
  }
  const toml::table& root = parsed.table();
  DIRLEDGER_RETURN_IF_ERROR(
      CheckKeys(ctx, root, "top level",
                {"data_dir", "log_level", "batch_size", "fsync", "backup_keep",
                 "mail", "connector", "domain", "service", "hook"}));
  DIRLEDGER_RETURN_IF_ERROR(
      GetString(ctx, root, "top level", "data_dir", &cfg.data_dir));
  DIRLEDGER_RETURN_IF_ERROR(
      GetString(ctx, root, "top level", "log_level", &cfg.log_level));
  if (cfg.log_level != "trace" && cfg.log_level != "debug" &&
      cfg.log_level != "info" && cfg.log_level != "warn" &&
      cfg.log_level != "error")
    return ctx.Error(root.get("log_level"),
                     "top level: log_level = " + Quote(cfg.log_level) +
                         " is not allowed; allowed: trace, debug, info, "
                         "warn, error");
  double batch = cfg.batch_size;
  DIRLEDGER_RETURN_IF_ERROR(
      GetNumber(ctx, root, "top level", "batch_size", 1, 100000, &batch));
  cfg.batch_size = static_cast<std::uint32_t>(batch);
  DIRLEDGER_RETURN_IF_ERROR(
      GetBool(ctx, root, "top level", "fsync", &cfg.fsync));
  if (const toml::node* n = root.get("backup_keep")) {
    if (!n->is_integer() || n->as_integer()->get() < 0 ||
        n->as_integer()->get() > 100000)
      return ctx.Error(n,
                       "top level: backup_keep must be a whole number from 0 "
                       "(keep every automatic backup) to 100000");
    cfg.backup_keep = static_cast<std::uint32_t>(n->as_integer()->get());
  }

  if (const toml::node* n = root.get("mail")) {
    if (!n->is_table()) return ctx.Error(n, "[mail] must be a table");
    DIRLEDGER_RETURN_IF_ERROR(ParseMail(ctx, *n->as_table(), &cfg.mail));
  }
  if (const toml::node* n = root.get("service")) {
    if (!n->is_table()) return ctx.Error(n, "[service] must be a table");
    DIRLEDGER_RETURN_IF_ERROR(ParseService(ctx, *n->as_table(), &cfg.service));
  }
  if (const toml::node* n = root.get("connector")) {
    const toml::array* a = n->as_array();
    if (!a || !a->is_array_of_tables())
      return ctx.Error(n,
                       "connector must be an array of tables ([[connector]])");
    for (const toml::node& e : *a) {
      ConnectorConfig c;
      DIRLEDGER_RETURN_IF_ERROR(
          ParseConnector(ctx, *e.as_table(), loader, &cfg, &c));
      if (cfg.FindConnector(c.name))
        return ctx.Error(&e,
                         "connector " + Quote(c.name) + " is defined twice");
      cfg.connectors.push_back(std::move(c));
    }
  }
  if (const toml::node* n = root.get("domain")) {
    const toml::array* a = n->as_array();
    if (!a || !a->is_array_of_tables())
      return ctx.Error(n, "domain must be an array of tables ([[domain]])");
    for (const toml::node& e : *a) {
      const toml::table& t = *e.as_table();
      DomainConfig d;
      DIRLEDGER_RETURN_IF_ERROR(
          GetString(ctx, t, "[[domain]]", "name", &d.name));
      if (d.name.empty() || d.name.find('.') == std::string::npos ||
          d.name.find_first_of(" ,=@\"\\") != std::string::npos)
        return ctx.Error(&t,
                         "[[domain]]: name must be a domain such as "
                         "\"example.com\"");
      const std::string where = "domain " + Quote(d.name);
      DIRLEDGER_RETURN_IF_ERROR(
          CheckKeys(ctx, t, where, {"name", "ldap_sync", "connector"}));
      DIRLEDGER_RETURN_IF_ERROR(
          GetBool(ctx, t, where, "ldap_sync", &d.ldap_sync));
      DIRLEDGER_RETURN_IF_ERROR(
          GetString(ctx, t, where, "connector", &d.connector));
      if (d.ldap_sync && d.connector.empty())
        return ctx.Error(&t, where + ": ldap_sync = true needs connector");
      if (!d.connector.empty() && !cfg.FindConnector(d.connector)) {
        std::vector<std::string_view> names;
        for (const auto& c : cfg.connectors) names.push_back(c.name);
        return ctx.Error(
            t.get("connector"),
            where + ": connector " + Quote(d.connector) +
                " is not defined; defined connectors: " +
                (names.empty() ? std::string("none") : Join(names)));
      }
      if (cfg.FindDomain(d.name))
        return ctx.Error(&t, where + " is defined twice");
      cfg.domains.push_back(std::move(d));
    }
  }
  if (const toml::node* n = root.get("hook")) {
    const toml::array* a = n->as_array();
    if (!a || !a->is_array_of_tables())
      return ctx.Error(n, "hook must be an array of tables ([[hook]])");
    for (const toml::node& e : *a) {
      HookConfig h;
      DIRLEDGER_RETURN_IF_ERROR(ParseHook(ctx, *e.as_table(), cfg, &h));
      cfg.hooks.push_back(std::move(h));
    }
  }
  return cfg;
}

Result<Config> LoadConfigFile(const std::string& path) {
  Result<std::string> text = LoadFileFromDisk(path);
  if (!text.ok())
    return Status::InvalidArgument("config file " + path +
                                   ": cannot be read (use --config FILE)");
  return ParseConfig(*text, path);
}

Status ApplyConfigOverride(Config* config, std::string_view key,
                           std::string_view value) {
  // domain.NAME.ldap_sync
  if (key.rfind("domain.", 0) == 0) {
    const std::string_view rest = key.substr(7);
    const size_t dot = rest.rfind('.');
    if (dot == std::string_view::npos)
      return Status::InvalidArgument("--set " + std::string(key) +
                                     ": use domain.NAME.ldap_sync");
    const std::string name(rest.substr(0, dot));
    const std::string_view field = rest.substr(dot + 1);
    auto it = std::find_if(
        config->domains.begin(), config->domains.end(),
        [&](const DomainConfig& d) { return EqualsIgnoreCase(d.name, name); });
    if (it == config->domains.end())
      return Status::InvalidArgument("--set " + std::string(key) +
                                     ": no domain " + Quote(name));
    if (field == "ldap_sync") {
      if (value != "true" && value != "false")
        return Status::InvalidArgument("--set " + std::string(key) +
                                       ": allowed values: true, false");
      it->ldap_sync = value == "true";
      return Status::Ok();
    }
    if (field == "connector") {
      if (!config->FindConnector(value))
        return Status::InvalidArgument("--set " + std::string(key) +
                                       ": no connector " + Quote(value));
      it->connector = std::string(value);
      return Status::Ok();
    }
    return Status::InvalidArgument(
        "--set " + std::string(key) +
        ": allowed domain keys: ldap_sync, connector");
  }
  std::string connector_name;
  std::string_view field = key;
  if (const size_t dot = key.find('.'); dot != std::string_view::npos) {
    connector_name = std::string(key.substr(0, dot));
    field = key.substr(dot + 1);
    if (!config->FindConnector(connector_name))
      return Status::InvalidArgument("--set " + std::string(key) +
                                     ": no connector " + Quote(connector_name));
  }
  for (ConnectorConfig& c : config->connectors) {
    if (!connector_name.empty() && c.name != connector_name) continue;
    auto bad = [&](std::string_view allowed) {
      return Status::InvalidArgument(
          "--set " + std::string(key) + "=" + std::string(value) +
          ": allowed values: " + std::string(allowed));
    };
    auto pick = [&](const auto& choices, auto* out) {
      for (const auto& ch : choices)
        if (ch.first == value) {
          *out = ch.second;
          return true;
        }
      return false;
    };
    if (field == "direction") {
      if (!pick(kDirections, &c.direction))
        return bad("ldap_to_axigen, axigen_to_ldap, both_ways");
    } else if (field == "conflict_resolution") {
      if (!pick(kResolutions, &c.conflict_resolution))
        return bad("ldap_wins, axigen_wins, no_change");
    } else if (field == "ignore_ldap_deletes" || field == "group_sync") {
      if (value != "true" && value != "false") return bad("true, false");
      (field == "group_sync" ? c.group_sync : c.ignore_ldap_deletes) =
          value == "true";
    } else if (field == "delete_threshold") {
      char* end = nullptr;
      const std::string v(value);
      const unsigned long long n = std::strtoull(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0') return bad("a count such as 500");
      c.delete_threshold = n;
      c.delete_threshold_percent = 0;
    } else if (field == "account_base_dn") {
      c.account_base_dn = std::string(value);
    } else if (field == "group_base_dn") {
      c.group_base_dn = std::string(value);
    } else {
      return Status::InvalidArgument(
          "--set " + std::string(key) +
          ": allowed keys: direction, conflict_resolution, "
          "ignore_ldap_deletes, group_sync, delete_threshold, "
          "account_base_dn, group_base_dn (optionally CONNECTOR.KEY), "
          "domain.NAME.ldap_sync, domain.NAME.connector");
    }
  }
  return Status::Ok();
}

ConfigChange MakeConfigChange(const Config& config, std::string_view text) {
  ConfigChange change;
  change.text = std::string(text);
  change.path = config.path;
  for (const ConnectorConfig& c : config.connectors) {
    if (c.custom_schema_file.empty()) continue;
    change.files.push_back(
        NamedFile{config.Resolve(c.custom_schema_file), c.custom_schema_text});
  }
  Sha256Hasher h;
  auto put = [&](std::string_view s) {
    const std::uint64_t n = s.size();
    h.Update(std::string_view(reinterpret_cast<const char*>(&n), sizeof n));
    h.Update(s);
  };
  put(change.text);
  for (const NamedFile& f : change.files) {
    put(f.name);
    put(f.content);
  }
  change.reconciler_rules = config.reconciler_rules;
  if (change.reconciler_rules >= 2)
    put("reconciler_rules=" + std::to_string(change.reconciler_rules));
  change.sha256 = h.Finish();
  return change;
}

Result<Config> ConfigFromEvent(const ConfigChange& change) {
  FileLoader from_event =
      [&change](const std::string& p) -> Result<std::string> {
    for (const NamedFile& f : change.files)
      if (f.name == p) return f.content;
    return Status::NotFound("not stored with the config");
  };
  if (change.reconciler_rules > kReconcilerRules)
    return Status::InvalidArgument(
        "the config was recorded under reconciler rules version " +
        std::to_string(change.reconciler_rules) +
        ", newer than this dirledger's (" + std::to_string(kReconcilerRules) +
        ")");
  auto config = ParseConfig(change.text, change.path, from_event);
  if (config.ok())
    config->reconciler_rules =
        change.reconciler_rules == 0 ? 1 : change.reconciler_rules;
  return config;
}

std::string DomainToDcParts(std::string_view domain) {
  std::string out;
  size_t start = 0;
  while (start <= domain.size()) {
    size_t dot = domain.find('.', start);
    if (dot == std::string_view::npos) dot = domain.size();
    if (!out.empty()) out += ',';
    out += "dc=";
    out += domain.substr(start, dot - start);
    start = dot + 1;
  }
  return out;
}

std::string ExpandVariables(std::string_view templ, std::string_view account,
                            std::string_view domain) {
  std::string out;
  out.reserve(templ.size() + 32);
  for (size_t i = 0; i < templ.size(); ++i) {
    if (templ[i] != '%' || i + 1 == templ.size()) {
      out += templ[i];
      continue;
    }
    switch (templ[++i]) {
      case 'u':
        out += account;
        break;
      case 'd':
        out += domain;
        break;
      case 'D':
        out += DomainToDcParts(domain);
        break;
      case 'e':
        out += account;
        out += '@';
        out += domain;
        break;
      case '%':
        out += '%';
        break;
      default:
        out += '%';
        out += templ[i];
    }
  }
  return out;
}

std::uint32_t CurrentReconcilerRules() { return kReconcilerRules; }

}  // namespace dirledger

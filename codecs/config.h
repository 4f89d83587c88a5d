// The configuration: connectors, domains, the mail side and the data dir,
// parsed from TOML (docs/configuration.md). Option names follow Axigen's LDAP
// connector settings. Config holds no secrets: passwords are read from files
// or the environment when they are used, never stored here or in the log.
//
// The config text (and the custom schema files it names) is stored in the log
// as a ConfigChange event, so replay re-parses exactly what was in force;
// ParseConfig therefore takes a FileLoader instead of reading the disk itself.
//
// Thread safety: plain values and pure functions.
#ifndef DIRLEDGER_CODECS_CONFIG_H_
#define DIRLEDGER_CODECS_CONFIG_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "codecs/event.h"
#include "codecs/status.h"

namespace dirledger {

enum class ServerType : std::uint8_t { kOpenLdap, kActiveDirectory };
enum class Direction : std::uint8_t { kLdapToAxigen, kAxigenToLdap, kBothWays };
enum class ConflictResolution : std::uint8_t {
  kLdapWins,
  kAxigenWins,
  kNoChange
};
enum class MailKind : std::uint8_t { kEmbedded, kAxigen };

std::string_view ServerTypeName(ServerType t);  // "openldap"
std::string_view DirectionName(Direction d);    // "ldap_to_axigen"
std::string_view ConflictResolutionName(ConflictResolution c);  // "ldap_wins"

struct ConnectorConfig {
  std::string name;
  ServerType server_type = ServerType::kOpenLdap;
  std::vector<std::string> uris;  // 1..5, tried in order
  std::string bind_dn;
  std::string bind_password_file;  // path (relative to the config dir)
  std::string bind_password_env;   // or an environment variable
  double timeout_s = 4;            // per lookup
  Direction direction = Direction::kLdapToAxigen;
  // Only meaningful (and only allowed) with both_ways.
  ConflictResolution conflict_resolution = ConflictResolution::kLdapWins;
  std::string account_base_dn;  // may use %u %d %D %e
  bool group_sync = false;
  std::string group_base_dn;
  std::string custom_schema_file;  // "" = built-in map for server_type
  std::string custom_schema_text;  // its content, loaded at parse time
  bool ignore_ldap_deletes = false;
  std::uint64_t delete_threshold = 500;  // absolute count, or
  double delete_threshold_percent = 0;   // > 0: percent of known objects
  // Service mode: a delete waits this long before it is applied, and the
  // deletes waiting are counted together against delete_threshold; 0:
  // decided at once (docs/configuration.md).
  double delete_delay_s = 60;
  double polling_interval_s = 30;  // DirSync polling
  bool start_tls = false;
  std::string ca_file;  // CA bundle for ldaps:// / StartTLS
  bool tls_verify = true;
  std::string search_base;  // "" = derived from the base DNs
  // Attributes never read nor stored, beyond the built-in secrets
  // (codecs/secret_attributes.h).
  std::vector<std::string> secret_attributes;
};

struct DomainConfig {
  std::string name;
  bool ldap_sync = false;
  std::string connector;
};

// An address to listen on: an IP address and a port.
struct ListenAddress {
  std::string host;  // "127.0.0.1", "::1" (no brackets)
  int port = 0;
  // host:port, the IPv6 address in brackets ("[::1]:9464").
  std::string ToString() const;
  // 127.0.0.0/8 or ::1.
  bool loopback() const;
};

// Parses "IPV4:PORT" or "[IPV6]:PORT" (a literal address, never a name that
// could resolve to another interface; port 1 to 65535). The error says what
// is allowed.
Result<ListenAddress> ParseListenAddress(std::string_view text);

// [service]: what `dirledger run` serves besides the sync.
struct ServiceSettings {
  // Where Prometheus /metrics, /healthz and /readyz are served; "" = off.
  // Valid per ParseListenAddress.
  std::string metrics_listen;
};

// An alert hook ([[hook]]): a program dirledger runs, without a shell, when
// one of the events named in `on` happens, with the event as JSON on its
// standard input (docs/operations.md, "Alert hooks and journald"). Not part
// of the rules: hooks never change a decision.
struct HookConfig {
  std::vector<std::string> on;       // names from HookEventNames()
  std::vector<std::string> command;  // argv; command[0] an absolute path
  double timeout_s = 10;             // then SIGTERM, and SIGKILL
};
// The events a hook may be run on: hold, failed_write, source_down,
// conflict, verify_failed.
const std::vector<std::string_view>& HookEventNames();

struct MailConfig {
  MailKind kind = MailKind::kEmbedded;
  std::string host = "127.0.0.1";
  int port = 7000;
  std::string user = "admin";
  std::string password_file;
  std::string password_env;
  bool tls = false;
  std::string ca_file;
  bool tls_verify = true;
  double polling_interval_s = 30;  // Axigen pollingInterval
  double transient_error_retry_interval_s = 10;
  double timeout_s = 10;
};

// The rules version this build decides new events by: kReconcilerRules
// (codecs/rules_version.h, kept out of this header so that raising it
// rebuilds only what uses it).
std::uint32_t CurrentReconcilerRules();

struct Config {
  std::string path;      // file it came from ("" when built in memory)
  std::string base_dir;  // directory relative paths are resolved against
  std::string data_dir = "./data";
  std::string log_level = "info";
  std::uint32_t batch_size = 1000;  // events per log write during refresh
  bool fsync = true;                // sync the WAL on every log write
  // Automatic backups kept in DATA/backups (the oldest pruned after a new
  // one is complete); 0 keeps all.
  std::uint32_t backup_keep = 10;
  MailConfig mail;
  ServiceSettings service;
  std::vector<ConnectorConfig> connectors;
  std::vector<DomainConfig> domains;
  std::vector<HookConfig> hooks;
  // Not a config key: the rules version in force (CurrentReconcilerRules()
  // for a config read now; the recorded one for a config read from the log).
  std::uint32_t reconciler_rules = CurrentReconcilerRules();

  const ConnectorConfig* FindConnector(std::string_view name) const;
  const DomainConfig* FindDomain(std::string_view name) const;
  // `p` resolved against base_dir unless absolute.
  std::string Resolve(std::string_view p) const;
};

// Loads a file the config names (custom schema), by resolved path.
using FileLoader =
    std::function<Result<std::string>(const std::string& resolved_path)>;
// Reads from the disk.
Result<std::string> LoadFileFromDisk(const std::string& path);

// Rewrites TOML text into an equivalent ASCII-only text before a parser sees
// it: non-ASCII characters in strings become \u escapes (literal strings
// become basic strings with the same value), in comments they become '?';
// control characters (other than tab, CR, LF), invalid UTF-8 and non-ASCII
// characters outside strings and comments are errors naming path and line.
// Line numbers are preserved. (toml++ 3.3 reaches undefined behaviour on
// some non-ASCII input, so it never sees any.)
Result<std::string> ToAsciiToml(std::string_view text, std::string_view path);

// Parses and validates `text`. Errors name the file, the line, the key and
// what is allowed, e.g.
//   dirledger.toml:12: connector "corp": conflict_resolution is only allowed
//   with direction = "both_ways" (direction is "ldap_to_axigen")
Result<Config> ParseConfig(std::string_view text, std::string_view path,
                           const FileLoader& loader = LoadFileFromDisk);

// Reads and parses a config file.
Result<Config> LoadConfigFile(const std::string& path);

// Applies one `--set KEY=VALUE` override (what-if). KEY is a connector
// option ("direction", applies to every connector, or "corp.direction"), or
// "domain.NAME.ldap_sync".
Status ApplyConfigOverride(Config* config, std::string_view key,
                           std::string_view value);

// The ConfigChange event for a config: its text, the files it loaded, its
// rules version, and a SHA-256 over them (the version counts from version 2
// on, so a log written under version 1 records its config again when a newer
// dirledger runs it). Two configs with the same fingerprint are the same.
ConfigChange MakeConfigChange(const Config& config, std::string_view text);

// Re-parses a stored ConfigChange, taking files from the event, never the
// disk, with the rules version it recorded; a version newer than this build
// knows is an error.
Result<Config> ConfigFromEvent(const ConfigChange& change);

// Expands the connector's expanding variables (docs/configuration.md):
// %u account name, %d domain, %D domain as dc= parts, %e mail address, %% %.
std::string ExpandVariables(std::string_view templ, std::string_view account,
                            std::string_view domain);
// "example.com" -> "dc=example,dc=com".
std::string DomainToDcParts(std::string_view domain);

}  // namespace dirledger

#endif  // DIRLEDGER_CODECS_CONFIG_H_

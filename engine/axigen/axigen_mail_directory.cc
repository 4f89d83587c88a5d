#include "engine/axigen/axigen_mail_directory.h"

#include <openssl/rand.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "codecs/sha256.h"
#include "engine/axigen/cli_quoting.h"
#include "engine/axigen/contact_field_map.h"
#include "engine/secrets.h"
#include "replay/attribute_map.h"

namespace dirledger {
namespace {

// Runs `command` and turns a "-ERR" answer into an error (code `code`).
Result<CliReply> Must(AxigenCliClient* c, const std::string& command,
                      StatusCode code = StatusCode::kInvalidArgument) {
  auto r = c->Execute(command);
  if (!r.ok()) return r;
  if (!r->ok) {
    // Name the verb and object, not the (possibly long) value.
    const std::string hidden = HidePasswords(command);
    std::string shown =
        hidden.substr(0, std::min<std::size_t>(hidden.size(), 60));
    return Status(code, "Axigen refused `" + Printable(shown) +
                            (hidden.size() > 60 ? "...`" : "`") + ": -ERR " +
                            Printable(r->status_text));
  }
  return r;
}

Result<std::string> Quote(std::string_view v, std::string_view what) {
  return QuoteValue(v, what);
}

// Enters the domain context of `domain` from wherever the session is.
Status EnterDomain(AxigenCliClient* c, const std::string& domain) {
  DIRLEDGER_RETURN_IF_ERROR(c->BackToRoot());
  auto q = Quote(domain, "domain");
  if (!q.ok()) return q.status();
  auto r = c->Execute("UPDATE Domain name " + *q);
  if (!r.ok()) return r.status();
  if (!r->ok)
    return Status::NotFound("domain " + domain + " does not exist on Axigen (" +
                            Printable(r->status_text) + ")");
  return Status::Ok();
}

Result<std::vector<std::string>> ListNames(AxigenCliClient* c,
                                           const std::string& command) {
  auto r = Must(c, command);
  if (!r.ok()) return r.status();
  return ParseList(*r, command);
}

// Reads the account `name` of the current domain context into `*out`.
// Invalid aliases are reported in `errors` and skipped.
Status ReadAccount(AxigenCliClient* c, const std::string& domain,
                   const std::string& address, MailObject* out,
                   std::vector<std::string>* errors) {
  const std::string name = address.substr(0, address.find('@'));
  auto q = Quote(name, "account name");
  if (!q.ok()) return q.status();
  DIRLEDGER_RETURN_IF_ERROR(Must(c, "UPDATE Account name " + *q).status());
  out->kind = ObjectKind::kAccount;
  out->address = address;
  out->attrs.clear();
  auto show = Must(c, "SHOW ContactInfo");
  if (!show.ok()) return show.status();
  auto pairs = ParseShow(*show);
  if (!pairs.ok())
    return Status::Unavailable("Axigen CLI: account " + address + ": " +
                               pairs.status().message());
  for (auto& [k, v] : *pairs) {
    auto canonical = CanonicalContactName(k);
    if (!canonical || v.empty()) continue;
    std::vector<std::string> values = {v};
    Status s = NormalizeValues(address, *canonical, &values);
    if (!s.ok()) {
      errors->push_back(s.message());
      continue;
    }
    SetAttr(&out->attrs, *canonical, std::move(values));
  }
  auto aliases = ListNames(c, "LIST Aliases");
  if (!aliases.ok()) return aliases.status();
  std::vector<std::string> values;
  for (const auto& a : *aliases) {
    auto full = NormalizeAddress(a + "@" + domain);
    if (!full.ok()) {
      errors->push_back(address + ": alias \"" + Printable(a, 80) +
                        "\" is not a valid name; skipped");
      continue;
    }
    values.push_back(std::move(full).value());
  }
  SetAttr(&out->attrs, field::kAliases, std::move(values));
  return Must(c, "BACK").status();
}

Status ReadGroup(AxigenCliClient* c, const std::string& address,
                 MailObject* out, std::vector<std::string>* errors) {
  const std::string name = address.substr(0, address.find('@'));
  auto q = Quote(name, "group name");
  if (!q.ok()) return q.status();
  DIRLEDGER_RETURN_IF_ERROR(Must(c, "UPDATE Group name " + *q).status());
  out->kind = ObjectKind::kGroup;
  out->address = address;
  out->attrs.clear();
  auto show = Must(c, "SHOW");
  if (!show.ok()) return show.status();
  auto pairs = ParseShow(*show);
  if (!pairs.ok())
    return Status::Unavailable("Axigen CLI: group " + address + ": " +
                               pairs.status().message());
  for (auto& [k, v] : *pairs) {
    if (!EqualsIgnoreCase(k, "displayName") || v.empty()) continue;
    std::vector<std::string> values = {v};
    Status s = NormalizeValues(address, field::kDisplayName, &values);
    if (!s.ok()) {
      errors->push_back(s.message());
      continue;
    }
    SetAttr(&out->attrs, field::kDisplayName, std::move(values));
  }
  auto members = ListNames(c, "LIST Addresses");
  if (!members.ok()) return members.status();
  std::vector<std::string> values;
  for (const auto& m : *members) {
    auto a = NormalizeAddress(m);
    if (!a.ok()) {
      errors->push_back(address + ": member \"" + Printable(m, 80) +
                        "\" is not a valid address; skipped");
      continue;
    }
    values.push_back(std::move(a).value());
  }
  SetAttr(&out->attrs, field::kMembers, std::move(values));
  return Must(c, "BACK").status();
}

// Looks `address` up in the current domain context.
Result<std::optional<MailObject>> ReadInDomain(
    AxigenCliClient* c, const std::string& address,
    std::vector<std::string>* errors) {
  const std::string name = address.substr(0, address.find('@'));
  const std::string domain = address.substr(address.find('@') + 1);
  auto accounts = ListNames(c, "LIST Accounts");
  if (!accounts.ok()) return accounts.status();
  MailObject o;
  for (const auto& a : *accounts) {
    if (EqualsIgnoreCase(a, name)) {
      DIRLEDGER_RETURN_IF_ERROR(ReadAccount(c, domain, address, &o, errors));
      return std::optional<MailObject>(std::move(o));
    }
  }
  auto groups = ListNames(c, "LIST Groups");
  if (!groups.ok()) return groups.status();
  for (const auto& g : *groups) {
    if (EqualsIgnoreCase(g, name)) {
      DIRLEDGER_RETURN_IF_ERROR(ReadGroup(c, address, &o, errors));
      return std::optional<MailObject>(std::move(o));
    }
  }
  return std::optional<MailObject>();
}

std::string RandomPassword() {
  unsigned char b[24];
  if (RAND_bytes(b, sizeof(b)) != 1) std::abort();
  return HexEncode(std::string_view(reinterpret_cast<char*>(b), sizeof(b)));
}

// The commands that turn `from` (std::nullopt: a new object) into `to`,
// all quoted before anything is sent, so a value the CLI cannot carry is
// refused before the first command. The entity context is entered by the
// caller; the list ends with COMMIT.
Result<std::vector<std::string>> ChangeCommands(
    const std::optional<MailObject>& from, const MailObject& to) {
  std::vector<std::string> out;
  const AttrList empty;
  const AttrList& old = from ? from->attrs : empty;
  const std::string domain(to.domain());
  if (to.kind == ObjectKind::kAccount) {
    std::vector<std::string> contact;
    for (const auto& [ours, theirs] : ContactFieldMap()) {
      const auto& want = AttrValues(to.attrs, ours);
      if (want == AttrValues(old, ours)) continue;
      auto q = Quote(want.empty() ? std::string() : want.front(),
                     to.address + ": " + std::string(ours));
      if (!q.ok()) return q.status();
      contact.push_back("SET " + std::string(theirs) + " " + *q);
    }
    if (!contact.empty()) {
      out.push_back("CONFIG ContactInfo");
      out.insert(out.end(), contact.begin(), contact.end());
      out.push_back("DONE");
    }
    const auto& want = AttrValues(to.attrs, field::kAliases);
    const auto& have = AttrValues(old, field::kAliases);
    for (const auto& a : have) {
      if (std::find(want.begin(), want.end(), a) != want.end()) continue;
      out.push_back("REMOVE Alias " +
                    *Quote(a.substr(0, a.find('@')), "alias"));
    }
    for (const auto& a : want) {
      if (std::find(have.begin(), have.end(), a) != have.end()) continue;
      const auto at = a.find('@');
      if (a.substr(at + 1) != domain)
        return Status::InvalidArgument(
            to.address + ": alias " + a +
            " is in another domain; Axigen account aliases are names within "
            "the account's own domain");
      out.push_back("ADD Alias " + *Quote(a.substr(0, at), "alias"));
    }
  } else {
    const auto& want_dn = AttrValues(to.attrs, field::kDisplayName);
    if (want_dn != AttrValues(old, field::kDisplayName)) {
      auto q = Quote(want_dn.empty() ? std::string() : want_dn.front(),
                     to.address + ": displayName");
      if (!q.ok()) return q.status();
      out.push_back("SET displayName " + *q);
    }
    const auto& want = AttrValues(to.attrs, field::kMembers);
    const auto& have = AttrValues(old, field::kMembers);
    for (const auto& m : have)
      if (std::find(want.begin(), want.end(), m) == want.end())
        out.push_back("REMOVE Address " + *Quote(m, "member"));
    for (const auto& m : want)
      if (std::find(have.begin(), have.end(), m) == have.end())
        out.push_back("ADD Address " + *Quote(m, "member"));
  }
  out.push_back("COMMIT");
  return out;
}

void Digest(Sha256Hasher* h, const MailObject& o) {
  auto put = [&](std::string_view s) {
    const std::string len = std::to_string(s.size()) + ":";
    h->Update(len);
    h->Update(s);
  };
  put(KindName(o.kind));
  put(o.address);
  for (const Attribute& a : o.attrs) {
    put(a.name);
    put(std::to_string(a.values.size()));
    for (const auto& v : a.values) put(v);
  }
}

bool SleepUnlessStopped(SourceSink* sink, double seconds) {
  const auto end =
      std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (sink->StopRequested()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return !sink->StopRequested();
}

}  // namespace

AxigenMailDirectory::AxigenMailDirectory(AxigenMailOptions options,
                                         std::shared_ptr<const RuleSet> rules)
    : options_(std::move(options)), rules_(std::move(rules)) {}

AxigenMailDirectory::~AxigenMailDirectory() {
  for (Session* s : {&poll_, &apply_}) {
    std::lock_guard<std::mutex> lock(s->mu);
    if (s->client) s->client->Close();
  }
}

Result<std::unique_ptr<AxigenMailDirectory>> AxigenMailDirectory::FromConfig(
    const Config& config, std::shared_ptr<const RuleSet> rules) {
  const MailConfig& m = config.mail;
  auto pw = ReadSecret(config, m.password_file, m.password_env,
                       "[mail] Axigen password");
  if (!pw.ok()) return pw.status();
  AxigenMailOptions o;
  o.endpoint.transport.host = m.host;
  o.endpoint.transport.port = m.port;
  o.endpoint.transport.timeout_s = m.timeout_s;
  o.endpoint.transport.tls = m.tls;
  o.endpoint.transport.ca_file =
      m.ca_file.empty() ? "" : config.Resolve(m.ca_file);
  o.endpoint.transport.tls_verify = m.tls_verify;
  o.endpoint.user = m.user;
  o.endpoint.password = std::move(pw).value();
  o.polling_interval_s = m.polling_interval_s;
  o.transient_error_retry_interval_s = m.transient_error_retry_interval_s;
  return std::make_unique<AxigenMailDirectory>(std::move(o), std::move(rules));
}

void AxigenMailDirectory::SetRules(std::shared_ptr<const RuleSet> rules) {
  std::lock_guard<std::mutex> lock(mu_);
  rules_ = std::move(rules);
}

std::vector<std::string> AxigenMailDirectory::Domains() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  if (!rules_) return out;
  for (const DomainConfig& d : rules_->config().domains)
    out.push_back(AsciiLower(d.name));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string AxigenMailDirectory::ConnectorFor(std::string_view domain) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (!rules_) return "";
  const DomainConfig* d = rules_->config().FindDomain(domain);
  return d ? d->connector : "";
}

Result<AxigenCliClient*> AxigenMailDirectory::Connected(Session* s,
                                                        bool* fresh) {
  if (s->client && s->client->broken()) s->client.reset();
  *fresh = !s->client;
  if (!s->client) {
    auto c = AxigenCliClient::Connect(options_.endpoint);
    if (!c.ok()) return c.status();
    s->client = std::move(c).value();
  }
  return s->client.get();
}

Result<AxigenSnapshot> AxigenMailDirectory::ReadSnapshot() {
  std::lock_guard<std::mutex> lock(poll_.mu);
  for (int attempt = 0;; ++attempt) {
    bool fresh = false;
    auto c = Connected(&poll_, &fresh);
    if (!c.ok()) return c.status();
    const std::uint64_t before = (*c)->replies();
    auto snap = ReadSnapshotOnce(*c);
    // A session kept from an earlier pass may have been dropped by the
    // server while idle (it broke before its first reply): try once more on
    // a new one.
    if (snap.ok() || fresh || !(*c)->broken() || (*c)->replies() != before ||
        attempt > 0) {
      // A read Axigen refused (a domain it does not have, a busy store) may
      // succeed later: the poller retries it; a refused login does not.
      if (!snap.ok()) return snap.status().WithRetryable(true);
      return snap;
    }
  }
}

Result<AxigenSnapshot> AxigenMailDirectory::ReadSnapshotOnce(
    AxigenCliClient* c_ptr) {
  AxigenCliClient** c = &c_ptr;
  AxigenSnapshot snap;
  for (const std::string& domain : Domains()) {
    DIRLEDGER_RETURN_IF_ERROR(EnterDomain(*c, domain));
    const std::string connector = ConnectorFor(domain);
    auto report = [&](const std::string& id, const std::string& message) {
      ObjectError e;
      e.side = Side::kMail;
      e.source = id_;
      e.connector = connector;
      e.id = id;
      e.dn = id;
      e.message = message;
      snap.errors.push_back(std::move(e));
    };
    for (const char* list : {"LIST Accounts", "LIST Groups"}) {
      auto names = ListNames(*c, list);
      if (!names.ok()) return names.status();
      for (const auto& n : *names) {
        auto address = NormalizeAddress(n + "@" + domain);
        if (!address.ok()) {
          report(n + "@" + domain, "Axigen lists \"" + Printable(n, 80) +
                                       "\", which is not a valid name; "
                                       "skipped: " +
                                       address.status().message());
          continue;
        }
        MailObject o;
        std::vector<std::string> errors;
        Status s = list[5] == 'A'
                       ? ReadAccount(*c, domain, *address, &o, &errors)
                       : ReadGroup(*c, *address, &o, &errors);
        if (!s.ok()) return s;
        for (const auto& e : errors) report(*address, e);
        snap.objects.push_back(std::move(o));
      }
    }
    DIRLEDGER_RETURN_IF_ERROR(Must(*c, "BACK").status());
  }
  std::sort(snap.objects.begin(), snap.objects.end(),
            [](const MailObject& a, const MailObject& b) {
              return a.address < b.address;
            });
  return snap;
}

Result<std::optional<MailObject>> AxigenMailDirectory::ReadObject(
    std::string_view address) {
  auto a = NormalizeAddress(address);
  if (!a.ok()) return a.status();
  std::lock_guard<std::mutex> lock(poll_.mu);
  bool fresh = false;
  auto c = Connected(&poll_, &fresh);
  if (!c.ok()) return c.status();
  DIRLEDGER_RETURN_IF_ERROR(EnterDomain(*c, a->substr(a->find('@') + 1)));
  std::vector<std::string> errors;
  auto o = ReadInDomain(*c, *a, &errors);
  if (!o.ok()) return o;
  DIRLEDGER_RETURN_IF_ERROR((*c)->BackToRoot());
  return o;
}

Status AxigenMailDirectory::PollOnce(std::string_view cookie, SourceSink* sink,
                                     std::string* new_cookie) {
  auto snap = ReadSnapshot();
  if (!snap.ok()) return snap.status();
  Sha256Hasher h;
  for (const MailObject& o : snap->objects) Digest(&h, o);
  for (const ObjectError& e : snap->errors) {
    h.Update(e.id);
    h.Update(e.message);
  }
  *new_cookie = HexEncode(h.Finish());
  if (*new_cookie == cookie) return Status::Ok();

  std::map<std::string, std::pair<ObjectKind, AttrList>> known;
  DIRLEDGER_RETURN_IF_ERROR(sink->ForEachKnown(
      [&](ObjectKind kind, std::string_view id, const AttrList& attrs) {
        known[AsciiLower(id)] = {kind, attrs};
        return true;
      }));
  const std::vector<std::string> domains = Domains();
  std::vector<EventBody> events;
  std::lock_guard<std::mutex> lock(mu_);
  auto tag = [&](ObservedChange* c, const std::optional<AttrList>& attrs) {
    auto it = recent_.find(c->id);
    if (it == recent_.end() || it->second.attrs != attrs) return;
    c->origin_intent = it->second.intent_id;
    recent_.erase(it);
  };
  auto change = [&](const std::string& address, ObjectKind kind, ChangeOp op) {
    ObservedChange c;
    c.side = Side::kMail;
    c.source = id_;
    c.domain = address.substr(address.find('@') + 1);
    c.connector = rules_ ? [&] {
      const DomainConfig* d = rules_->config().FindDomain(c.domain);
      return d ? d->connector : std::string();
    }()
                         : std::string();
    c.kind = kind;
    c.id = address;
    c.dn = address;
    c.op = op;
    return c;
  };
  for (const MailObject& o : snap->objects) {
    auto it = known.find(o.address);
    if (it != known.end() && it->second.first == o.kind) {
      AttrList was = it->second.second;
      CanonicalizeAttrs(&was);
      DropEmptyAttrs(&was);
      known.erase(it);
      if (was == o.attrs) continue;
      ObservedChange c = change(o.address, o.kind, ChangeOp::kModify);
      c.full_image = true;
      c.attrs = o.attrs;
      tag(&c, o.attrs);
      events.emplace_back(std::move(c));
      continue;
    }
    if (it != known.end()) {  // the address changed kind: gone, then new
      ObservedChange gone =
          change(o.address, it->second.first, ChangeOp::kDelete);
      events.emplace_back(std::move(gone));
      known.erase(it);
    }
    ObservedChange c = change(o.address, o.kind, ChangeOp::kAdd);
    c.full_image = true;
    c.attrs = o.attrs;
    tag(&c, o.attrs);
    events.emplace_back(std::move(c));
  }
  for (const auto& [address, entry] : known) {
    const std::string domain = address.substr(address.find('@') + 1);
    if (!std::binary_search(domains.begin(), domains.end(), domain)) continue;
    ObservedChange c = change(address, entry.first, ChangeOp::kDelete);
    tag(&c, std::nullopt);
    events.emplace_back(std::move(c));
  }
  for (const ObjectError& e : snap->errors) events.emplace_back(e);
  // A first poll that found nothing says so.
  if (cookie.empty() && events.empty()) AppendEmptyRefresh(id_, &events);
  return sink->Deliver(std::move(events), *new_cookie);
}

Status AxigenMailDirectory::RunOnce(std::string_view cookie, SourceSink* sink) {
  std::string next;
  return PollOnce(cookie, sink, &next);
}

Status AxigenMailDirectory::Run(std::string_view cookie, SourceSink* sink) {
  std::string current(cookie);
  while (!sink->StopRequested()) {
    std::string next;
    Status s = PollOnce(current, sink, &next);
    if (s.ok()) {
      current = next;
      sink->CaughtUp();
      if (!SleepUnlessStopped(sink, options_.polling_interval_s)) break;
      continue;
    }
    if (!s.retryable()) return s;
    sink->Unavailable(s);
    {
      std::lock_guard<std::mutex> lock(poll_.mu);
      poll_.client.reset();  // reconnect on the next pass
    }
    if (!SleepUnlessStopped(sink, options_.transient_error_retry_interval_s))
      break;
  }
  return Status::Ok();
}

ApplyResult AxigenMailDirectory::Apply(const Intent& intent) {
  std::lock_guard<std::mutex> lock(apply_.mu);
  ApplyResult result;
  bool fresh = false;
  auto c = Connected(&apply_, &fresh);
  if (!c.ok()) {
    result.status = c.status();
    return result;
  }
  const std::uint64_t before = (*c)->replies();
  result = ApplyLocked(intent, *c);
  if (!result.status.ok() && (*c)->broken() && !fresh &&
      (*c)->replies() == before) {
    // The kept session was dropped by the server while idle (it broke
    // before its first reply); nothing was sent that took effect.
    apply_.client.reset();
    c = Connected(&apply_, &fresh);
    if (!c.ok()) {
      result.status = c.status();
      return result;
    }
    result = ApplyLocked(intent, *c);
  }
  if ((*c)->broken()) {
    apply_.client.reset();
    if (!result.status.ok() && !result.status.retryable())
      result.status = result.status.WithRetryable(true);
  } else if (!result.status.ok()) {
    // Discard whatever the failed sequence left uncommitted.
    Status back = (*c)->BackToRoot();
    if (!back.ok()) apply_.client.reset();
  }
  return result;
}

ApplyResult AxigenMailDirectory::ApplyLocked(const Intent& intent,
                                             AxigenCliClient* c) {
  ApplyResult result;
  if (intent.op == IntentOp::kRename) {
    // Axigen's CLI documents `SET name` in an UPDATE Account context; this
    // connector does not use it (docs/axigen.md, "Renames"), and the
    // reconciler asks it for no rename since rules version 3.
    result.status = Status::InvalidArgument(
        "intent " + std::to_string(intent.id) + ": renaming " + intent.dn +
        " to " + intent.target_id +
        ": the Axigen connector does not rename accounts or groups");
    return result;
  }
  auto address = NormalizeAddress(intent.target_id);
  if (!address.ok()) {
    result.status =
        address.status().WithContext("intent " + std::to_string(intent.id));
    return result;
  }
  const std::string domain = address->substr(address->find('@') + 1);
  const std::string name = address->substr(0, address->find('@'));
  Status s = EnterDomain(c, domain);
  if (!s.ok()) {
    result.status = s;
    return result;
  }
  std::vector<std::string> errors;
  auto current = ReadInDomain(c, *address, &errors);
  if (!current.ok()) {
    result.status = current.status();
    return result;
  }
  auto plan = PlanIntent(intent, *current);
  if (!plan.ok()) {
    result.status = plan.status();
    return result;
  }
  result.message = plan->description + " on Axigen";
  std::vector<std::string> commands;
  const bool account = plan->target.kind == ObjectKind::kAccount;
  switch (plan->action) {
    case ApplyPlan::Action::kNothing:
      result.already_applied = true;
      result.status = c->BackToRoot();
      return result;
    case ApplyPlan::Action::kCreate: {
      auto rest = ChangeCommands(std::nullopt, plan->target);
      if (!rest.ok()) {
        result.status = rest.status();
        return result;
      }
      // The account gets a random password nobody knows: users sign in
      // through the directory Axigen authenticates against.
      commands.push_back(account ? "ADD Account name " + *Quote(name, "name") +
                                       " password " +
                                       *Quote(RandomPassword(), "password")
                                 : "ADD Group name " + *Quote(name, "name"));
      commands.insert(commands.end(), rest->begin(), rest->end());
      break;
    }
    case ApplyPlan::Action::kUpdate: {
      auto rest = ChangeCommands(*current, plan->target);
      if (!rest.ok()) {
        result.status = rest.status();
        return result;
      }
      commands.push_back(
          (account ? "UPDATE Account name " : "UPDATE Group name ") +
          *Quote(name, "name"));
      commands.insert(commands.end(), rest->begin(), rest->end());
      break;
    }
    case ApplyPlan::Action::kRename:  // refused above; PlanIntent never plans
                                      // it
      result.status = Status::InvalidArgument(
          "intent " + std::to_string(intent.id) +
          ": the Axigen connector does not rename accounts or groups");
      return result;
    case ApplyPlan::Action::kDelete:
      commands.push_back(((*current)->kind == ObjectKind::kAccount
                              ? "REMOVE Account name "
                              : "REMOVE Group name ") +
                         *Quote(name, "name"));
      commands.push_back("COMMIT");
      break;
  }
  for (const std::string& cmd : commands) {
    auto r = Must(c, cmd);
    if (!r.ok() && r.status().code() != StatusCode::kUnavailable &&
        r.status().code() != StatusCode::kTimeout &&
        cmd.starts_with("ADD Alias ")) {
      // Axigen gives a name to one account, group or alias of a domain:
      // name the address it refused.
      for (const std::string& a :
           AttrValues(plan->target.attrs, field::kAliases)) {
        auto q = Quote(a.substr(0, a.find('@')), "alias");
        if (q.ok() && cmd == "ADD Alias " + *q) {
          result.status = r.status().WithContext(
              "applying intent " + std::to_string(intent.id) + " to " +
              *address + ": alias " + a + " refused");
          return result;
        }
      }
    }
    if (!r.ok()) {
      result.status = r.status().code() == StatusCode::kUnavailable ||
                              r.status().code() == StatusCode::kTimeout
                          ? r.status().WithContext(
                                "applying intent " + std::to_string(intent.id) +
                                " to " + *address +
                                " (the connection was lost; applying it again "
                                "is safe)")
                          : r.status().WithContext("applying intent " +
                                                   std::to_string(intent.id) +
                                                   " to " + *address);
      return result;
    }
  }
  result.status = c->BackToRoot();
  {
    std::lock_guard<std::mutex> lock(mu_);
    Recent& r = recent_[*address];
    r.intent_id = intent.id;
    if (plan->action == ApplyPlan::Action::kDelete) {
      r.attrs.reset();
    } else {
      r.attrs = plan->target.attrs;
    }
    if (recent_.size() > 100000) recent_.clear();
  }
  return result;
}

}  // namespace dirledger

#include "engine/axigen/cli_client.h"

#include "engine/axigen/cli_quoting.h"

namespace dirledger {

Status AxigenCliClient::Send(std::string_view line, std::string_view what) {
  if (line.size() > kMaxCommandLine)
    return Status::InvalidArgument(std::string(what) + ": the command is " +
                                   std::to_string(line.size()) +
                                   " bytes, more than the 1 MiB allowed");
  if (line.find_first_of("\r\n") != std::string_view::npos)
    return Status::InvalidArgument(std::string(what) +
                                   ": a command may not hold CR or LF");
  std::string out(line);
  out += "\r\n";
  Status s = transport_->Write(out);
  if (!s.ok()) broken_ = true;
  return s;
}

Result<CliReply> AxigenCliClient::ReadReply(bool expect_status,
                                            std::string_view what) {
  std::string buffer;
  while (!EndsWithPrompt(buffer)) {
    if (buffer.size() > kMaxReplyBytes) {
      broken_ = true;
      return Status::Unavailable("Axigen CLI at " + peer() + ": the reply to " +
                                 std::string(what) +
                                 " is larger than 64 MiB; giving up");
    }
    Status s = transport_->ReadSome(&buffer);
    if (!s.ok()) {
      broken_ = true;
      return s.WithContext(std::string(what));
    }
  }
  auto reply = ParseReply(buffer, expect_status);
  if (!reply.ok()) {
    broken_ = true;
    return Status::Unavailable("Axigen CLI at " + peer() +
                               ": malformed reply to " + std::string(what) +
                               ": " + reply.status().message());
  }
  context_ = reply->context();
  ++replies_;
  return reply;
}

Result<std::unique_ptr<AxigenCliClient>> AxigenCliClient::Connect(
    const AxigenEndpoint& endpoint) {
  if (endpoint.user.empty() ||
      endpoint.user.find_first_of(" \t\r\n\"'\\") != std::string::npos)
    return Status::InvalidArgument(
        "[mail] user must be a non-empty name without blanks or quotes");
  auto transport = CliTransport::Connect(endpoint.transport);
  if (!transport.ok()) return transport.status();
  std::unique_ptr<AxigenCliClient> c(new AxigenCliClient());
  c->transport_ = std::move(transport).value();
  auto greeting = c->ReadReply(false, "the greeting");
  if (!greeting.ok()) return greeting.status();
  if (greeting->prompt != "login")
    return Status::Unavailable("Axigen CLI at " + c->peer() +
                               ": expected the <login> prompt, got <" +
                               Printable(greeting->prompt) + ">");
  auto quiet = c->Expect("SET QUIET on");
  if (!quiet.ok()) return quiet.status();
  DIRLEDGER_RETURN_IF_ERROR(c->Send("USER " + endpoint.user, "USER"));
  auto prompt = c->ReadReply(false, "USER");
  if (!prompt.ok()) return prompt.status();
  if (prompt->has_status && !prompt->ok)
    return Status::InvalidArgument("Axigen CLI at " + c->peer() +
                                   " refused user " + endpoint.user + ": " +
                                   Printable(prompt->status_text));
  if (prompt->prompt != "password")
    return Status::Unavailable("Axigen CLI at " + c->peer() +
                               ": expected the <password> prompt, got <" +
                               Printable(prompt->prompt) + ">");
  const std::string& pw = endpoint.password.reveal();
  if (pw.find_first_of("\r\n") != std::string::npos || pw.empty())
    return Status::InvalidArgument(
        "the Axigen password is empty or holds a line break");
  DIRLEDGER_RETURN_IF_ERROR(c->Send(pw, "the password"));
  auto login = c->ReadReply(true, "the login");
  if (!login.ok()) return login.status();
  if (!login->ok || !login->logged_in())
    return Status::InvalidArgument("Axigen CLI at " + c->peer() +
                                   " refused the login of " + endpoint.user +
                                   ": " + Printable(login->status_text));
  return c;
}

Result<CliReply> AxigenCliClient::Execute(std::string_view command) {
  // Only the verb and object are named in messages: values may be long.
  std::string what = "`" + Printable(HidePasswords(command), 60) + "`";
  if (broken_)
    return Status::Unavailable("Axigen CLI at " + peer() +
                               ": the session is broken; reconnect");
  DIRLEDGER_RETURN_IF_ERROR(Send(command, what));
  return ReadReply(true, what);
}

Result<CliReply> AxigenCliClient::Expect(std::string_view command,
                                         std::string_view shown) {
  auto reply = Execute(command);
  if (!reply.ok()) return reply;
  if (!reply->ok) {
    const std::string name =
        shown.empty() ? "`" + Printable(HidePasswords(command), 80) + "`"
                      : std::string(shown);
    return Status(
        StatusCode::kInvalidArgument,
        "Axigen refused " + name + ": -ERR " + Printable(reply->status_text));
  }
  return reply;
}

Status AxigenCliClient::BackToRoot() {
  for (int i = 0; i < 16 && !context_.empty(); ++i) {
    auto r = Execute("BACK");
    if (!r.ok()) return r.status();
    if (!r->ok)
      return Status::Unavailable("Axigen CLI at " + peer() +
                                 ": BACK was refused in context " + context_ +
                                 ": " + Printable(r->status_text));
  }
  if (!context_.empty()) {
    broken_ = true;
    return Status::Unavailable("Axigen CLI at " + peer() +
                               ": could not return to the root context");
  }
  return Status::Ok();
}

void AxigenCliClient::Close() {
  if (transport_ && !broken_) {
    // A courtesy on a connection being closed: if it fails, closing does.
    (void)transport_->Write("EXIT\r\n");
  }
  if (transport_) transport_->Close();
  broken_ = true;
}

}  // namespace dirledger

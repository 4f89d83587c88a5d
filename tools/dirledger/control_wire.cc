#include "tools/dirledger/control_wire.h"

#include <nlohmann/json.hpp>

namespace dirledger::cli {
namespace {

using nlohmann::json;

// Dumps `j` on one line; InvalidArgument when it holds bytes that are not
// UTF-8.
Result<std::string> DumpLine(const json& j) {
  try {
    return j.dump() + "\n";
  } catch (const json::exception& e) {
    return Status::InvalidArgument(std::string("not UTF-8 text: ") + e.what());
  }
}

Result<json> ParseObject(std::string_view line, std::size_t limit,
                         const char* what) {
  if (line.size() > limit)
    return Status::InvalidArgument(
        std::string(what) + " of " + std::to_string(line.size()) +
        " bytes is longer than the limit of " + std::to_string(limit));
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded())
    return Status::InvalidArgument(std::string(what) +
                                   " is not one JSON object on one line");
  if (!j.is_object())
    return Status::InvalidArgument(std::string(what) + " is not a JSON object");
  return j;
}

}  // namespace

Result<std::string> EncodeRequest(const ControlRequest& request) {
  if (request.argv.size() > kMaxRequestWords)
    return Status::InvalidArgument(
        "the command has " + std::to_string(request.argv.size()) +
        " words, more than the control socket takes (" +
        std::to_string(kMaxRequestWords) + ")");
  json j;
  j["argv"] = request.argv;
  if (!request.actor.empty()) j["actor"] = request.actor;
  if (request.password) j["password"] = *request.password;
  auto line = DumpLine(j);
  if (!line.ok())
    return Status::InvalidArgument("the command line is " +
                                   line.status().message());
  if (line->size() > kMaxRequestBytes)
    return Status::InvalidArgument(
        "the command is " + std::to_string(line->size()) +
        " bytes long as a request, more than the control socket takes (" +
        std::to_string(kMaxRequestBytes) + ")");
  return line;
}

std::string EncodeReply(const ControlReply& reply) {
  json j;
  j["exit"] = reply.exit;
  j["out"] = reply.out;
  j["err"] = reply.err;
  // Output is text the command printed; bytes that are not UTF-8 become
  // U+FFFD rather than losing the reply.
  std::string line =
      j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  if (line.size() <= kMaxReplyBytes) return line;
  ControlReply cut = reply;
  const std::string note =
      "dirledger: the output was cut: the control socket carries at most " +
      std::to_string(kMaxReplyBytes) +
      " bytes; run the command with the service stopped for all of it\n";
  // JSON escapes a byte to at most 6 (\u001f): out and err cut to a
  // sixteenth of the limit each fit escaped, so this recursion ends.
  const std::size_t room = kMaxReplyBytes / 16;
  if (cut.out.size() > room) cut.out.resize(room);
  if (cut.err.size() > room - note.size() - 64)
    cut.err.resize(room - note.size() - 64);
  cut.err += note;
  if (cut.exit == 0) cut.exit = 1;
  return EncodeReply(cut);
}

std::string EncodeNote(std::string_view note) {
  json j;
  j["note"] = std::string(note);
  return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

Result<ControlRequest> DecodeRequest(std::string_view line) {
  auto j = ParseObject(line, kMaxRequestBytes, "the request");
  if (!j.ok()) return j.status();
  ControlRequest r;
  for (const auto& [key, value] : j->items()) {
    if (key == "argv") {
      if (!value.is_array())
        return Status::InvalidArgument("\"argv\" is not an array of strings");
      if (value.size() < 2)
        return Status::InvalidArgument(
            "\"argv\" holds no command (dirledger and its arguments)");
      if (value.size() > kMaxRequestWords)
        return Status::InvalidArgument(
            "\"argv\" has " + std::to_string(value.size()) +
            " words, more than " + std::to_string(kMaxRequestWords));
      for (const auto& w : value) {
        if (!w.is_string())
          return Status::InvalidArgument("\"argv\" is not an array of strings");
        r.argv.push_back(w.get<std::string>());
      }
    } else if (key == "actor") {
      if (!value.is_string())
        return Status::InvalidArgument("\"actor\" is not a string");
      r.actor = value.get<std::string>();
    } else if (key == "password") {
      if (!value.is_string())
        return Status::InvalidArgument("\"password\" is not a string");
      r.password = value.get<std::string>();
    } else {
      return Status::InvalidArgument("unknown key \"" + key +
                                     "\" (the request has argv, actor, "
                                     "password)");
    }
  }
  if (r.argv.empty())
    return Status::InvalidArgument("the request has no \"argv\"");
  return r;
}

Status DecodeServiceLine(std::string_view line, ControlReply* reply,
                         std::string* note) {
  auto j = ParseObject(line, kMaxReplyBytes, "the service's answer");
  if (!j.ok()) return j.status();
  note->clear();
  if (auto n = j->find("note"); n != j->end()) {
    if (!n->is_string())
      return Status::InvalidArgument("the service's note is not a string");
    *note = n->get<std::string>();
    return Status::Ok();
  }
  const auto exit = j->find("exit");
  const auto out = j->find("out");
  const auto err = j->find("err");
  if (exit == j->end() || !exit->is_number_integer() || out == j->end() ||
      !out->is_string() || err == j->end() || !err->is_string())
    return Status::InvalidArgument(
        "the service's answer lacks \"exit\", \"out\" or \"err\"");
  reply->exit = exit->get<int>();
  reply->out = out->get<std::string>();
  reply->err = err->get<std::string>();
  return Status::Ok();
}

}  // namespace dirledger::cli

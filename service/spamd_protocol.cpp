// spamd_protocol.cpp: see spamd_protocol.h.
#include "service/spamd_protocol.h"

#include <cstdio>
#include <vector>

#include "spamformer_version.h"

namespace sf::service {
namespace {

struct ExEntry {
  int code;
  std::string_view name;
};
constexpr ExEntry kExTable[] = {
    {kExOk, "EX_OK"},
    {kExUsage, "EX_USAGE"},
    {kExDataErr, "EX_DATAERR"},
    {kExNoInput, "EX_NOINPUT"},
    {kExNoUser, "EX_NOUSER"},
    {kExNoHost, "EX_NOHOST"},
    {kExUnavailable, "EX_UNAVAILABLE"},
    {kExSoftware, "EX_SOFTWARE"},
    {kExOsErr, "EX_OSERR"},
    {kExOsFile, "EX_OSFILE"},
    {kExCantCreat, "EX_CANTCREAT"},
    {kExIoErr, "EX_IOERR"},
    {kExTempFail, "EX_TEMPFAIL"},
    {kExProtocol, "EX_PROTOCOL"},
    {kExNoPerm, "EX_NOPERM"},
    {kExConfig, "EX_CONFIG"},
    {kExTimeout, "EX_TIMEOUT"},
};

struct CommandEntry {
  SpamdCommand command;
  std::string_view name;
  bool has_body;
};
constexpr CommandEntry kCommands[] = {
    {SpamdCommand::check, "CHECK", true},     {SpamdCommand::symbols, "SYMBOLS", true},
    {SpamdCommand::report, "REPORT", true},   {SpamdCommand::report_ifspam, "REPORT_IFSPAM", true},
    {SpamdCommand::skip, "SKIP", false},      {SpamdCommand::ping, "PING", false},
    {SpamdCommand::process, "PROCESS", true}, {SpamdCommand::tell, "TELL", true},
    {SpamdCommand::headers, "HEADERS", true},
};

constexpr std::string_view kReplyVersion = "SPAMD/1.5";

SpamdError error(int code, std::string detail) { return SpamdError{code, std::move(detail)}; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Splits the head into lines without their line breaks (the empty line excluded).
std::vector<std::string_view> head_lines(std::string_view head) {
  std::vector<std::string_view> lines;
  size_t pos = 0;
  while (pos < head.size()) {
    size_t nl = head.find('\n', pos);
    std::string_view line = head.substr(pos, nl == std::string_view::npos ? nl : nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;
    lines.push_back(line);
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  return lines;
}

bool parse_version(std::string_view v, int& major, int& minor) {
  // "SPAMC/1.5"
  if (v.substr(0, 6) != "SPAMC/") return false;
  v.remove_prefix(6);
  size_t dot = v.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == v.size() || dot > 3 ||
      v.size() - dot - 1 > 3)
    return false;
  major = minor = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i == dot) continue;
    if (v[i] < '0' || v[i] > '9') return false;
    int& t = i < dot ? major : minor;
    t = t * 10 + (v[i] - '0');
  }
  return major >= 1;
}

// "local", "remote", "local, remote"
bool parse_databases(std::string_view v, bool& local, bool& remote) {
  local = remote = false;
  while (!v.empty()) {
    size_t comma = v.find(',');
    std::string_view item = trim(v.substr(0, comma));
    if (iequals(item, "local")) {
      local = true;
    } else if (iequals(item, "remote")) {
      remote = true;
    } else {
      return false;
    }
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
  return local || remote;
}

bool valid_user(std::string_view u) {
  if (u.empty() || u.size() > 256) return false;
  for (char c : u) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == '@' || c == '+' || c == '=';
    if (!ok) return false;
  }
  return true;
}

std::string fixed1(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string ok_line() { return std::string(kReplyVersion) + " 0 EX_OK\r\n"; }

std::string spam_line(const ScanResult& r) {
  const bool spam = r.verdict == Verdict::spam;
  const double score = r.verdict == Verdict::unchecked ? 0.0 : sa_score(r.probability);
  return std::string("Spam: ") + (spam ? "True" : "False") + " ; " + fixed1(score) + " / " +
         fixed1(sa_required(r.spam_threshold)) + "\r\n";
}

std::string with_body(const ScanResult& r, std::string_view body) {
  return ok_line() + spam_line(r) + "Content-length: " + std::to_string(body.size()) + "\r\n\r\n" +
         std::string(body);
}

}  // namespace

std::string_view ex_name(int code) {
  for (const auto& e : kExTable)
    if (e.code == code) return e.name;
  return "EX_UNKNOWN";
}

std::string_view spamd_command_name(SpamdCommand c) {
  for (const auto& e : kCommands)
    if (e.command == c) return e.name;
  return "?";
}

bool spamd_command_has_body(SpamdCommand c) {
  for (const auto& e : kCommands)
    if (e.command == c) return e.has_body;
  return false;
}

size_t spamd_head_end(std::string_view buf) {
  size_t pos = 0;
  while (pos < buf.size()) {
    size_t nl = buf.find('\n', pos);
    if (nl == std::string_view::npos) return std::string_view::npos;
    std::string_view line = buf.substr(pos, nl - pos);
    if (line.empty() || line == "\r") return pos == 0 ? std::string_view::npos : nl + 1;
    pos = nl + 1;
  }
  return std::string_view::npos;
}

bool spamd_is_old_ping(std::string_view buf) {
  size_t nl = buf.find('\n');
  if (nl == std::string_view::npos) return false;
  std::string_view line = buf.substr(0, nl);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  size_t sp = line.find(' ');
  if (sp == std::string_view::npos || line.substr(0, sp) != "PING") return false;
  int major = 0, minor = 0;
  if (!parse_version(trim(line.substr(sp + 1)), major, minor)) return false;
  return major == 1 && minor < 5;
}

std::variant<SpamdRequest, SpamdError> parse_spamd_head(std::string_view head,
                                                        const SpamdLimits& limits) {
  std::vector<std::string_view> lines = head_lines(head);
  if (lines.empty()) return error(kExProtocol, "empty request");
  if (lines.size() > limits.max_header_lines + 1)
    return error(kExProtocol, "too many header lines");
  SpamdRequest req;
  // Request line: "COMMAND SPAMC/1.5"
  std::string_view first = lines[0];
  size_t sp = first.find(' ');
  if (sp == std::string_view::npos) return error(kExProtocol, "bad request line");
  std::string_view name = first.substr(0, sp);
  bool known = false;
  for (const auto& c : kCommands) {
    if (c.name == name) {
      req.command = c.command;
      known = true;
    }
  }
  if (!known) return error(kExProtocol, "unknown command '" + printable(name, 40) + "'");
  if (!parse_version(trim(first.substr(sp + 1)), req.version_major, req.version_minor))
    return error(kExProtocol, "bad protocol version (want SPAMC/1.x)");

  bool saw_set = false, saw_remove = false;
  for (size_t i = 1; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0)
      return error(kExProtocol, "bad header line '" + printable(line, 60) + "'");
    std::string_view key = trim(line.substr(0, colon));
    std::string_view value = trim(line.substr(colon + 1));
    if (iequals(key, "Content-length")) {
      if (value.empty() || value.size() > 19 ||
          value.find_first_not_of("0123456789") != std::string_view::npos)
        return error(kExProtocol, "bad Content-length");
      uint64_t n = 0;
      for (char c : value) n = n * 10 + static_cast<uint64_t>(c - '0');
      if (req.content_length && *req.content_length != n)
        return error(kExProtocol, "conflicting Content-length headers");
      req.content_length = n;
    } else if (iequals(key, "User")) {
      if (!valid_user(value)) return error(kExProtocol, "bad User header");
      req.user = std::string(value);
    } else if (iequals(key, "Compress")) {
      return error(kExProtocol, "compressed requests (Compress: " + printable(value, 20) +
                                    ", spamc -z) are not supported; send the message uncompressed");
    } else if (iequals(key, "Message-class")) {
      if (iequals(value, "spam")) {
        req.message_class = "spam";
      } else if (iequals(value, "ham")) {
        req.message_class = "ham";
      } else {
        return error(kExProtocol, "bad Message-class (want spam or ham)");
      }
    } else if (iequals(key, "Set")) {
      if (!parse_databases(value, req.set_local, req.set_remote))
        return error(kExProtocol, "bad Set header (want local and/or remote)");
      saw_set = true;
    } else if (iequals(key, "Remove")) {
      if (!parse_databases(value, req.remove_local, req.remove_remote))
        return error(kExProtocol, "bad Remove header (want local and/or remote)");
      saw_remove = true;
    }
    // Other headers are ignored, as the protocol asks.
  }
  if (spamd_command_has_body(req.command)) {
    if (!req.content_length) return error(kExProtocol, "missing Content-length");
    if (*req.content_length > limits.max_message_bytes)
      return error(kExDataErr, "message of " + std::to_string(*req.content_length) +
                                   " bytes is over spamd.max_message_bytes (" +
                                   std::to_string(limits.max_message_bytes) + ")");
  } else if (req.content_length && *req.content_length > 0) {
    return error(kExProtocol, std::string(spamd_command_name(req.command)) + " takes no message");
  }
  if (req.command == SpamdCommand::tell) {
    if (!saw_set && !saw_remove) return error(kExProtocol, "TELL without Set or Remove");
    if (saw_set && req.message_class.empty())
      return error(kExProtocol, "TELL Set without Message-class");
  }
  return req;
}

std::string spamd_error_reply(const SpamdError& e) {
  std::string detail = printable(e.detail, 300);
  return std::string(kReplyVersion) + " " + std::to_string(e.code) + " " +
         std::string(ex_name(e.code)) + (detail.empty() ? "" : " " + detail) + "\r\n";
}

std::string spamd_pong_reply() { return std::string(kReplyVersion) + " 0 PONG\r\n"; }

std::string spamd_report_text(const ScanResult& r) {
  std::string out = "Spamformer spamformer-" SPAMFORMER_VERSION " (model " +
                    (r.model.empty() ? std::string("none") : r.model) + ")\n\n";
  if (r.verdict == Verdict::unchecked) {
    out += "The message was not checked (reason=" + std::string(unchecked_name(r.reason)) + ").\n";
    return out;
  }
  char line[512];
  std::snprintf(line, sizeof line, "Content analysis details:   (%.1f points, %.1f required)\n\n",
                sa_score(r.probability), sa_required(r.spam_threshold));
  out += line;
  out += " pts rule name              description\n";
  out += "---- ---------------------- --------------------------------------------------\n";
  std::snprintf(line, sizeof line, "%4.1f %-22s spam probability %.3f; %s (rule %s)\n",
                sa_score(r.probability), sa_symbol(r).c_str(), r.probability,
                std::string(verdict_name(r.verdict)).c_str(), r.rule.c_str());
  out += line;
  for (const auto& f : r.flags) {
    std::snprintf(line, sizeof line, " 0.0 %-22s message flag: %s\n", "SPAMFORMER_FLAG", f.c_str());
    out += line;
  }
  return out;
}

std::string spamd_scan_reply(const SpamdRequest& req, const ScanResult& r,
                             std::string_view message) {
  if (r.tempfail)
    return spamd_error_reply({kExTempFail, "message not checked (reason=" +
                                               std::string(unchecked_name(r.reason)) + ")"});
  switch (req.command) {
    case SpamdCommand::check:
      return ok_line() + spam_line(r) + "\r\n";
    case SpamdCommand::symbols:
      return with_body(r, sa_symbol(r));
    case SpamdCommand::report:
      return with_body(r, spamd_report_text(r));
    case SpamdCommand::report_ifspam:
      return with_body(r, r.verdict == Verdict::spam ? spamd_report_text(r) : std::string());
    case SpamdCommand::process:
      return with_body(r, rewrite_message(message, verdict_headers(r)));
    case SpamdCommand::headers: {
      std::string m = rewrite_message(message, verdict_headers(r));
      size_t end = header_section_end(m);
      std::string head = m.substr(0, end);
      if (end == m.size()) head += line_ending(m);  // a message without a body
      return with_body(r, head);
    }
    case SpamdCommand::skip:
    case SpamdCommand::ping:
    case SpamdCommand::tell:
      break;
  }
  return spamd_error_reply({kExSoftware, "not a scanning command"});
}

std::string spamd_tell_reply(bool did_set_local, bool did_remove_local) {
  std::string out = ok_line();
  if (did_set_local) out += "DidSet: local\r\n";
  if (did_remove_local) out += "DidRemove: local\r\n";
  return out + "\r\n";
}

}  // namespace sf::service

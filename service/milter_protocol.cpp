// milter_protocol.cpp: see milter_protocol.h.
#include "service/milter_protocol.h"

#include <strings.h>

#include <algorithm>
#include <cstdio>

namespace sf::service::milter {
namespace {

constexpr size_t kMaxRecipients = 1000;
constexpr size_t kMaxMacros = 256;
constexpr size_t kMaxHeaders = 10000;

struct Named {
  char code;
  const char* name;
};
constexpr Named kCommands[] = {
    {'A', "SMFIC_ABORT"},   {'B', "SMFIC_BODY"}, {'C', "SMFIC_CONNECT"}, {'D', "SMFIC_MACRO"},
    {'E', "SMFIC_BODYEOB"}, {'H', "SMFIC_HELO"}, {'K', "SMFIC_QUIT_NC"}, {'L', "SMFIC_HEADER"},
    {'M', "SMFIC_MAIL"},    {'N', "SMFIC_EOH"},  {'O', "SMFIC_OPTNEG"},  {'Q', "SMFIC_QUIT"},
    {'R', "SMFIC_RCPT"},    {'T', "SMFIC_DATA"}, {'U', "SMFIC_UNKNOWN"},
};
constexpr Named kReplies[] = {
    {'a', "SMFIR_ACCEPT"},     {'c', "SMFIR_CONTINUE"},  {'d', "SMFIR_DISCARD"},
    {'h', "SMFIR_ADDHEADER"},  {'m', "SMFIR_CHGHEADER"}, {'p', "SMFIR_PROGRESS"},
    {'q', "SMFIR_QUARANTINE"}, {'r', "SMFIR_REJECT"},    {'t', "SMFIR_TEMPFAIL"},
    {'y', "SMFIR_REPLYCODE"},  {'O', "SMFIC_OPTNEG"},
};

std::string lookup(const Named* table, size_t n, char c) {
  for (size_t i = 0; i < n; ++i)
    if (table[i].code == c) return table[i].name;
  char buf[32];
  std::snprintf(buf, sizeof buf, "unknown 0x%02x", static_cast<unsigned char>(c));
  return buf;
}

void put32(std::string& out, uint32_t v) {
  out.push_back(static_cast<char>((v >> 24) & 0xff));
  out.push_back(static_cast<char>((v >> 16) & 0xff));
  out.push_back(static_cast<char>((v >> 8) & 0xff));
  out.push_back(static_cast<char>(v & 0xff));
}

uint32_t get32(std::string_view s, size_t at) {
  auto b = [&](size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(s[at + i])); };
  return (b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3);
}

// Splits NUL-terminated strings; the data must end in NUL.
std::vector<std::string_view> split_nul(std::string_view data, Cmd cmd) {
  if (data.empty() || data.back() != '\0')
    throw MilterError{command_name(static_cast<char>(cmd)) + ": data not NUL-terminated"};
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start < data.size()) {
    size_t nul = data.find('\0', start);
    out.push_back(data.substr(start, nul - start));
    start = nul + 1;
  }
  return out;
}

std::string strip_angles(std::string_view a) {
  if (a.size() >= 2 && a.front() == '<' && a.back() == '>') a = a.substr(1, a.size() - 2);
  return std::string(a);
}

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// One printable line for a header value or reply text.
std::string one_line(std::string_view s, size_t max) {
  std::string out = printable(s, max);
  return out;
}

}  // namespace

std::string command_name(char cmd) {
  return lookup(kCommands, sizeof kCommands / sizeof kCommands[0], cmd);
}
std::string reply_name(char reply) {
  return lookup(kReplies, sizeof kReplies / sizeof kReplies[0], reply);
}

std::optional<Frame> take_frame(std::string& buf, size_t max_command_bytes) {
  if (buf.size() < 4) return std::nullopt;
  uint32_t len = get32(buf, 0);
  if (len == 0) throw MilterError{"zero-length frame"};
  if (len > max_command_bytes)
    throw MilterError{"frame of " + std::to_string(len) + " bytes over milter.max_command_bytes"};
  if (buf.size() < 4 + static_cast<size_t>(len)) return std::nullopt;
  Frame f;
  f.cmd = buf[4];
  f.data = buf.substr(5, len - 1);
  buf.erase(0, 4 + static_cast<size_t>(len));
  return f;
}

std::string encode(char cmd, std::string_view data) {
  std::string out;
  out.reserve(5 + data.size());
  put32(out, static_cast<uint32_t>(data.size() + 1));
  out.push_back(cmd);
  out.append(data);
  return out;
}

std::string encode_reply(Reply r, std::string_view data) {
  return encode(static_cast<char>(r), data);
}

std::string optneg_reply(uint32_t version, uint32_t actions, uint32_t steps) {
  std::string d;
  put32(d, version);
  put32(d, actions);
  put32(d, steps);
  return encode_reply(Reply::optneg, d);
}

std::string addheader_reply(std::string_view name, std::string_view value) {
  std::string d(name);
  d.push_back('\0');
  d.append(value);
  d.push_back('\0');
  return encode_reply(Reply::addheader, d);
}

std::string chgheader_reply(uint32_t index, std::string_view name, std::string_view value) {
  std::string d;
  put32(d, index);
  d.append(name);
  d.push_back('\0');
  d.append(value);
  d.push_back('\0');
  return encode_reply(Reply::chgheader, d);
}

std::string quarantine_reply(std::string_view reason) {
  std::string d = one_line(reason, 200);
  d.push_back('\0');
  return encode_reply(Reply::quarantine, d);
}

std::string replycode_reply(std::string_view code, std::string_view text) {
  std::string d(code);
  d.push_back(' ');
  std::string t = one_line(text, 400);
  // '%' is a format character in Sendmail's reply handling.
  std::replace(t.begin(), t.end(), '%', '?');
  d.append(t);
  d.push_back('\0');
  return encode_reply(Reply::replycode, d);
}

void Session::reset_message() {
  env_.sender.clear();
  env_.recipients.clear();
  headers_.clear();
  body_.clear();
  kept_ = 0;
  truncated_ = false;
}

Step Session::on_frame(const Frame& f) {
  const Cmd cmd = static_cast<Cmd>(f.cmd);
  const std::string_view data = f.data;
  const std::string cont = encode_reply(Reply::cont);
  Step st;
  if (!negotiated_ && cmd != Cmd::optneg && cmd != Cmd::macro && cmd != Cmd::abort &&
      cmd != Cmd::quit && cmd != Cmd::quit_nc)
    throw MilterError{command_name(f.cmd) + " before SMFIC_OPTNEG"};
  switch (cmd) {
    case Cmd::optneg: {
      if (data.size() < 12) throw MilterError{"SMFIC_OPTNEG: shorter than 12 bytes"};
      uint32_t version = get32(data, 0);
      if (version < 2) throw MilterError{"SMFIC_OPTNEG: version " + std::to_string(version)};
      actions_ = get32(data, 4) & kWantedActions;
      steps_ = get32(data, 8) & kUnwantedSteps;
      negotiated_ = true;
      st.reply = optneg_reply(std::min(version, kVersion), actions_, steps_);
      return st;
    }
    case Cmd::macro: {
      if (data.empty()) throw MilterError{"SMFIC_MACRO: no command code"};
      if (data.size() == 1) return st;  // no macros for that step
      auto parts = split_nul(data.substr(1), cmd);
      for (size_t i = 0; i + 1 < parts.size(); i += 2) {
        if (macros_.size() >= kMaxMacros && !macros_.count(std::string(parts[i]))) break;
        macros_[std::string(parts[i])] = std::string(parts[i + 1]);
      }
      if (auto it = macros_.find("{auth_authen}"); it != macros_.end() && !it->second.empty()) {
        env_.authenticated = true;
        env_.auth_user = it->second;
      }
      return st;  // no reply
    }
    case Cmd::connect: {
      size_t nul = data.find('\0');
      if (nul == std::string_view::npos || nul + 1 >= data.size())
        throw MilterError{"SMFIC_CONNECT: malformed"};
      char family = data[nul + 1];
      env_.client_ip.clear();
      if (family == '4' || family == '6') {
        auto rest = data.substr(nul + 2);
        if (rest.size() < 3) throw MilterError{"SMFIC_CONNECT: no port and address"};
        auto addr = split_nul(rest.substr(2), cmd);
        env_.client_ip = std::string(addr.at(0));
      } else if (family != 'U' && family != 'L') {
        throw MilterError{"SMFIC_CONNECT: unknown address family"};
      }
      st.reply = cont;
      return st;
    }
    case Cmd::helo: {
      auto parts = split_nul(data, cmd);
      env_.helo = std::string(parts.at(0));
      st.reply = cont;
      return st;
    }
    case Cmd::mail: {
      auto parts = split_nul(data, cmd);
      reset_message();
      env_.sender = strip_angles(parts.at(0));
      st.reply = cont;
      return st;
    }
    case Cmd::rcpt: {
      auto parts = split_nul(data, cmd);
      if (env_.recipients.size() < kMaxRecipients)
        env_.recipients.push_back(strip_angles(parts.at(0)));
      st.reply = cont;
      return st;
    }
    case Cmd::header: {
      auto parts = split_nul(data, cmd);
      if (parts.size() != 2) throw MilterError{"SMFIC_HEADER: not name and value"};
      if (headers_.size() >= kMaxHeaders) throw MilterError{"SMFIC_HEADER: too many headers"};
      size_t add = parts[0].size() + parts[1].size() + 4;
      Header h{std::string(parts[0]), std::string(parts[1])};
      // Names are kept even past the cap (CHGHEADER indices count them); values are not.
      if (kept_ + add > limits_.max_message_bytes) {
        truncated_ = true;
        h.value.clear();
      } else {
        kept_ += add;
      }
      headers_.push_back(std::move(h));
      st.reply = cont;
      return st;
    }
    case Cmd::eoh:
    case Cmd::data:
    case Cmd::unknown:
      kept_ += 2;
      st.reply = cont;
      return st;
    case Cmd::body: {
      size_t room = kept_ < limits_.max_message_bytes ? limits_.max_message_bytes - kept_ : 0;
      size_t take = std::min(room, data.size());
      if (take < data.size()) truncated_ = true;
      body_.append(data.substr(0, take));
      kept_ += take;
      st.reply = cont;
      return st;
    }
    case Cmd::bodyeob:
      if (!data.empty()) {  // a last body chunk may come with the end of message
        size_t room = kept_ < limits_.max_message_bytes ? limits_.max_message_bytes - kept_ : 0;
        size_t take = std::min(room, data.size());
        if (take < data.size()) truncated_ = true;
        body_.append(data.substr(0, take));
        kept_ += take;
      }
      st.scan = true;
      return st;
    case Cmd::abort:
      reset_message();
      return st;  // no reply
    case Cmd::quit:
      st.close = true;
      return st;
    case Cmd::quit_nc:
      reset_message();
      env_ = Envelope{};
      macros_.clear();
      negotiated_ = false;
      return st;
  }
  throw MilterError{"unknown command " + command_name(f.cmd)};
}

std::string Session::message() const {
  std::string m;
  m.reserve(kept_ + 16);
  for (const auto& h : headers_) {
    if (h.value.empty() && truncated_) continue;
    m += h.name;
    m += ": ";
    m += h.value;
    m += "\r\n";
  }
  m += "\r\n";
  m += body_;
  return m;
}

std::string Session::finish(const ScanResult& r, const Policy& p, std::string* disposition) {
  std::string disp = "accept";
  std::string text, note, tag;
  std::vector<Header> extra;
  for (const auto& a : r.actions) {
    size_t sp = a.find(' ');
    std::string word = a.substr(0, sp);
    std::string arg = sp == std::string::npos ? "" : a.substr(sp + 1);
    if (word == "reject" || word == "tempfail") {
      disp = word;
      text = arg;
    } else if (word == "discard") {
      disp = word;
    } else if (word == "quarantine") {
      disp = word;
      note = arg;
    } else if (word == "tag-subject") {
      tag = arg;
    } else if (word == "add-header") {
      size_t colon = arg.find(':');
      if (colon != std::string::npos && colon > 0) {
        size_t v = arg.find_first_not_of(' ', colon + 1);
        extra.push_back({arg.substr(0, colon), v == std::string::npos ? "" : arg.substr(v)});
      }
    }
  }
  if (r.tempfail) disp = "tempfail";
  if (p.reject_threshold > 0 && r.verdict != Verdict::unchecked &&
      r.probability >= p.reject_threshold && disp != "tempfail") {
    disp = "reject";
    text.clear();
  }

  std::string out;
  if (disp == "reject") {
    out = replycode_reply("550 5.7.1", text.empty() ? p.reject_text : text);
  } else if (disp == "tempfail") {
    out = replycode_reply("451 4.7.1", text.empty() ? p.tempfail_text : text);
  } else if (disp == "discard") {
    out = encode_reply(Reply::discard);
  } else {
    if (actions_ & kActChangeHeaders) {
      // Remove incoming copies of our headers, last first so the indices of
      // the ones still to go do not move.
      for (const auto& ours : our_header_names()) {
        uint32_t count = 0;
        for (const auto& h : headers_)
          if (iequal(h.name, ours)) ++count;
        for (uint32_t i = count; i >= 1; --i) out += chgheader_reply(i, ours, "");
      }
      if (!tag.empty()) {
        const Header* subject = nullptr;
        for (const auto& h : headers_)
          if (iequal(h.name, "Subject")) {
            subject = &h;
            break;
          }
        if (!subject) {
          extra.push_back({"Subject", tag});
        } else if (subject->value.rfind(tag, 0) != 0) {
          out += chgheader_reply(1, "Subject", tag + " " + subject->value);
        }
      }
    }
    if (actions_ & kActAddHeaders) {
      auto hs = verdict_headers(r);
      hs.insert(hs.end(), extra.begin(), extra.end());
      for (const auto& h : hs) out += addheader_reply(h.name, one_line(h.value, 998));
    }
    if (disp == "quarantine") {
      if (actions_ & kActQuarantine) {
        out += quarantine_reply(note.empty() ? "spamformer: " + std::string(verdict_name(r.verdict))
                                             : note);
      } else {
        disp = "accept";  // the MTA did not offer quarantine: deliver with the headers
      }
    }
    out += encode_reply(Reply::accept);
  }
  if (disposition) *disposition = disp;
  reset_message();
  return out;
}

}  // namespace sf::service::milter

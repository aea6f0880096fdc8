// evaluate.cpp: see evaluate.h.
#include "rules/evaluate.h"

#include <algorithm>

#include "rules/errors.h"
#include "rules/text.h"

namespace sf::rules {
namespace {

using detail::CompiledRule;

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

std::string_view trimmed(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

struct View {
  const Context& ctx;
  Address sender;
  Address rcpt;
};

bool header_matches(const detail::CompiledHeader& h, const Context& ctx, size_t cap) {
  for (const auto& hdr : ctx.headers) {
    if (!iequals(hdr.name, h.name)) continue;
    if (h.re) {
      std::string_view v = hdr.value;
      if (v.size() > cap) v = v.substr(0, cap);
      if (std::regex_search(v.begin(), v.end(), *h.re)) return true;
    } else {
      std::string_view v = trimmed(hdr.value);
      if (h.nocase ? iequals(v, h.value) : v == h.value) return true;
    }
  }
  return false;
}

// All conditions except the probability band.
bool conditions_hold(const CompiledRule& r, const View& v, size_t cap) {
  const Context& ctx = v.ctx;
  if (ctx.size < r.size_min || ctx.size >= r.size_max) return false;
  if (r.authenticated && *r.authenticated == ctx.auth_user.empty()) return false;
  if (!r.tenant.empty() &&
      std::find(r.tenant.begin(), r.tenant.end(), ctx.tenant) == r.tenant.end()) {
    return false;
  }
  if (!r.auth_user.empty() &&
      (ctx.auth_user.empty() ||
       std::find(r.auth_user.begin(), r.auth_user.end(), ctx.auth_user) == r.auth_user.end())) {
    return false;
  }
  auto any = [](const std::vector<AddressPattern>& ps, const Address& a) {
    return std::any_of(ps.begin(), ps.end(), [&](const auto& p) { return p.matches(a); });
  };
  if (!r.recipient.empty() && !any(r.recipient, v.rcpt)) return false;
  if (!r.sender.empty() && !any(r.sender, v.sender)) return false;
  if (!r.client_ip.empty()) {
    if (!ctx.client_ip) return false;
    if (std::none_of(r.client_ip.begin(), r.client_ip.end(),
                     [&](const Cidr& c) { return c.contains(*ctx.client_ip); })) {
      return false;
    }
  }
  if (r.list && !detail::find_in(*r.list, v.rcpt, v.sender, ctx.client_ip)) return false;
  for (const auto& h : r.headers) {
    if (!header_matches(h, ctx, cap)) return false;
  }
  return true;
}

bool in_band(const CompiledRule& r, float p) { return p >= r.lo && (r.hi_open || p < r.hi); }

std::string expand(std::string_view text, const Decision& d, const std::optional<float>& p) {
  std::string out;
  out.reserve(text.size() + 8);
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '{') {
      auto close = text.find('}', i);
      if (close != std::string_view::npos) {
        auto name = text.substr(i + 1, close - i - 1);
        if (name == "probability") {
          out += p ? format_probability(*p) : "none";
          i = close;
          continue;
        }
        if (name == "rule") {
          out += d.rule_id;
          i = close;
          continue;
        }
        if (name == "band") {
          out += d.band.empty() ? "none" : d.band;
          i = close;
          continue;
        }
      }
    }
    out += text[i];
  }
  return out;
}

void set_actions(Decision& d, const std::vector<Action>& actions, bool maybe_expand,
                 const std::optional<float>& p) {
  d.actions = actions;
  if (!maybe_expand) return;
  for (auto& a : d.actions) {
    if (a.kind == ActionKind::add_header && a.arg.find('{') != std::string::npos) {
      a.arg = expand(a.arg, d, p);
    }
  }
}

std::optional<Decision> list_decision(const View& v, const detail::Compiled& c) {
  for (const auto* l : {c.block, c.allow}) {
    if (!l) continue;
    auto hit = detail::find_in(*l, v.rcpt, v.sender, v.ctx.client_ip);
    if (!hit) continue;
    bool block = l == c.block;
    Decision d;
    d.rule_id = block ? "block-list" : "allow-list";
    std::string what =
        looks_like_ip(hit->entry)
            ? "client IP " + (v.ctx.client_ip ? v.ctx.client_ip->str() : "") + " matches " +
                  hit->entry
            : "sender " + (v.sender.is_null ? "<>" : v.sender.address) + " matches " + hit->entry;
    d.reason = what + " on the " + (block ? "block" : "allow") + " list (" +
               scope_label(hit->scope, hit->key) + ")";
    set_actions(d, block ? c.block_actions : c.allow_actions, false, std::nullopt);
    return d;
  }
  return std::nullopt;
}

Decision rule_decision(const CompiledRule& r, const std::optional<float>& p) {
  Decision d;
  d.rule_id = r.id;
  d.reason = r.summary;
  if (p && r.has_band) d.reason += "; p=" + format_probability(*p);
  set_actions(d, r.actions, r.expand, p);
  return d;
}

enum class Phase { before_model, final };

// The rules of one scope that can match this sender, in precedence order
// (a merge of the generic rules and those indexed under the sender's
// domain): calls f(rule) until it returns true.
template <typename F>
bool for_each_in(const detail::RuleList& l, const Address& sender, F& f) {
  const std::vector<const CompiledRule*>* specific = nullptr;
  if (!l.by_sender_domain.empty() && !sender.is_null) {
    auto it = l.by_sender_domain.find(std::string_view(sender.domain));
    if (it != l.by_sender_domain.end()) specific = &it->second;
  }
  if (!specific) {
    for (const auto* r : l.generic) {
      if (f(*r)) return true;
    }
    return false;
  }
  auto before = [](const CompiledRule* a, const CompiledRule* b) {
    return std::make_pair(a->rule->priority, a->rule->id) <
           std::make_pair(b->rule->priority, b->rule->id);
  };
  auto g = l.generic.begin(), s = specific->begin();
  while (g != l.generic.end() || s != specific->end()) {
    const CompiledRule* next;
    if (s == specific->end() || (g != l.generic.end() && before(*g, *s))) {
      next = *g++;
    } else {
      next = *s++;
    }
    if (f(*next)) return true;
  }
  return false;
}

// The rules of the three scopes in precedence order: user, domain, global.
template <typename F>
bool for_each_rule(const View& v, const detail::Compiled& c, F&& f) {
  if (!c.by_user.empty()) {
    if (auto it = c.by_user.find(std::string_view(v.rcpt.address)); it != c.by_user.end()) {
      if (for_each_in(it->second, v.sender, f)) return true;
    }
  }
  if (!c.by_domain.empty()) {
    if (auto it = c.by_domain.find(std::string_view(v.rcpt.domain)); it != c.by_domain.end()) {
      if (for_each_in(it->second, v.sender, f)) return true;
    }
  }
  return for_each_in(c.global, v.sender, f);
}

// The thresholds of the most specific scope setting each one.
struct Effective {
  float spam, suspect;
  double spam_d, suspect_d;
  const std::string* spam_from;
  const std::string* suspect_from;
};

Effective thresholds_for(const View& v, const detail::Compiled& c) {
  const detail::ScopeThresholds* chain[3] = {nullptr, nullptr, &c.global_thresholds};
  if (!c.user_thresholds.empty()) {
    auto it = c.user_thresholds.find(std::string_view(v.rcpt.address));
    if (it != c.user_thresholds.end()) chain[0] = &it->second;
  }
  if (!c.domain_thresholds.empty()) {
    auto it = c.domain_thresholds.find(std::string_view(v.rcpt.domain));
    if (it != c.domain_thresholds.end()) chain[1] = &it->second;
  }
  Effective e{};
  bool have_spam = false, have_suspect = false;
  for (const auto* t : chain) {
    if (!t) continue;
    if (!have_spam && t->spam) {
      e.spam = *t->spam;
      e.spam_d = t->spam_d;
      e.spam_from = &t->label;
      have_spam = true;
    }
    if (!have_suspect && t->suspect) {
      e.suspect = *t->suspect;
      e.suspect_d = t->suspect_d;
      e.suspect_from = &t->label;
      have_suspect = true;
    }
  }
  if (!have_spam || !have_suspect) {  // the global entry may set only one of the two
    if (!have_spam) {
      e.spam = static_cast<float>(kDefaultSpam);
      e.spam_d = kDefaultSpam;
      e.spam_from = &c.global_thresholds.label;
    }
    if (!have_suspect) {
      e.suspect = static_cast<float>(kDefaultSuspect);
      e.suspect_d = kDefaultSuspect;
      e.suspect_from = &c.global_thresholds.label;
    }
  }
  return e;
}

Decision band_decision(const View& v, const detail::Compiled& c) {
  Decision d;
  const auto& p = v.ctx.probability;
  if (!p) {
    d.rule_id = "default:unchecked";
    d.band = "unchecked";
    d.reason = "no probability (the model did not run): delivered unchecked";
    set_actions(d, c.unchecked_actions, false, p);
    return d;
  }
  Effective e = thresholds_for(v, c);
  std::string ps = format_probability(*p);
  const std::vector<Action>* actions;
  if (*p >= e.spam) {
    d.band = "spam";
    d.reason =
        "p=" + ps + " >= spam threshold " + format_number(e.spam_d) + " (" + *e.spam_from + ")";
    actions = &c.spam_actions;
  } else if (*p >= e.suspect) {
    d.band = "suspect";
    d.reason = "suspect threshold " + format_number(e.suspect_d) + " (" + *e.suspect_from +
               ") <= p=" + ps + " < spam threshold " + format_number(e.spam_d) + " (" +
               *e.spam_from + ")";
    actions = &c.suspect_actions;
  } else {
    d.band = "ham";
    d.reason = "p=" + ps + " < suspect threshold " + format_number(e.suspect_d) + " (" +
               *e.suspect_from + ")";
    actions = &c.ham_actions;
  }
  d.rule_id = "default:" + d.band;
  set_actions(d, *actions, true, p);
  return d;
}

std::optional<Decision> run(const Context& ctx, const RuleSet& rs, Phase phase) {
  const detail::Compiled& c = rs.compiled();
  View v{ctx, normalize_address(ctx.sender), normalize_address(ctx.recipient)};
  if (auto d = list_decision(v, c)) return d;
  std::optional<float> p = phase == Phase::final ? ctx.probability : std::nullopt;
  std::optional<Decision> out;
  // Before the model, the first rule whose other conditions hold decides
  // whether the model is needed: it is not if that rule has skip-model.
  for_each_rule(v, c, [&](const CompiledRule& r) {
    if (!conditions_hold(r, v, c.max_regex_input)) return false;
    if (phase == Phase::before_model) {
      if (!r.has_band && r.skip_model) out = rule_decision(r, p);
      return true;
    }
    if (r.has_band && (!p || !in_band(r, *p))) return false;
    out = rule_decision(r, p);
    return true;
  });
  if (out || phase == Phase::before_model) return out;
  return band_decision(v, c);
}

}  // namespace

Decision evaluate(const Context& ctx, const RuleSet& rules) {
  return *run(ctx, rules, Phase::final);
}

std::optional<Decision> evaluate_before_model(const Context& ctx, const RuleSet& rules) {
  return run(ctx, rules, Phase::before_model);
}

EffectiveThresholds effective_thresholds(const RuleSet& rules, std::string_view recipient) {
  Context ctx;
  ctx.recipient = std::string(recipient);
  View v{ctx, Address{}, normalize_address(recipient)};
  Effective e = thresholds_for(v, rules.compiled());
  return {e.spam_d, e.suspect_d, *e.spam_from, *e.suspect_from};
}

std::string outcome(const std::vector<Action>& actions) {
  std::string s;
  for (const auto& a : actions) {
    if (a.kind == ActionKind::add_header || a.kind == ActionKind::skip_model) continue;
    s += (s.empty() ? "" : "; ") + a.str();
  }
  return s.empty() ? "deliver" : s;
}

nlohmann::json to_json(const Decision& d) {
  nlohmann::json j = {{"rule", d.rule_id}, {"reason", d.reason}, {"actions", to_json(d.actions)}};
  if (!d.band.empty()) j["band"] = d.band;
  j["outcome"] = outcome(d.actions);
  return j;
}

nlohmann::json to_json(const Context& c) {
  nlohmann::json j = nlohmann::json::object();
  j["sender"] = c.sender;
  j["recipient"] = c.recipient;
  if (!c.tenant.empty()) j["tenant"] = c.tenant;
  if (!c.auth_user.empty()) j["auth_user"] = c.auth_user;
  if (c.client_ip) j["client_ip"] = c.client_ip->str();
  nlohmann::json hs = nlohmann::json::array();
  for (const auto& h : c.headers) hs.push_back(h.name + ": " + h.value);
  if (!hs.empty()) j["headers"] = hs;
  j["size"] = c.size;
  if (c.probability) j["probability"] = float_to_decimal(*c.probability);
  return j;
}

Context context_from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw RuleError("a context must be a JSON object");
  Context c;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    const auto& v = it.value();
    auto str = [&]() {
      if (!v.is_string()) throw RuleError("context: '" + k + "' must be a string");
      return v.get<std::string>();
    };
    if (k == "sender") {
      c.sender = str();
    } else if (k == "recipient") {
      c.recipient = str();
    } else if (k == "tenant") {
      c.tenant = str();
    } else if (k == "auth_user") {
      c.auth_user = str();
    } else if (k == "client_ip") {
      auto ip = IpAddress::parse(str());
      if (!ip) throw RuleError("context: bad client_ip '" + v.get<std::string>() + "'");
      c.client_ip = ip;
    } else if (k == "headers") {
      if (!v.is_array()) throw RuleError("context: 'headers' must be a list of \"Name: value\"");
      for (const auto& h : v) {
        if (!h.is_string()) throw RuleError("context: 'headers' must be a list of \"Name: value\"");
        std::string s = h.get<std::string>();
        auto colon = s.find(':');
        if (colon == std::string::npos || colon == 0) {
          throw RuleError("context: header '" + s + "' is not \"Name: value\"");
        }
        c.headers.push_back(
            {std::string(trimmed(s.substr(0, colon))), std::string(trimmed(s.substr(colon + 1)))});
      }
    } else if (k == "size") {
      if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0)) {
        throw RuleError("context: 'size' must be a byte count");
      }
      c.size = v.get<uint64_t>();
    } else if (k == "probability") {
      if (v.is_null()) continue;
      if (!v.is_number() || !(v.get<double>() >= 0 && v.get<double>() <= 1)) {
        throw RuleError("context: 'probability' must be a number in [0, 1]");
      }
      c.probability = static_cast<float>(v.get<double>());
    } else {
      throw RuleError("context: unknown key '" + k +
                      "' (known: sender, recipient, tenant, auth_user, client_ip, headers, size, "
                      "probability)");
    }
  }
  return c;
}

}  // namespace sf::rules

// rule_set.cpp: see rule_set.h.
#include "rules/rule_set.h"

#include <algorithm>

#include "rules/errors.h"
#include "rules/text.h"

namespace sf::rules {
namespace detail {

namespace {

uint32_t v4_bits(const IpAddress& ip) {
  return (uint32_t{ip.bytes[0]} << 24) | (uint32_t{ip.bytes[1]} << 16) |
         (uint32_t{ip.bytes[2]} << 8) | uint32_t{ip.bytes[3]};
}

std::pair<uint64_t, uint64_t> v6_bits(const IpAddress& ip) {
  uint64_t hi = 0, lo = 0;
  for (int i = 0; i < 8; ++i) hi = (hi << 8) | ip.bytes[i];
  for (int i = 8; i < 16; ++i) lo = (lo << 8) | ip.bytes[i];
  return {hi, lo};
}

uint32_t v4_mask(int len) { return len == 0 ? 0 : ~uint32_t{0} << (32 - len); }

std::pair<uint64_t, uint64_t> v6_mask(int len) {
  auto part = [](int n) { return n <= 0 ? 0 : n >= 64 ? ~uint64_t{0} : ~uint64_t{0} << (64 - n); };
  return {part(len), part(len - 64)};
}

template <typename Vec>
auto& slot(Vec& v, int len) {
  auto it = std::find_if(v.begin(), v.end(), [&](auto& p) { return p.first == len; });
  if (it != v.end()) return it->second;
  v.emplace_back(len, typename Vec::value_type::second_type{});
  std::sort(v.begin(), v.end(), [](auto& a, auto& b) { return a.first > b.first; });
  return std::find_if(v.begin(), v.end(), [&](auto& p) { return p.first == len; })->second;
}

}  // namespace

void CidrSet::add(const Cidr& c) {
  if (c.net.v6) {
    auto b = v6_bits(c.net);
    auto m = v6_mask(c.prefix);
    slot(v6_, c.prefix).insert({b.first & m.first, b.second & m.second});
  } else {
    slot(v4_, c.prefix).insert(v4_bits(c.net) & v4_mask(c.prefix));
  }
}

std::optional<Cidr> CidrSet::find(const IpAddress& ip) const {
  if (ip.v6) {
    auto b = v6_bits(ip);
    for (const auto& [len, set] : v6_) {
      auto m = v6_mask(len);
      if (set.count({b.first & m.first, b.second & m.second})) {
        Cidr c{ip, len};
        for (int bit = len; bit < 128; ++bit) c.net.bytes[bit / 8] &= ~(0x80 >> (bit % 8));
        return c;
      }
    }
  } else {
    uint32_t b = v4_bits(ip);
    for (const auto& [len, set] : v4_) {
      if (set.count(b & v4_mask(len))) {
        Cidr c{ip, len};
        for (int bit = len; bit < 32; ++bit) c.net.bytes[bit / 8] &= ~(0x80 >> (bit % 8));
        return c;
      }
    }
  }
  return std::nullopt;
}

std::optional<std::string> ListSet::find(const Address& sender,
                                         const std::optional<IpAddress>& ip) const {
  if (sender.is_null) {
    if (null_sender) return "<>";
  } else {
    if (!addresses.empty() && addresses.count(std::string_view(sender.address))) {
      return sender.address;
    }
    if (!domains.empty() && domains.count(std::string_view(sender.domain))) return sender.domain;
    if (!parents.empty()) {
      std::string_view d = sender.domain;
      for (auto dot = d.find('.'); dot != std::string_view::npos; dot = d.find('.')) {
        d.remove_prefix(dot + 1);
        if (parents.count(d)) return "*." + std::string(d);
      }
    }
  }
  if (ip && !ips.empty()) {
    if (auto c = ips.find(*ip)) return c->str();
  }
  return std::nullopt;
}

std::optional<ListHit> find_in(const ScopedList& l, const Address& rcpt, const Address& sender,
                               const std::optional<IpAddress>& ip) {
  if (!l.by_user.empty()) {
    auto it = l.by_user.find(std::string_view(rcpt.address));
    if (it != l.by_user.end()) {
      if (auto e = it->second.find(sender, ip)) return ListHit{Scope::user, it->first, *e};
    }
  }
  if (!l.by_domain.empty()) {
    auto it = l.by_domain.find(std::string_view(rcpt.domain));
    if (it != l.by_domain.end()) {
      if (auto e = it->second.find(sender, ip)) return ListHit{Scope::domain, it->first, *e};
    }
  }
  if (auto e = l.global.find(sender, ip)) return ListHit{Scope::global, "", *e};
  return std::nullopt;
}

}  // namespace detail

namespace {

using detail::CompiledRule;

void add_entry(detail::ListSet& s, const std::string& entry) {
  if (looks_like_ip(entry)) {
    s.ips.add(Cidr::parse(entry));
    return;
  }
  auto p = AddressPattern::parse(entry);
  switch (p.kind) {
    case AddressPattern::Kind::null_sender:
      s.null_sender = true;
      break;
    case AddressPattern::Kind::address:
      s.addresses.insert(p.text);
      break;
    case AddressPattern::Kind::domain:
      s.domains.insert(p.text);
      break;
    case AddressPattern::Kind::subdomains:
      s.parents.insert(p.text);
      break;
  }
}

std::vector<Action> actions_of(std::initializer_list<std::string> texts) {
  std::vector<Action> out;
  for (const auto& t : texts) out.push_back(Action::parse(t));
  return out;
}

}  // namespace

std::shared_ptr<const RuleSet> RuleSet::build(Config config, uint64_t generation) {
  std::shared_ptr<RuleSet> rs(new RuleSet());
  rs->config_ = normalize(std::move(config));
  rs->generation_ = generation;
  detail::Compiled& c = rs->c_;
  const Config& cfg = rs->config_;
  c.max_regex_input = static_cast<size_t>(cfg.settings.max_regex_input);

  for (const auto& e : cfg.lists) {
    auto& sl = c.lists[e.list];
    detail::ListSet& set = e.scope == Scope::global   ? sl.global
                           : e.scope == Scope::domain ? sl.by_domain[e.key]
                                                      : sl.by_user[e.key];
    add_entry(set, e.entry);
  }
  if (auto it = c.lists.find(kAllowList); it != c.lists.end()) c.allow = &it->second;
  if (auto it = c.lists.find(kBlockList); it != c.lists.end()) c.block = &it->second;
  static const detail::ScopedList kEmptyList;

  c.rules.reserve(cfg.rules.size());
  for (const auto& r : cfg.rules) {
    if (!r.enabled) continue;
    CompiledRule cr;
    cr.rule = &r;
    cr.id = std::to_string(r.id);
    const Match& m = r.match;
    for (const auto& s : m.sender) cr.sender.push_back(AddressPattern::parse(s));
    for (const auto& s : m.recipient) cr.recipient.push_back(AddressPattern::parse(s));
    cr.tenant = m.tenant;
    cr.auth_user = m.auth_user;
    cr.authenticated = m.authenticated;
    for (const auto& s : m.client_ip) cr.client_ip.push_back(Cidr::parse(s));
    for (const auto& h : m.headers) {
      detail::CompiledHeader ch{h.name, h.value, std::nullopt, h.nocase};
      if (h.regex) {
        auto flags = std::regex::ECMAScript | std::regex::optimize;
        if (h.nocase) flags |= std::regex::icase;
        ch.re.emplace(h.value, flags);
      }
      cr.headers.push_back(std::move(ch));
    }
    if (m.size_min) cr.size_min = *m.size_min;
    if (m.size_max) cr.size_max = *m.size_max;
    if (!m.list.empty()) {
      auto it = c.lists.find(m.list);
      cr.list = it == c.lists.end() ? &kEmptyList : &it->second;
      cr.list_name = m.list;
    }
    if (m.probability) {
      cr.has_band = true;
      cr.lo = static_cast<float>(m.probability->lo);
      cr.hi_open = m.probability->hi >= 1.0;
      cr.hi = static_cast<float>(m.probability->hi);
    }
    cr.actions = r.actions;
    for (const auto& a : r.actions) {
      if (a.kind == ActionKind::skip_model) cr.skip_model = true;
      if (a.kind == ActionKind::add_header && a.arg.find('{') != std::string::npos)
        cr.expand = true;
    }
    cr.summary = describe(r);
    c.rules.push_back(std::move(cr));
  }
  // Pointers into c.rules are taken only now that it no longer grows.
  auto order = [](const CompiledRule* a, const CompiledRule* b) {
    return std::make_pair(a->rule->priority, a->rule->id) <
           std::make_pair(b->rule->priority, b->rule->id);
  };
  for (const auto& cr : c.rules) {
    detail::RuleList& list = cr.rule->scope == Scope::global   ? c.global
                             : cr.rule->scope == Scope::domain ? c.by_domain[cr.rule->key]
                                                               : c.by_user[cr.rule->key];
    // Index by sender domain when every sender pattern names one domain.
    std::vector<std::string> domains;
    bool indexable = !cr.sender.empty();
    for (const auto& p : cr.sender) {
      if (p.kind == AddressPattern::Kind::domain) {
        domains.push_back(p.text);
      } else if (p.kind == AddressPattern::Kind::address) {
        domains.push_back(p.text.substr(p.text.rfind('@') + 1));
      } else {
        indexable = false;
      }
    }
    if (!indexable) {
      list.generic.push_back(&cr);
      continue;
    }
    std::sort(domains.begin(), domains.end());
    domains.erase(std::unique(domains.begin(), domains.end()), domains.end());
    for (const auto& d : domains) list.by_sender_domain[d].push_back(&cr);
  }
  auto sort_list = [&](detail::RuleList& l) {
    std::sort(l.generic.begin(), l.generic.end(), order);
    for (auto& [k, v] : l.by_sender_domain) std::sort(v.begin(), v.end(), order);
  };
  sort_list(c.global);
  for (auto& [k, v] : c.by_domain) sort_list(v);
  for (auto& [k, v] : c.by_user) sort_list(v);

  c.global_thresholds.label = "default";
  c.global_thresholds.spam = static_cast<float>(kDefaultSpam);
  c.global_thresholds.suspect = static_cast<float>(kDefaultSuspect);
  c.global_thresholds.spam_d = kDefaultSpam;
  c.global_thresholds.suspect_d = kDefaultSuspect;
  for (const auto& t : cfg.thresholds) {
    detail::ScopeThresholds* st = t.scope == Scope::global   ? &c.global_thresholds
                                  : t.scope == Scope::domain ? &c.domain_thresholds[t.key]
                                                             : &c.user_thresholds[t.key];
    st->label = scope_label(t.scope, t.key);
    if (t.t.spam) {
      st->spam = static_cast<float>(*t.t.spam);
      st->spam_d = *t.t.spam;
    }
    if (t.t.suspect) {
      st->suspect = static_cast<float>(*t.t.suspect);
      st->suspect_d = *t.t.suspect;
    }
  }

  const Settings& s = cfg.settings;
  const std::string p = "add-header X-Spamformer-Probability: {probability}";
  c.spam_actions = actions_of({"move " + s.spam_folder, "add-header X-Spamformer-Status: spam", p,
                               "add-header X-Spam-Flag: YES"});
  c.suspect_actions = actions_of({"flag " + s.suspect_keyword});
  if (s.suspect_flagged) c.suspect_actions.push_back(Action::parse("flag \\Flagged"));
  for (const auto& a : actions_of({"add-header X-Spamformer-Status: suspect", p})) {
    c.suspect_actions.push_back(a);
  }
  c.ham_actions = actions_of({"add-header X-Spamformer-Status: ham", p});
  c.unchecked_actions = actions_of({"add-header X-Spamformer-Status: unchecked"});
  c.allow_actions = actions_of({"accept", "add-header X-Spamformer-Status: allowlisted"});
  c.block_actions = {Action{ActionKind::reject, s.block_text}};
  return rs;
}

}  // namespace sf::rules

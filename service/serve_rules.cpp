// serve_rules.cpp: the decision policies the daemon can run with
// (default_policies() of serve.h): the built-in default policy of [verdict],
// or the business-rule engine (rules/) over server.rules_db, and the
// feedback store that goes with them.
//
// The rule engine sees one delivery per message: the first envelope
// recipient (or the spamc user when it is an address), the envelope sender,
// client IP, tenant, authenticated user, the message's header fields
// (unfolded; at most 64 KiB of them) and its size. Its decision's actions are
// carried out as written; the verdict in the SpamAssassin headers is the
// rule engine's probability band, or for a rule or list that fired, the band
// the probability falls in under that recipient's thresholds (block list:
// spam, allow list: ham).
#include <algorithm>

#include "rules/engine.h"
#include "rules/evaluate.h"
#include "rules/store.h"
#include "service/serve.h"
#include "service/serve_feedback.h"
#include "service/serve_log.h"

namespace sf::service {
namespace {

constexpr size_t kMaxHeaderBytes = 64 << 10;
constexpr size_t kMaxHeaderFields = 500;

std::string lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

std::vector<rules::Header> header_fields(std::string_view m) {
  std::vector<rules::Header> out;
  const size_t end = std::min(header_section_end(m), kMaxHeaderBytes);
  size_t pos = 0;
  while (pos < end && out.size() < kMaxHeaderFields) {
    size_t nl = m.find('\n', pos);
    size_t line_end = nl == std::string_view::npos ? m.size() : nl + 1;
    std::string_view line = m.substr(pos, line_end - pos);
    if (line == "\n" || line == "\r\n") break;
    std::string text(line);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    if (!text.empty() && (text[0] == ' ' || text[0] == '\t')) {
      if (!out.empty()) out.back().value += " " + text.substr(text.find_first_not_of(" \t"));
    } else if (size_t colon = text.find(':'); colon != std::string::npos && colon > 0) {
      std::string value = text.substr(colon + 1);
      size_t b = value.find_first_not_of(" \t");
      out.push_back({text.substr(0, colon), b == std::string::npos ? "" : value.substr(b)});
    }
    pos = line_end;
  }
  return out;
}

class RulesPolicy final : public Policy {
 public:
  explicit RulesPolicy(std::shared_ptr<rules::RuleEngine> engine) : engine_(std::move(engine)) {}
  std::string name() const override { return "rules"; }

  Decision decide(const ScanRequest& req, double p,
                  const std::vector<std::string>&) const override {
    const Envelope& e = req.envelope;
    rules::Context ctx;
    ctx.sender = e.sender;
    if (!e.recipients.empty()) {
      ctx.recipient = e.recipients.front();
    } else if (e.user.find('@') != std::string::npos) {
      ctx.recipient = e.user;
    }
    ctx.tenant = e.tenant;
    ctx.auth_user = e.auth_user;
    ctx.client_ip = rules::IpAddress::parse(e.client_ip);
    ctx.headers = header_fields(req.message);
    ctx.size = req.message.size();
    ctx.probability = static_cast<float>(p);
    auto rs = engine_->current();
    rules::Decision d = rules::evaluate(ctx, *rs);

    Decision out;
    out.rule = d.rule_id;
    for (const auto& a : d.actions) out.actions.push_back(a.str());
    auto [spam, suspect] = thresholds(*rs, lower(ctx.recipient));
    out.spam_threshold = spam;
    if (d.band == "spam" || d.rule_id == "block-list") {
      out.verdict = Verdict::spam;
    } else if (d.band == "suspect") {
      out.verdict = Verdict::suspect;
    } else if (d.band == "ham" || d.rule_id == "allow-list") {
      out.verdict = Verdict::ham;
    } else {
      out.verdict = p >= spam ? Verdict::spam : p >= suspect ? Verdict::suspect : Verdict::ham;
    }
    return out;
  }

 private:
  // The recipient's thresholds: user, then domain, then global, then defaults.
  static std::pair<double, double> thresholds(const rules::RuleSet& rs, const std::string& rcpt) {
    const auto& c = rs.compiled();
    std::optional<double> spam, suspect;
    auto take = [&](const rules::detail::ScopeThresholds& t) {
      if (!spam && t.spam) spam = t.spam_d;
      if (!suspect && t.suspect) suspect = t.suspect_d;
    };
    if (!rcpt.empty()) {
      if (auto it = c.user_thresholds.find(rcpt); it != c.user_thresholds.end()) take(it->second);
      size_t at = rcpt.rfind('@');
      if (at != std::string::npos)
        if (auto it = c.domain_thresholds.find(rcpt.substr(at + 1));
            it != c.domain_thresholds.end())
          take(it->second);
    }
    take(c.global_thresholds);
    return {spam.value_or(rules::kDefaultSpam), suspect.value_or(rules::kDefaultSuspect)};
  }

  std::shared_ptr<rules::RuleEngine> engine_;
};

std::shared_ptr<FeedbackSink> open_feedback(const std::string& path) {
  try {
    return std::make_shared<StoreFeedback>(path);
  } catch (const std::exception& e) {
    log_event(LogLevel::error, "feedback_store_unavailable",
              {{"path", path}, {"error", e.what()}, {"effect", "TELL and /v1/feedback refused"}});
    return nullptr;
  }
}

}  // namespace

PolicyBundle default_policies(const Config& c) {
  PolicyBundle b;
  if (c.server.rules_db.empty()) {
    b.policy = make_default_policy(c.verdict);
    b.feedback =
        open_feedback(c.server.feedback_db.empty() ? default_state_dir() + "/feedback.sqlite"
                                                   : c.server.feedback_db);
    return b;
  }
  // The rules database must open: a daemon told to decide by rules never
  // silently falls back to other decisions.
  auto store = std::make_shared<rules::Store>(c.server.rules_db);
  auto engine = std::make_shared<rules::RuleEngine>();
  engine->reload(*store);
  b.policy = std::make_shared<RulesPolicy>(engine);
  b.feedback = c.server.feedback_db.empty() ? std::make_shared<StoreFeedback>(store)
                                            : open_feedback(c.server.feedback_db);
  b.reload_rules = [engine, store] { engine->reload(*store); };
  b.poll_rules = [engine, store] { return engine->reload_if_changed(*store); };
  return b;
}

}  // namespace sf::service

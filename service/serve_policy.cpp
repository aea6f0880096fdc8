// serve_policy.cpp: see serve_policy.h.
#include "service/serve_policy.h"

namespace sf::service {
namespace {

class DefaultPolicy final : public Policy {
 public:
  explicit DefaultPolicy(const VerdictConfig& v) : v_(v) {}
  std::string name() const override { return "default"; }
  Decision decide(const ScanRequest&, double p, const std::vector<std::string>&) const override {
    Decision d;
    d.spam_threshold = v_.spam_threshold;
    if (p >= v_.spam_threshold) {
      d.verdict = Verdict::spam;
      d.rule = "default-spam";
      d.actions = {"move " + v_.spam_folder};
    } else if (p >= v_.suspect_threshold) {
      d.verdict = Verdict::suspect;
      d.rule = "default-suspect";
      d.actions = {"flag " + v_.suspect_keyword};
    } else {
      d.verdict = Verdict::ham;
      d.rule = "default-ham";
      d.actions = {"accept"};
    }
    return d;
  }

 private:
  VerdictConfig v_;
};

}  // namespace

std::shared_ptr<const Policy> make_default_policy(const VerdictConfig& v) {
  return std::make_shared<DefaultPolicy>(v);
}

}  // namespace sf::service

// The dynamic batcher (service/scheduler.h) and the scan engine every
// interface shares (service/serve_engine.h), driven through a backend with
// fault injection (tests/daemon_fixture.h): batching, max batch, max wait,
// deadline, queue full, backend errors, fail-open and fail-closed.
#include <gtest/gtest.h>

#include <condition_variable>
#include <future>

#include "daemon_fixture.h"
#include "service/scheduler.h"

using namespace sf::service;
using sf::test::FaultBackend;

namespace {

sf::model::Config two_labels() {
  sf::model::Config c;
  c.num_labels = 2;
  c.spam_label = 1;
  return c;
}

struct Collector {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<ScoreOutcome> outcomes;
  std::vector<Clock::time_point> times;

  std::shared_ptr<ScoreJob> job(int p_milli, Clock::duration deadline = std::chrono::seconds(30)) {
    auto j = std::make_shared<ScoreJob>();
    j->ids = {101, p_milli, 102};
    j->deadline = Clock::now() + deadline;
    j->done = [this](const ScoreOutcome& o) {
      std::lock_guard<std::mutex> lock(mu);
      outcomes.push_back(o);
      times.push_back(Clock::now());
      cv.notify_all();
    };
    return j;
  }
  bool wait_for(size_t n, std::chrono::seconds timeout = std::chrono::seconds(20)) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, timeout, [&] { return outcomes.size() >= n; });
  }
};

}  // namespace

TEST(Scheduler, ConcurrentSubmitsShareBackendCalls) {
  auto b = std::make_shared<FaultBackend>();
  SchedulerOptions o;
  o.max_batch = 64;
  o.max_wait = std::chrono::milliseconds(200);
  Scheduler s({b}, two_labels(), o);
  Collector c;
  constexpr int kJobs = 24;
  std::vector<std::thread> submitters;
  for (int t = 0; t < 4; ++t)
    submitters.emplace_back([&, t] {
      for (int i = 0; i < kJobs / 4; ++i)
        ASSERT_EQ(s.submit(c.job(100 + t * 10 + i)), Scheduler::Submit::queued);
    });
  for (auto& t : submitters) t.join();
  ASSERT_TRUE(c.wait_for(kJobs));
  EXPECT_LT(b->calls(), kJobs);
  EXPECT_LE(b->calls(), 3);  // everything arrived well inside one 200 ms window
  size_t total = 0;
  for (size_t n : b->batch_sizes()) total += n;
  EXPECT_EQ(total, static_cast<size_t>(kJobs));
  for (const auto& out : c.outcomes) {
    EXPECT_EQ(out.status, ScoreStatus::ok);
    EXPECT_GT(out.batch_size, 1u);
  }
}

TEST(Scheduler, ProbabilityComesFromTheBackendLogits) {
  auto b = std::make_shared<FaultBackend>();
  Scheduler s({b}, two_labels(), SchedulerOptions{});
  Collector c;
  ASSERT_EQ(s.submit(c.job(953)), Scheduler::Submit::queued);
  ASSERT_TRUE(c.wait_for(1));
  EXPECT_NEAR(c.outcomes[0].probability, 0.953, 1e-4);
}

TEST(Scheduler, NeverExceedsMaxBatch) {
  auto b = std::make_shared<FaultBackend>();
  SchedulerOptions o;
  o.max_batch = 4;
  o.max_wait = std::chrono::milliseconds(100);
  Scheduler s({b}, two_labels(), o);
  Collector c;
  for (int i = 0; i < 10; ++i) ASSERT_EQ(s.submit(c.job(500)), Scheduler::Submit::queued);
  ASSERT_TRUE(c.wait_for(10));
  for (size_t n : b->batch_sizes()) EXPECT_LE(n, 4u);
  EXPECT_GE(b->calls(), 3);
}

TEST(Scheduler, BackendMaxBatchCapsTheBatch) {
  auto b = std::make_shared<FaultBackend>();
  b->max_batch = 2;
  SchedulerOptions o;
  o.max_batch = 32;
  o.max_wait = std::chrono::milliseconds(100);
  Scheduler s({b}, two_labels(), o);
  Collector c;
  for (int i = 0; i < 6; ++i) ASSERT_EQ(s.submit(c.job(500)), Scheduler::Submit::queued);
  ASSERT_TRUE(c.wait_for(6));
  for (size_t n : b->batch_sizes()) EXPECT_LE(n, 2u);
}

TEST(Scheduler, LoneMessageWaitsAtMostMaxWait) {
  auto b = std::make_shared<FaultBackend>();
  SchedulerOptions o;
  o.max_batch = 8;
  o.max_wait = std::chrono::milliseconds(300);
  Scheduler s({b}, two_labels(), o);
  Collector c;
  const auto t0 = Clock::now();
  ASSERT_EQ(s.submit(c.job(10)), Scheduler::Submit::queued);
  ASSERT_TRUE(c.wait_for(1));
  const auto waited = c.times[0] - t0;
  // It waited for company for max_wait (not less), then ran alone.
  EXPECT_GE(waited, std::chrono::milliseconds(290));
  EXPECT_LT(waited, std::chrono::seconds(10));
  EXPECT_EQ(b->batch_sizes(), std::vector<size_t>{1});
}

TEST(Scheduler, FullBatchDoesNotWaitForMaxWait) {
  auto b = std::make_shared<FaultBackend>();
  SchedulerOptions o;
  o.max_batch = 3;
  o.max_wait = std::chrono::seconds(30);
  Scheduler s({b}, two_labels(), o);
  Collector c;
  for (int i = 0; i < 3; ++i) ASSERT_EQ(s.submit(c.job(10)), Scheduler::Submit::queued);
  ASSERT_TRUE(c.wait_for(3, std::chrono::seconds(10)));  // far less than the 30 s max_wait
  EXPECT_EQ(b->batch_sizes(), std::vector<size_t>{3});
}

TEST(Scheduler, ExpiredJobsAreNotRunAndReportDeadline) {
  auto b = std::make_shared<FaultBackend>();
  b->delay_ms = 400;
  SchedulerOptions o;
  o.max_batch = 1;
  o.max_wait = std::chrono::microseconds(0);
  Scheduler s({b}, two_labels(), o);
  Collector c;
  ASSERT_EQ(s.submit(c.job(100)), Scheduler::Submit::queued);  // occupies the backend
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_EQ(s.submit(c.job(200, std::chrono::milliseconds(100))), Scheduler::Submit::queued);
  ASSERT_TRUE(c.wait_for(2));
  int deadline = 0, ok = 0;
  for (const auto& out : c.outcomes) {
    deadline += out.status == ScoreStatus::deadline;
    ok += out.status == ScoreStatus::ok;
  }
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(deadline, 1);
  EXPECT_EQ(b->calls(), 1);  // the expired job never reached the backend
}

TEST(Scheduler, FullQueueRefusesAtSubmit) {
  auto b = std::make_shared<FaultBackend>();
  b->delay_ms = 300;
  SchedulerOptions o;
  o.max_batch = 1;
  o.max_wait = std::chrono::microseconds(0);
  o.queue_capacity = 2;
  Scheduler s({b}, two_labels(), o);
  Collector c;
  ASSERT_EQ(s.submit(c.job(1)), Scheduler::Submit::queued);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the backend took it
  EXPECT_EQ(s.submit(c.job(2)), Scheduler::Submit::queued);
  EXPECT_EQ(s.submit(c.job(3)), Scheduler::Submit::queued);
  auto refused = c.job(4);
  EXPECT_EQ(s.submit(refused), Scheduler::Submit::queue_full);
  EXPECT_FALSE(refused->claimed());  // left to the caller's policy
  EXPECT_EQ(s.queue_depth(), 2u);
  ASSERT_TRUE(c.wait_for(3));
}

TEST(Scheduler, BackendExceptionBecomesBackendErrorAndSchedulerGoesOn) {
  auto b = std::make_shared<FaultBackend>();
  b->fail = true;
  Scheduler s({b}, two_labels(), SchedulerOptions{});
  Collector c;
  ASSERT_EQ(s.submit(c.job(1)), Scheduler::Submit::queued);
  ASSERT_TRUE(c.wait_for(1));
  EXPECT_EQ(c.outcomes[0].status, ScoreStatus::backend_error);
  EXPECT_NE(c.outcomes[0].error.find("injected device failure"), std::string::npos);
  b->fail = false;
  ASSERT_EQ(s.submit(c.job(700)), Scheduler::Submit::queued);
  ASSERT_TRUE(c.wait_for(2));
  EXPECT_EQ(c.outcomes[1].status, ScoreStatus::ok);
  EXPECT_NEAR(c.outcomes[1].probability, 0.7, 1e-4);
}

TEST(Scheduler, StopRunsWhatWasQueuedThenRefuses) {
  auto b = std::make_shared<FaultBackend>();
  b->delay_ms = 50;
  SchedulerOptions o;
  o.max_batch = 1;
  Scheduler s({b}, two_labels(), o);
  Collector c;
  for (int i = 0; i < 5; ++i) ASSERT_EQ(s.submit(c.job(100)), Scheduler::Submit::queued);
  s.stop();
  EXPECT_EQ(c.outcomes.size(), 5u);
  for (const auto& out : c.outcomes) EXPECT_EQ(out.status, ScoreStatus::ok);
  EXPECT_EQ(s.submit(c.job(1)), Scheduler::Submit::stopped);
}

TEST(Scheduler, TwoReplicasBothServe) {
  auto b1 = std::make_shared<FaultBackend>();
  auto b2 = std::make_shared<FaultBackend>();
  b1->delay_ms = b2->delay_ms = 100;
  SchedulerOptions o;
  o.max_batch = 1;
  o.max_wait = std::chrono::microseconds(0);
  Scheduler s({b1, b2}, two_labels(), o);
  Collector c;
  for (int i = 0; i < 6; ++i) ASSERT_EQ(s.submit(c.job(100)), Scheduler::Submit::queued);
  ASSERT_TRUE(c.wait_for(6));
  EXPECT_GT(b1->calls(), 0);
  EXPECT_GT(b2->calls(), 0);
}

// ---- the engine: ScanRequest -> ScanResult, with the failure policy

namespace {

ScanResult scan_sync(sf::test::TestDaemon& d, std::string message, std::string iface = "test") {
  std::promise<ScanResult> done;
  ScanRequest r;
  r.interface = iface;
  r.message = std::move(message);
  d.engine.scan(std::move(r), [&](ScanResult res) { done.set_value(std::move(res)); });
  return done.get_future().get();
}

Config engine_config() {
  Config c;
  c.scheduler.max_wait_us = 0;
  c.scheduler.deadline_ms = 2000;
  return c;
}

}  // namespace

TEST(ScanEngine, VerdictsFollowTheThresholds) {
  sf::test::TestDaemon d(engine_config());
  d.start();
  ScanResult spam = scan_sync(d, "Subject: x\n\nP=953");
  EXPECT_EQ(spam.verdict, Verdict::spam);
  EXPECT_NEAR(spam.probability, 0.953, 1e-4);
  EXPECT_EQ(spam.rule, "default-spam");
  EXPECT_EQ(spam.actions, std::vector<std::string>{"move Junk"});
  EXPECT_EQ(spam.model, "test-model");
  EXPECT_EQ(spam.tokens, 3);
  EXPECT_EQ(spam.batch_size, 1);
  ScanResult suspect = scan_sync(d, "\nP=600");
  EXPECT_EQ(suspect.verdict, Verdict::suspect);
  EXPECT_EQ(suspect.actions, std::vector<std::string>{"flag $Suspect"});
  ScanResult ham = scan_sync(d, "\nP=100 TRUNC");
  EXPECT_EQ(ham.verdict, Verdict::ham);
  EXPECT_EQ(ham.actions, std::vector<std::string>{"accept"});
  EXPECT_EQ(ham.flags, std::vector<std::string>{"input_truncated"});
  EXPECT_EQ(d.metrics.requests("test", "spam"), 1u);
  EXPECT_EQ(d.metrics.requests("test", "ham"), 1u);
}

TEST(ScanEngine, SlowBackendFailsOpenAtTheDeadline) {
  Config c = engine_config();
  c.scheduler.deadline_ms = 150;
  sf::test::TestDaemon d(c);
  d.backend->delay_ms = 1500;
  d.start();
  const auto t0 = Clock::now();
  ScanResult r = scan_sync(d, "\nP=990");
  EXPECT_LT(Clock::now() - t0, std::chrono::milliseconds(1400));  // did not wait for the model
  EXPECT_EQ(r.verdict, Verdict::unchecked);
  EXPECT_EQ(r.reason, Unchecked::deadline);
  EXPECT_FALSE(r.tempfail);
  EXPECT_EQ(r.actions, std::vector<std::string>{"accept"});
  auto h = verdict_headers(r);
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[0].value, "unchecked");
  EXPECT_EQ(h[1].value, "unchecked reason=deadline model=test-model");
  EXPECT_NE(d.metrics.render().find("spamformer_unchecked_total{reason=\"deadline\"} 1"),
            std::string::npos);
}

TEST(ScanEngine, FailClosedTempfails) {
  Config c = engine_config();
  c.scheduler.deadline_ms = 100;
  c.scheduler.failure_policy = "closed";
  sf::test::TestDaemon d(c);
  d.backend->delay_ms = 1000;
  d.start();
  ScanResult r = scan_sync(d, "\nP=990");
  EXPECT_EQ(r.verdict, Verdict::unchecked);
  EXPECT_TRUE(r.tempfail);
  EXPECT_EQ(r.actions, std::vector<std::string>{"tempfail"});
  EXPECT_EQ(d.metrics.requests("test", "tempfail"), 1u);
}

TEST(ScanEngine, FullQueueFailsOpenWithItsReason) {
  Config c = engine_config();
  c.scheduler.queue_capacity = 1;
  c.scheduler.max_batch = 1;
  c.scheduler.deadline_ms = 5000;
  sf::test::TestDaemon d(c);
  d.backend->delay_ms = 400;
  d.start();
  std::vector<std::future<ScanResult>> results;
  for (int i = 0; i < 6; ++i)
    results.push_back(std::async(std::launch::async, [&] { return scan_sync(d, "\nP=500"); }));
  int full = 0, scored = 0;
  for (auto& f : results) {
    ScanResult r = f.get();
    if (r.verdict == Verdict::unchecked) {
      EXPECT_EQ(r.reason, Unchecked::queue_full);
      EXPECT_EQ(r.actions, std::vector<std::string>{"accept"});
      ++full;
    } else {
      ++scored;
    }
  }
  EXPECT_GE(full, 1);
  EXPECT_GE(scored, 1);
}

TEST(ScanEngine, BackendErrorFailsOpen) {
  sf::test::TestDaemon d(engine_config());
  d.backend->fail = true;
  d.start();
  ScanResult r = scan_sync(d, "\nP=990");
  EXPECT_EQ(r.verdict, Verdict::unchecked);
  EXPECT_EQ(r.reason, Unchecked::backend_error);
  EXPECT_FALSE(r.tempfail);
}

TEST(ScanEngine, BeforeTheModelIsLoadedMessagesPassUnchecked) {
  sf::test::TestDaemon d(engine_config(), /*ready=*/false);
  d.start();
  EXPECT_FALSE(d.engine.ready());
  ScanResult r = scan_sync(d, "\nP=990");
  EXPECT_EQ(r.reason, Unchecked::not_ready);
  d.engine.set_model(sf::test::test_model(d.backend));
  EXPECT_TRUE(d.engine.ready());
  EXPECT_EQ(scan_sync(d, "\nP=990").verdict, Verdict::spam);
}

TEST(ScanEngine, PreparationFailureFailsOpen) {
  sf::test::TestDaemon d(engine_config());
  d.start();
  ScanResult r = scan_sync(d, "\nTHROW");
  EXPECT_EQ(r.reason, Unchecked::prepare_error);
}

TEST(ScanEngine, ReconfigureChangesThresholdsForNewRequests) {
  sf::test::TestDaemon d(engine_config());
  d.start();
  EXPECT_EQ(scan_sync(d, "\nP=300").verdict, Verdict::ham);
  Config c = engine_config();
  c.verdict.spam_threshold = 0.25;
  c.verdict.suspect_threshold = 0.1;
  d.engine.reconfigure(engine_options(c), make_default_policy(c.verdict));
  ScanResult r = scan_sync(d, "\nP=300");
  EXPECT_EQ(r.verdict, Verdict::spam);
  EXPECT_DOUBLE_EQ(r.spam_threshold, 0.25);
}

TEST(ScanEngine, ConcurrentScansAreBatched) {
  Config c = engine_config();
  c.scheduler.max_wait_us = 200000;
  c.scheduler.max_batch = 64;
  sf::test::TestDaemon d(c);
  d.start();
  std::vector<std::future<ScanResult>> results;
  for (int i = 0; i < 16; ++i)
    results.push_back(std::async(std::launch::async, [&] { return scan_sync(d, "\nP=800"); }));
  for (auto& f : results) EXPECT_EQ(f.get().verdict, Verdict::suspect);
  EXPECT_LT(d.backend->calls(), 16);
}

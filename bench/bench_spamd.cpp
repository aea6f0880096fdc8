// bench_spamd.cpp: load generator for the spamd interface of a running
// `spamformer serve`: C concurrent clients, each sending what `spamc -c` sends
// (CHECK SPAMC/1.5, User, Content-length, the message) one connection per
// message, until N messages were answered. Prints messages/s and latency
// percentiles (p50, p90, p99, max) as one JSON line.
//
// Usage: bench_spamd --port P [--host 127.0.0.1] [--concurrency 32]
//                    [--messages 2000] [--command CHECK] FILE.eml...
// Only loopback or test-host addresses are meant as targets.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "service/net.h"

using sf::service::tcp;
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  std::string host = "127.0.0.1", command = "CHECK";
  int port = 0, concurrency = 32, messages = 2000;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "bench_spamd: " << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--port")
      port = std::stoi(next());
    else if (a == "--host")
      host = next();
    else if (a == "--concurrency")
      concurrency = std::stoi(next());
    else if (a == "--messages")
      messages = std::stoi(next());
    else if (a == "--command")
      command = next();
    else
      files.push_back(a);
  }
  if (port <= 0 || files.empty() || concurrency < 1 || messages < 1) {
    std::cerr << "usage: bench_spamd --port P [--host H] [--concurrency C] [--messages N] "
                 "[--command CHECK|PROCESS|SYMBOLS] FILE.eml...\n";
    return 2;
  }
  std::vector<std::string> requests;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string m = ss.str();
    requests.push_back(command + " SPAMC/1.5\r\nUser: bench\r\nContent-length: " +
                       std::to_string(m.size()) + "\r\n\r\n" + m);
  }
  const tcp::endpoint ep(asio::ip::make_address(host), static_cast<unsigned short>(port));
  std::atomic<int> next{0}, errors{0}, spam{0};
  std::vector<std::vector<double>> lat(static_cast<size_t>(concurrency));
  const auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < concurrency; ++c) {
    threads.emplace_back([&, c] {
      asio::io_context io;
      char buf[65536];
      for (int i; (i = next++) < messages;) {
        const auto s0 = Clock::now();
        boost::system::error_code ec;
        tcp::socket s(io);
        s.connect(ep, ec);
        if (!ec)
          asio::write(s, asio::buffer(requests[static_cast<size_t>(i) % requests.size()]), ec);
        if (!ec) s.shutdown(tcp::socket::shutdown_send, ec);
        std::string reply;
        while (!ec) {
          size_t n = s.read_some(asio::buffer(buf), ec);
          reply.append(buf, n);
        }
        if (reply.rfind("SPAMD/1.5 0 ", 0) != 0) {
          ++errors;
          continue;
        }
        if (reply.find("Spam: True") != std::string::npos) ++spam;
        lat[static_cast<size_t>(c)].push_back(
            std::chrono::duration<double, std::milli>(Clock::now() - s0).count());
      }
    });
  }
  for (auto& t : threads) t.join();
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::vector<double> all;
  for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double q) {
    return all.empty() ? 0.0 : all[std::min(all.size() - 1, static_cast<size_t>(q * all.size()))];
  };
  std::printf(
      "{\"command\":\"%s\",\"concurrency\":%d,\"messages\":%zu,\"errors\":%d,\"spam\":%d,"
      "\"seconds\":%.3f,\"messages_per_s\":%.1f,\"p50_ms\":%.2f,\"p90_ms\":%.2f,\"p99_ms\":%.2f,"
      "\"max_ms\":%.2f}\n",
      command.c_str(), concurrency, all.size(), errors.load(), spam.load(), secs,
      static_cast<double>(all.size()) / secs, pct(0.5), pct(0.9), pct(0.99),
      all.empty() ? 0.0 : all.back());
  return errors.load() == 0 ? 0 : 1;
}

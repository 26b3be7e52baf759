// ingress_load: the load generator of ops/bench/ingress (benchmark tooling, not part
// of any product binary). Sends signed, Clerk-like ~2 KB webhook deliveries over
// keep-alive connections, each with a fresh svix-id and timestamp, and reports
// throughput and latency percentiles as one `key=value` line.
//
//   closed loop (max throughput): every connection sends its next request as soon as
//     the previous answer arrived.
//   open loop (--rate R): requests are scheduled at fixed times (R per second over
//     all connections) and latency is measured from the scheduled time, so a stall
//     is charged to every request it delays (no coordinated omission, as in wrk2).
//     The schedule is paced in ticks (--tick-us, default 1000): each request is due
//     at the first tick at or after its exact time, and one timer per thread sends
//     whatever is due. With exact due times (--tick-us 0) the generator wakes up
//     once per request and spent about 1.5 times the CPU (BENCHMARKS.md), which the
//     servers it measures, sharing the machine's CPUs, paid for in latency.
//
// Built by ops/bench/ingress with: g++ -O2 -std=c++20 ingress_load.cpp -lcrypto -pthread
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <queue>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string host = "127.0.0.1";
  std::string port = "8080";
  std::string path = "/webhooks/clerk";
  std::string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  std::string label = "run";
  int connections = 32;
  int threads = 1;
  double duration = 10;
  double warmup = 2;
  double rate = 0;                       // 0: closed loop
  std::chrono::microseconds tick{1000};  ///< open-loop pacing; 0: exact due times
  std::size_t body_bytes = 2048;
};

std::string base64(const unsigned char* data, std::size_t n) {
  std::string out(4 * ((n + 2) / 3) + 1, '\0');
  int len =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(n));
  out.resize(static_cast<std::size_t>(len));
  return out;
}

std::string unbase64(const std::string& text) {
  std::string out(text.size(), '\0');
  int len = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(text.data()),
                            static_cast<int>(text.size()));
  if (len < 0) throw std::runtime_error("secret is not base64");
  std::size_t pad = 0;
  if (!text.empty() && text.back() == '=') ++pad;
  if (text.size() > 1 && text[text.size() - 2] == '=') ++pad;
  out.resize(static_cast<std::size_t>(len) - pad);
  return out;
}

std::string clerk_body(std::size_t target, std::uint64_t n) {
  std::string user = "user_2bench" + std::to_string(n % 5000);
  std::string body =
      R"({"data":{"backup_code_enabled":false,"banned":false,"create_organization_enabled":true,)"
      R"("created_at":1654012591514,"delete_self_enabled":true,"email_addresses":[{"email_address":)"
      R"("example@example.org","id":"idn_29w83yL7CwVlJXylYLxcslromF1","linked_to":[],"object":)"
      R"("email_address","reserved":false,"verification":{"attempts":null,"expire_at":null,)"
      R"("status":"verified","strategy":"admin"}}],"external_accounts":[],"external_id":null,)"
      R"("first_name":"Example","has_image":true,"id":")" +
      user +
      R"(","image_url":"https://img.clerk.com/eyJ0eXBlIjoiZGVmYXVsdCJ9","last_active_at":)"
      R"(1700000000000,"last_name":"Example","last_sign_in_at":1654012591514,"locked":false,)"
      R"("object":"user","passkeys":[],"password_enabled":true,"phone_numbers":[],)"
      R"("primary_email_address_id":"idn_29w83yL7CwVlJXylYLxcslromF1","primary_phone_number_id":)"
      R"(null,"private_metadata":{},"profile_image_url":"https://www.gravatar.com/avatar?d=mp",)"
      R"("public_metadata":{"notes":")";
  std::string tail =
      R"("},"saml_accounts":[],"totp_enabled":false,"two_factor_enabled":false,)"
      R"("unsafe_metadata":{},"updated_at":1654012824306,"username":null,"web3_wallets":[]},)"
      R"("event_attributes":{"http_request":{"client_ip":"192.0.2.1","user_agent":)"
      R"("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36"}},"instance_id":)"
      R"("ins_2bench","object":"event","timestamp":1654012824306,"type":"user.updated"})";
  std::size_t filler = target > body.size() + tail.size() ? target - body.size() - tail.size() : 0;
  body.append(filler, 'x');
  return body + tail;
}

/// The load's bodies differ only by their user (n % 5000): built once, up front,
/// so the generator spends its CPU on sockets and signatures, not string building.
constexpr std::uint64_t kDistinctBodies = 5000;

struct MacCtxFree {
  void operator()(EVP_MAC_CTX* ctx) const { EVP_MAC_CTX_free(ctx); }
};
using MacCtx = std::unique_ptr<EVP_MAC_CTX, MacCtxFree>;

struct Shared {
  Options options;
  std::string key;
  std::vector<std::string> bodies;  ///< clerk_body(n) for n < kDistinctBodies
  MacCtx keyed;                     ///< HMAC-SHA256 keyed with `key`; duplicated per request
  std::string run_id;
  Clock::time_point start;
  Clock::time_point measure_from;
  Clock::time_point stop_at;
  std::atomic<std::uint64_t> sequence{0};
};

struct Stats {
  std::vector<std::uint32_t> latencies_us;  ///< from the scheduled time (open loop) or the send
  std::vector<std::uint32_t> service_us;    ///< from the moment the request was written
  std::map<int, std::uint64_t> statuses;
  std::uint64_t errors = 0;
  std::uint64_t sent = 0;
};

class Connection;

/// Open-loop pacing for the connections of one thread: one timer, armed for the
/// earliest due time, sends every request that is due when it fires.
class Pacer {
 public:
  explicit Pacer(asio::io_context& io) : timer_(io) {}
  void add(Clock::time_point due, std::shared_ptr<Connection> connection) {
    waiting_.push(Waiting{due, std::move(connection)});
    if (!armed_ || due < armed_at_) arm(due);
  }

 private:
  struct Waiting {
    Clock::time_point due;
    std::shared_ptr<Connection> connection;
    bool operator>(const Waiting& other) const { return due > other.due; }
  };
  void arm(Clock::time_point at) {
    armed_ = true;
    armed_at_ = at;
    timer_.expires_at(at);  // cancels a wait for a later time
    timer_.async_wait([this](boost::system::error_code ec) {
      if (ec) return;  // re-armed for an earlier time
      armed_ = false;
      fire();
    });
  }
  void fire();

  asio::steady_timer timer_;
  std::priority_queue<Waiting, std::vector<Waiting>, std::greater<>> waiting_;
  bool armed_ = false;
  Clock::time_point armed_at_{};
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(asio::io_context& io, Pacer& pacer, Shared& shared, Stats& stats,
             tcp::endpoint endpoint, int index)
      : socket_(io),
        timer_(io),
        pacer_(pacer),
        shared_(shared),
        stats_(stats),
        endpoint_(endpoint),
        index_(index) {}

  void start() { connect(); }

 private:
  friend class Pacer;

  void connect() {
    auto self = shared_from_this();
    socket_ = tcp::socket(timer_.get_executor());
    socket_.async_connect(endpoint_, [self](boost::system::error_code ec) {
      if (ec) {
        ++self->stats_.errors;
        self->timer_.expires_after(std::chrono::milliseconds(100));
        self->timer_.async_wait([self](boost::system::error_code) { self->connect(); });
        return;
      }
      self->socket_.set_option(tcp::no_delay(true));
      self->schedule();
    });
  }

  // Open loop: slot k of connection c is due at start + (c + k * N) / rate.
  void schedule() {
    const Options& o = shared_.options;
    if (o.rate <= 0) {
      due_ = Clock::now();
      return send();
    }
    auto offset = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>((index_ + slot_ * o.connections) / o.rate));
    ++slot_;
    if (o.tick.count() > 0) {
      Clock::duration tick = o.tick;
      offset = (offset + tick - Clock::duration(1)) / tick * tick;
    }
    due_ = shared_.start + offset;
    if (due_ > Clock::now()) return pacer_.add(due_, shared_from_this());
    send();
  }

  void send() {
    if (due_ >= shared_.stop_at) return;  // done
    std::uint64_t n = shared_.sequence.fetch_add(1);
    std::string id = "msg_" + shared_.run_id + "_" + std::to_string(n);
    const std::string& body = shared_.bodies[n % kDistinctBodies];
    std::string ts = std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
    unsigned char mac[EVP_MAX_MD_SIZE];
    std::size_t mac_len = 0;
    MacCtx ctx(EVP_MAC_CTX_dup(shared_.keyed.get()));
    auto update = [&](std::string_view part) {
      EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(part.data()), part.size());
    };
    update(id);
    update(".");
    update(ts);
    update(".");
    update(body);
    EVP_MAC_final(ctx.get(), mac, &mac_len, sizeof mac);
    request_.clear();
    request_.append("POST ").append(shared_.options.path).append(" HTTP/1.1\r\nHost: ");
    request_.append(shared_.options.host)
        .append("\r\nContent-Type: application/json\r\nContent-Length: ")
        .append(std::to_string(body.size()));
    request_.append("\r\nsvix-id: ").append(id).append("\r\nsvix-timestamp: ").append(ts);
    request_.append("\r\nsvix-signature: v1,")
        .append(base64(mac, static_cast<unsigned int>(mac_len)))
        .append("\r\n\r\n")
        .append(body);
    sent_at_ = Clock::now();
    if (shared_.options.rate <= 0) due_ = sent_at_;
    ++stats_.sent;
    auto self = shared_from_this();
    asio::async_write(socket_, asio::buffer(request_),
                      [self](boost::system::error_code ec, std::size_t) {
                        if (ec) return self->fail();
                        self->read();
                      });
  }

  void read() {
    auto self = shared_from_this();
    std::size_t old = in_.size();
    in_.resize(old + 4096);
    socket_.async_read_some(asio::buffer(in_.data() + old, 4096),
                            [self, old](boost::system::error_code ec, std::size_t n) {
                              self->in_.resize(old + n);
                              if (ec) return self->fail();
                              self->parse();
                            });
  }

  void parse() {
    std::size_t end = in_.find("\r\n\r\n");
    if (end == std::string::npos) return read();
    int status = std::atoi(in_.c_str() + 9);
    std::string head = in_.substr(0, end);
    for (char& c : head)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    bool close = head.find("connection: close") != std::string::npos;
    std::size_t consumed = 0;
    if (head.find("transfer-encoding: chunked") != std::string::npos) {
      // Small bodies in one chunk: the message ends at the last-chunk marker.
      std::size_t last = in_.find("0\r\n\r\n", end + 4);
      if (last == std::string::npos) return read();
      consumed = last + 5;
    } else {
      std::size_t length = 0;
      std::size_t at = head.find("content-length: ");
      if (at != std::string::npos) length = std::strtoul(head.c_str() + at + 16, nullptr, 10);
      if (in_.size() < end + 4 + length) return read();
      consumed = end + 4 + length;
    }
    in_.erase(0, consumed);
    auto now = Clock::now();
    if (due_ >= shared_.measure_from && now <= shared_.stop_at + std::chrono::seconds(5)) {
      stats_.latencies_us.push_back(static_cast<std::uint32_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(now - due_).count()));
      stats_.service_us.push_back(static_cast<std::uint32_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(now - sent_at_).count()));
      ++stats_.statuses[status];
    }
    if (close) {
      boost::system::error_code ignored;
      socket_.close(ignored);
      in_.clear();
      return connect();
    }
    schedule();
  }

  void fail() {
    ++stats_.errors;
    boost::system::error_code ignored;
    socket_.close(ignored);
    in_.clear();
    if (Clock::now() < shared_.stop_at) connect();
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  Pacer& pacer_;
  Shared& shared_;
  Stats& stats_;
  tcp::endpoint endpoint_;
  int index_;
  std::uint64_t slot_ = 0;
  Clock::time_point due_{};
  Clock::time_point sent_at_{};
  std::string request_;
  std::string in_;
};

void Pacer::fire() {
  auto now = Clock::now();
  while (!waiting_.empty() && waiting_.top().due <= now) {
    std::shared_ptr<Connection> connection = waiting_.top().connection;
    waiting_.pop();
    connection->send();
  }
  if (!waiting_.empty()) arm(waiting_.top().due);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--target") {
      std::string t = value();
      o.host = t.substr(0, t.rfind(':'));
      o.port = t.substr(t.rfind(':') + 1);
    } else if (arg == "--connections") {
      o.connections = std::stoi(value());
    } else if (arg == "--threads") {
      o.threads = std::stoi(value());
    } else if (arg == "--duration") {
      o.duration = std::stod(value());
    } else if (arg == "--warmup") {
      o.warmup = std::stod(value());
    } else if (arg == "--rate") {
      o.rate = std::stod(value());
    } else if (arg == "--tick-us") {
      o.tick = std::chrono::microseconds(std::stoll(value()));
    } else if (arg == "--secret") {
      o.secret = value();
    } else if (arg == "--body-bytes") {
      o.body_bytes = std::stoul(value());
    } else if (arg == "--label") {
      o.label = value();
    } else if (arg == "--path") {
      o.path = value();
    } else {
      std::fprintf(stderr,
                   "usage: ingress_load --target HOST:PORT [--connections N] [--threads T]\n"
                   "  [--duration S] [--warmup S] [--rate R (0 = closed loop)]\n"
                   "  [--tick-us U (open-loop pacing, default 1000; 0 = exact due times)]\n"
                   "  [--secret whsec_...] [--body-bytes B] [--label L] [--path P]\n");
      std::exit(arg == "--help" ? 0 : 2);
    }
  }
  return o;
}

double percentile(const std::vector<std::uint32_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  std::size_t at = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(at, sorted.size() - 1)] / 1000.0;
}

}  // namespace

int main(int argc, char** argv) {
  Shared shared;
  try {
    shared.options = parse(argc, argv);
  } catch (const std::exception& e) {  // a missing or malformed value
    std::fprintf(stderr, "ingress_load: bad arguments: %s (try --help)\n", e.what());
    return 2;
  }
  const Options& o = shared.options;
  std::string secret = o.secret.rfind("whsec_", 0) == 0 ? o.secret.substr(6) : o.secret;
  shared.key = unbase64(secret);
  for (std::uint64_t n = 0; n < kDistinctBodies; ++n)
    shared.bodies.push_back(clerk_body(o.body_bytes, n));
  {
    EVP_MAC* hmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest, 0),
                           OSSL_PARAM_construct_end()};
    shared.keyed.reset(EVP_MAC_CTX_new(hmac));
    EVP_MAC_free(hmac);
    if (!shared.keyed ||
        EVP_MAC_init(shared.keyed.get(), reinterpret_cast<const unsigned char*>(shared.key.data()),
                     shared.key.size(), params) != 1) {
      std::fprintf(stderr, "ingress_load: cannot set up HMAC-SHA256\n");
      return 2;
    }
  }
  shared.run_id =
      o.label +
      std::to_string(std::chrono::system_clock::now().time_since_epoch().count() % 1000000007);

  asio::io_context resolver_io;
  tcp::resolver resolver(resolver_io);
  tcp::endpoint endpoint = *resolver.resolve(o.host, o.port).begin();

  std::vector<std::unique_ptr<asio::io_context>> ios;
  std::vector<std::unique_ptr<Pacer>> pacers;
  std::vector<Stats> stats(static_cast<std::size_t>(o.threads));
  for (int t = 0; t < o.threads; ++t) {
    ios.push_back(std::make_unique<asio::io_context>(1));
    pacers.push_back(std::make_unique<Pacer>(*ios.back()));
  }
  shared.start = Clock::now() + std::chrono::milliseconds(200);
  shared.measure_from = shared.start + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(o.warmup));
  shared.stop_at = shared.measure_from + std::chrono::duration_cast<Clock::duration>(
                                             std::chrono::duration<double>(o.duration));
  for (int c = 0; c < o.connections; ++c) {
    std::size_t t = static_cast<std::size_t>(c % o.threads);
    auto connection =
        std::make_shared<Connection>(*ios[t], *pacers[t], shared, stats[t], endpoint, c);
    asio::post(*ios[t], [connection] { connection->start(); });
  }
  std::vector<std::thread> threads;
  for (auto& io : ios) {
    threads.emplace_back([&io, &shared] {
      // Runs until every connection stopped sending, plus a grace period.
      auto guard = asio::make_work_guard(*io);
      asio::steady_timer deadline(*io);
      deadline.expires_at(shared.stop_at + std::chrono::seconds(5));
      deadline.async_wait([&io](boost::system::error_code) { io->stop(); });
      io->run();
    });
  }
  for (auto& t : threads)
    t.join();

  Stats all;
  for (auto& s : stats) {
    all.latencies_us.insert(all.latencies_us.end(), s.latencies_us.begin(), s.latencies_us.end());
    all.service_us.insert(all.service_us.end(), s.service_us.begin(), s.service_us.end());
    for (auto& [k, v] : s.statuses)
      all.statuses[k] += v;
    all.errors += s.errors;
    all.sent += s.sent;
  }
  std::sort(all.latencies_us.begin(), all.latencies_us.end());
  std::sort(all.service_us.begin(), all.service_us.end());
  std::uint64_t ok = 0;
  std::uint64_t other = 0;
  std::string by_status;
  for (auto& [status, count] : all.statuses) {
    (status / 100 == 2 ? ok : other) += count;
    by_status +=
        (by_status.empty() ? "" : ",") + std::to_string(status) + ":" + std::to_string(count);
  }
  std::printf(
      "label=%s connections=%d rate=%.0f seconds=%.1f completed=%zu ok=%llu non2xx=%llu "
      "errors=%llu rps=%.0f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f p999_ms=%.2f max_ms=%.2f "
      "svc_p50_ms=%.2f svc_p99_ms=%.2f statuses=%s\n",
      o.label.c_str(), o.connections, o.rate, o.duration, all.latencies_us.size(),
      static_cast<unsigned long long>(ok), static_cast<unsigned long long>(other),
      static_cast<unsigned long long>(all.errors), static_cast<double>(ok) / o.duration,
      percentile(all.latencies_us, 0.50), percentile(all.latencies_us, 0.90),
      percentile(all.latencies_us, 0.99), percentile(all.latencies_us, 0.999),
      all.latencies_us.empty() ? 0.0 : all.latencies_us.back() / 1000.0,
      percentile(all.service_us, 0.50), percentile(all.service_us, 0.99),
      by_status.empty() ? "-" : by_status.c_str());
  return 0;
}

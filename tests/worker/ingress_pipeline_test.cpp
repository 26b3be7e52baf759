// The whole pipeline over HTTP: signed Standard Webhooks requests to
// clerk-mirror-ingress, the broker, two clerk-mirror workers, PostgreSQL; the
// final tables equal the model of the delivered history.
#include <curl/curl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/socket.h>

#include <catch2/catch.hpp>

#include "worker/support/pipeline.hpp"
#include "worker/support/scratch_database.hpp"

using namespace worker_test;

namespace {

std::string base64(const unsigned char* data, std::size_t size) {
  std::string out(4 * ((size + 2) / 3) + 1, '\0');
  int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

/// Standard Webhooks: v1,base64(HMAC-SHA256(key, "<id>.<timestamp>.<body>")).
std::string sign(const std::string& key, const std::string& id, const std::string& timestamp,
                 const std::string& body) {
  std::string signed_content = id + "." + timestamp + "." + body;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(signed_content.data()), signed_content.size(), mac,
       &mac_size);
  return "v1," + base64(mac, mac_size);
}

int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

long http_status(CURL* curl) {
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  return status;
}

std::size_t discard(char*, std::size_t size, std::size_t n, void*) {
  return size * n;
}

}  // namespace

TEST_CASE("signed webhooks through the ingress over HTTP converge to the model", "[e2e]") {
  std::string brokers = test_support::require_env("KAFKA_BROKERS");
  TopicFamily topic(brokers, 4, 2);
  ScratchDatabase db;
  HistoryOptions options;
  options.users = 60;
  options.organizations = 15;
  options.memberships = 100;
  options.id_prefix = "i_";
  auto history = make_history(777, options);
  {
    // One body near the ingress's default limit of 1 MiB, which is more than
    // librdkafka's default message.max.bytes: it must go all the way through.
    HistoryEvent big;
    big.event_id = "msg_i_big";
    big.kind = Kind::kUser;
    big.type = "user.created";
    big.entity_id = big.key = "user_i_big";
    big.version = big.fields_version = 1700000050000;
    big.timestamp = big.version + 1;
    big.label = "big";
    std::string data = user_data(big.entity_id, big.version, big.label);
    std::string notes;
    std::uint32_t x = 12345;
    while (notes.size() < 1'040'000) {  // letters an LZ4 block does not shrink much
      x = x * 1103515245 + 12345;
      notes += static_cast<char>('a' + (x >> 16) % 26);
    }
    auto at = data.find("\"private_metadata\":{");
    REQUIRE(at != std::string::npos);
    data.insert(at + 20, "\"notes\":\"" + notes + "\",");
    big.json = envelope(big.type, data, big.timestamp);
    REQUIRE(big.json.size() > 1'000'000);
    REQUIRE(big.json.size() <= 1024 * 1024);
    history.insert(history.begin() + static_cast<std::ptrdiff_t>(history.size() / 2), big);
  }

  const std::string key = "clerk-mirror-e2e-secret-key!";
  const std::string secret =
      "whsec_" + base64(reinterpret_cast<const unsigned char*>(key.data()), key.size());
  int port = free_port();
  test_support::ChildProcess ingress(
      logged({test_support::binary("clerk-mirror-ingress")},
             {{"KAFKA_BROKERS", brokers},
              {"KAFKA_TOPIC", topic.name},
              {"CLERK_WEBHOOK_SECRET", secret},
              {"INGRESS_LISTEN", "127.0.0.1:" + std::to_string(port)},
              {"INGRESS_RECENT_IDS", "0"},  // let redeliveries reach the worker
              {"INGRESS_LOG_LEVEL", "warn"}},
             log_file("ingress")));
  std::string group = test_support::unique_name("group");
  WorkerProcess a(worker_env(brokers, topic.name, db.url(), group), log_file("http-a"));
  WorkerProcess b(worker_env(brokers, topic.name, db.url(), group), log_file("http-b"));

  std::string base = "http://127.0.0.1:" + std::to_string(port);
  CURL* curl = curl_easy_init();
  REQUIRE(curl != nullptr);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 20L);
  REQUIRE(wait_until(
      [&] {
        curl_easy_setopt(curl, CURLOPT_URL, (base + "/healthz").c_str());
        curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
        return curl_easy_perform(curl) == CURLE_OK && http_status(curl) == 200;
      },
      std::chrono::seconds(30)));

  curl_easy_setopt(curl, CURLOPT_URL, (base + "/webhooks/clerk").c_str());
  int rejected = 0;
  for (const auto& e : history) {
    std::string timestamp = std::to_string(std::time(nullptr));
    struct curl_slist* headers = nullptr;
    headers = curl_slist_append(headers, "Content-Type: application/json");
    headers = curl_slist_append(headers, ("svix-id: " + e.event_id).c_str());
    headers = curl_slist_append(headers, ("svix-timestamp: " + timestamp).c_str());
    headers = curl_slist_append(
        headers, ("svix-signature: " + sign(key, e.event_id, timestamp, e.json)).c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, e.json.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(e.json.size()));
    CURLcode rc = curl_easy_perform(curl);
    if (rc != CURLE_OK || http_status(curl) / 100 != 2) ++rejected;
    curl_slist_free_all(headers);
  }
  curl_easy_cleanup(curl);
  CHECK(rejected == 0);

  auto total = static_cast<std::int64_t>(history.size());
  REQUIRE(wait_until([&] { return audited(db.url()) >= total; }, std::chrono::seconds(90)));
  CHECK(audited(db.url()) == total);
  auto diff = diff_tables(expected_tables(history), actual_tables(db.url()));
  for (const auto& line : diff)
    UNSCOPED_INFO(line);
  CHECK(diff.empty());
  // The ingress's headers reached the audit trail: svix-id as event id, source webhook.
  CHECK(scalar(db.url(),
               "select count(*) from clerk.applied_events where source <> 'webhook' "
               "or event_id not like 'msg_%'") == 0);
  CHECK(a.stop() == 0);
  CHECK(b.stop() == 0);
  ingress.signal(SIGTERM);
  CHECK(ingress.wait_for(std::chrono::seconds(20)));
}

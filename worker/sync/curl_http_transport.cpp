#include "worker/sync/curl_http_transport.hpp"

#include <curl/curl.h>

#include <cctype>
#include <mutex>
#include <stdexcept>
#include <string_view>

namespace worker::sync {
namespace {

std::once_flag curl_initialised;

std::size_t append_body(char* data, std::size_t size, std::size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

bool starts_with_ci(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) !=
        std::tolower(static_cast<unsigned char>(prefix[i])))
      return false;
  }
  return true;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  return text;
}

std::size_t read_header(char* data, std::size_t size, std::size_t count, void* user) {
  std::string_view line(data, size * count);
  constexpr std::string_view kRetryAfter = "retry-after:";
  // A new status line (redirects, 100-continue) starts a new header block.
  if (starts_with_ci(line, "HTTP/")) static_cast<std::string*>(user)->clear();
  if (starts_with_ci(line, kRetryAfter)) {
    *static_cast<std::string*>(user) = std::string(trim(line.substr(kRetryAfter.size())));
  }
  return size * count;
}

}  // namespace

struct CurlHttpTransport::Impl {
  CURL* handle = nullptr;
  std::function<bool()> cancelled;
};

namespace {

int check_cancelled(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto& cancelled = static_cast<CurlHttpTransport::Impl*>(user)->cancelled;
  return cancelled && cancelled() ? 1 : 0;
}

}  // namespace

CurlHttpTransport::CurlHttpTransport(std::function<bool()> cancelled)
    : impl_(std::make_unique<Impl>()) {
  impl_->cancelled = std::move(cancelled);
  std::call_once(curl_initialised, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  impl_->handle = curl_easy_init();
  if (impl_->handle == nullptr) throw std::runtime_error("curl_easy_init failed");
}

CurlHttpTransport::~CurlHttpTransport() {
  curl_easy_cleanup(impl_->handle);
}

HttpResponse CurlHttpTransport::get(const std::string& url, const std::vector<std::string>& headers,
                                    std::chrono::milliseconds timeout) {
  CURL* h = impl_->handle;
  HttpResponse response;
  curl_slist* list = nullptr;
  for (const auto& header : headers)
    list = curl_slist_append(list, header.c_str());
  curl_easy_reset(h);
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");  // whatever curl can decode
  curl_easy_setopt(h, CURLOPT_USERAGENT, "clerk-mirror");
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, read_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &response.retry_after);
  if (impl_->cancelled) {
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, check_cancelled);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, impl_.get());
  }
  CURLcode code = curl_easy_perform(h);
  curl_slist_free_all(list);
  // Never keep the Authorization header on the reused handle longer than needed.
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
  if (code == CURLE_OK) {
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    response.status = static_cast<int>(status);
    return response;
  }
  response.error = curl_easy_strerror(code);
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      response.transport = HttpResponse::Transport::kTimedOut;
      break;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
      response.transport = HttpResponse::Transport::kConnectFailed;
      break;
    default:
      response.transport = HttpResponse::Transport::kFailed;
      break;
  }
  return response;
}

}  // namespace worker::sync

// Standard Webhooks verification: reference vectors and boundaries (pure, no I/O).
#include <catch2/catch.hpp>
#include <future>
#include <string>
#include <vector>

#include "ingress/signature/base64.hpp"
#include "ingress/signature/signature_verifier.hpp"
#include "ingress/signature/webhook_headers.hpp"
#include "ingress/signature/webhook_secret.hpp"
#include "support/ingress_test_support.hpp"

using namespace ingress::signature;
using ingress_test::secret;

namespace {

// The published Standard Webhooks / Svix test vector.
constexpr std::string_view kVectorId = "msg_p5jXN8AQM9LWM0D4loKWxJek";
constexpr std::int64_t kVectorTimestamp = 1614265330;
constexpr std::string_view kVectorBody = R"({"test": 2432232314})";
constexpr std::string_view kVectorSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
// From the reference Go library's tests: a well-formed signature that does not match.
constexpr std::string_view kWrongSignature = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=";

SignatureVerifier vector_verifier() {
  std::vector<WebhookSecret> secrets{secret(ingress_test::kTestSecret)};
  return SignatureVerifier(std::move(secrets), std::chrono::seconds(300));
}

VerifyResult verify_vector(const SignatureVerifier& verifier, std::string_view signature,
                           std::int64_t now = kVectorTimestamp, std::string_view body = kVectorBody,
                           std::string_view timestamp = "1614265330",
                           std::string_view id = kVectorId) {
  return verifier.verify({id, timestamp, signature}, body, now);
}

}  // namespace

TEST_CASE("the Standard Webhooks reference vector signs and verifies", "[unit][signature]") {
  auto verifier = vector_verifier();
  CHECK(verifier.sign(0, kVectorId, kVectorTimestamp, kVectorBody) == kVectorSignature);
  VerifyResult result = verify_vector(verifier, kVectorSignature);
  CHECK(result.ok());
  CHECK(result.secret_index == 0);
  CHECK(result.timestamp == kVectorTimestamp);
}

TEST_CASE("the reference library's negative and multi-signature vectors", "[unit][signature]") {
  auto verifier = vector_verifier();
  CHECK(verify_vector(verifier, kWrongSignature).error == VerifyError::kNoMatchingSignature);
  // "valid multi sig is valid": v1 wrong, v2 (unknown version), valid, v1 wrong.
  std::string multi =
      std::string(kWrongSignature) +
      " v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= " + std::string(kVectorSignature) + " " +
      std::string(kWrongSignature);
  CHECK(verify_vector(verifier, multi).ok());
}

TEST_CASE("the timestamp tolerance is 300 s each way, inclusive", "[unit][signature]") {
  auto verifier = vector_verifier();
  CHECK(verify_vector(verifier, kVectorSignature, kVectorTimestamp + 300).ok());
  CHECK(verify_vector(verifier, kVectorSignature, kVectorTimestamp + 301).error ==
        VerifyError::kTimestampTooOld);
  CHECK(verify_vector(verifier, kVectorSignature, kVectorTimestamp - 300).ok());
  CHECK(verify_vector(verifier, kVectorSignature, kVectorTimestamp - 301).error ==
        VerifyError::kTimestampTooNew);
  // Milliseconds sent as seconds are far in the future (row 26).
  CHECK(verify_vector(verifier, kVectorSignature, kVectorTimestamp, kVectorBody, "1614265330000")
            .error == VerifyError::kTimestampTooNew);
  // A captured request replayed after 5 minutes (row 44).
  CHECK(verify_vector(verifier, kVectorSignature, kVectorTimestamp + 3600).error ==
        VerifyError::kTimestampTooOld);
}

TEST_CASE("rotation: any entry matching any configured secret is enough", "[unit][signature]") {
  std::vector<WebhookSecret> secrets{secret(ingress_test::kOtherSecret),
                                     secret(ingress_test::kTestSecret)};
  SignatureVerifier verifier(std::move(secrets), std::chrono::seconds(300));
  // Signed with the second configured secret only.
  VerifyResult result = verify_vector(verifier, kVectorSignature);
  REQUIRE(result.ok());
  CHECK(result.secret_index == 1);

  // Two entries during the sender's rotation: old key and new key.
  std::string old_key_sig = verifier.sign(0, kVectorId, kVectorTimestamp, kVectorBody);
  std::string both = old_key_sig + " " + std::string(kVectorSignature);
  result = verify_vector(verifier, both);
  REQUIRE(result.ok());
  CHECK(result.secret_index == 0);

  // An entry from a secret we do not have, then a good one.
  std::string unknown_then_good = std::string(kWrongSignature) + " " + old_key_sig;
  CHECK(verify_vector(verifier, unknown_then_good).ok());
}

TEST_CASE("verifiers keep their own keys across calls, threads and lifetimes",
          "[unit][signature]") {
  // Each thread keeps copies of a verifier's keyed contexts; they must never answer
  // for another verifier, even one built where a freed one lived.
  auto check_pair = [] {
    auto test_key = vector_verifier();
    SignatureVerifier other_key({secret(ingress_test::kOtherSecret)}, std::chrono::seconds(300));
    std::string other_signature = other_key.sign(0, kVectorId, kVectorTimestamp, kVectorBody);
    for (int i = 0; i < 50; ++i) {
      if (!verify_vector(test_key, kVectorSignature).ok()) return false;
      if (verify_vector(other_key, kVectorSignature).ok()) return false;
      if (!verify_vector(other_key, other_signature).ok()) return false;
      if (verify_vector(test_key, other_signature).ok()) return false;
      if (verify_vector(test_key, kVectorSignature, kVectorTimestamp, R"({"test": 2432232315})")
              .ok()) {
        return false;
      }
    }
    return true;
  };
  for (int lifetime = 0; lifetime < 3; ++lifetime)
    CHECK(check_pair());
  std::vector<std::future<bool>> threads;
  for (int t = 0; t < 4; ++t)
    threads.push_back(std::async(std::launch::async, check_pair));
  for (auto& result : threads)
    CHECK(result.get());
}

TEST_CASE("a secret without the whsec_ prefix is the same key", "[unit][signature]") {
  std::string problem;
  auto with = parse_webhook_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", problem);
  auto without = parse_webhook_secret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", problem);
  REQUIRE(with);
  REQUIRE(without);
  CHECK(with->key == without->key);
  CHECK(with->key.size() == 24);
  SignatureVerifier verifier({*without}, std::chrono::seconds(300));
  CHECK(verify_vector(verifier, kVectorSignature).ok());
}

TEST_CASE("secrets: padding optional, bad base64 refused without echoing the secret",
          "[unit][signature]") {
  std::string problem;
  auto padded = parse_webhook_secret("whsec_c2Vjb25kLXNlY3JldC1mb3ItdGVzdHMtb25seQ==", problem);
  auto unpadded = parse_webhook_secret("whsec_c2Vjb25kLXNlY3JldC1mb3ItdGVzdHMtb25seQ", problem);
  REQUIRE(padded);
  REQUIRE(unpadded);
  CHECK(padded->key == "second-secret-for-tests-only");
  CHECK(padded->key == unpadded->key);
  for (std::string_view bad : {"whsec_", "whsec_not base64!", "whsec_abc=def", "whsec_A",
                               "whsec_c2Vjb25k-_", "whsec_QR==", "whsec_===="}) {
    problem.clear();
    CHECK_FALSE(parse_webhook_secret(bad, problem));
    CHECK_FALSE(problem.empty());
    if (bad.size() > 6) CHECK(problem.find(bad.substr(6)) == std::string::npos);
  }
}

TEST_CASE("base64 decoding is strict and canonical", "[unit][signature]") {
  CHECK(decode_base64("QUJD", Padding::kRequired) == std::optional<std::string>("ABC"));
  CHECK(decode_base64("QUI=", Padding::kRequired) == std::optional<std::string>("AB"));
  CHECK(decode_base64("QQ==", Padding::kRequired) == std::optional<std::string>("A"));
  CHECK(decode_base64("QQ", Padding::kOptional) == std::optional<std::string>("A"));
  CHECK_FALSE(decode_base64("QQ", Padding::kRequired));
  CHECK_FALSE(decode_base64("QR==", Padding::kRequired));  // non-zero unused bits
  CHECK_FALSE(decode_base64("Q===", Padding::kOptional));
  CHECK_FALSE(decode_base64("QQ=", Padding::kOptional));
  CHECK_FALSE(decode_base64("QU JD", Padding::kOptional));
  CHECK_FALSE(decode_base64("QU-_", Padding::kOptional));
  CHECK(decode_base64("", Padding::kRequired) == std::optional<std::string>(""));
  for (std::string text : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    CHECK(decode_base64(encode_base64(text), Padding::kRequired) == std::optional(text));
  }
  CHECK(encode_base64("foobar") == "Zm9vYmFy");
  CHECK(encode_base64("fooba") == "Zm9vYmE=");
}

TEST_CASE("a v1 entry must be the padded 32-byte base64 a signer emits", "[unit][signature]") {
  auto verifier = vector_verifier();
  std::string value = std::string(kVectorSignature.substr(3));
  // Without the padding the reference libraries' string comparison would fail too.
  std::string unpadded = "v1," + value.substr(0, value.size() - 1);
  CHECK(verify_vector(verifier, unpadded).error == VerifyError::kNoMatchingSignature);
  // Same bytes, different unused bits: not the canonical encoding.
  std::string tweaked = std::string(kVectorSignature);
  tweaked[tweaked.size() - 2] = 'F';  // "...1OE=" -> "...1OF=" decodes to the same 32 bytes
  CHECK(verify_vector(verifier, tweaked).error == VerifyError::kNoMatchingSignature);
  // Malformed entries are skipped, a later good one still verifies (row 28).
  std::string mixed = "nocomma v1, v1,!!!! v1,QUJD " + std::string(kVectorSignature);
  CHECK(verify_vector(verifier, mixed).ok());
  CHECK(verify_vector(verifier, "nocomma v1, v1,!!!! v1,QUJD").error ==
        VerifyError::kNoMatchingSignature);
  // Only unknown versions (row 29).
  std::string versions = "v2," + value + " v1a," + value + " V1," + value;
  CHECK(verify_vector(verifier, versions).error == VerifyError::kNoMatchingSignature);
  CHECK(verify_vector(verifier, "").error == VerifyError::kNoMatchingSignature);
}

TEST_CASE("an altered or re-serialised body does not verify", "[unit][signature]") {
  auto verifier = vector_verifier();
  CHECK(verify_vector(verifier, kVectorSignature, kVectorTimestamp, R"({"test": 2432232315})")
            .error == VerifyError::kNoMatchingSignature);
  CHECK(
      verify_vector(verifier, kVectorSignature, kVectorTimestamp, R"({"test":2432232314})").error ==
      VerifyError::kNoMatchingSignature);
  CHECK(verify_vector(verifier, kVectorSignature, kVectorTimestamp, std::string(kVectorBody) + "\n")
            .error == VerifyError::kNoMatchingSignature);
  // The id and the timestamp are signed too.
  CHECK(verify_vector(verifier, kVectorSignature, kVectorTimestamp, kVectorBody, "1614265330",
                      "msg_p5jXN8AQM9LWM0D4loKWxJeK")
            .error == VerifyError::kNoMatchingSignature);
  CHECK(verify_vector(verifier, kVectorSignature, kVectorTimestamp, kVectorBody, "01614265330")
            .error == VerifyError::kNoMatchingSignature);
}

TEST_CASE("timestamps must be plain decimal seconds (row 24)", "[unit][signature]") {
  auto verifier = vector_verifier();
  for (std::string_view bad : {"hello", "1.5", "+123", "", "-5", " 1614265330", "1614265330 ",
                               "0x10", "12345678901234567890", "1e9"}) {
    CAPTURE(bad);
    CHECK(verify_vector(verifier, kVectorSignature, kVectorTimestamp, kVectorBody, bad).error ==
          VerifyError::kInvalidTimestamp);
  }
  // 19 digits parse, and are simply far in the future.
  CHECK(verify_vector(verifier, kVectorSignature, kVectorTimestamp, kVectorBody,
                      "9223372036854775807")
            .error == VerifyError::kTimestampTooNew);
  CHECK(verify_vector(verifier, kVectorSignature, kVectorTimestamp, kVectorBody,
                      "9999999999999999999")
            .error == VerifyError::kInvalidTimestamp);
}

TEST_CASE("ids must be 1 to 256 visible ASCII bytes without '.' (row 27)", "[unit][signature]") {
  auto verifier = vector_verifier();
  for (std::string bad :
       {std::string(""), std::string("msg.1"), std::string("msg 1"), std::string("msg\x01"),
        std::string("msg\xc3\xa9"), std::string(257, 'a')}) {
    CAPTURE(bad);
    CHECK(
        verify_vector(verifier, kVectorSignature, kVectorTimestamp, kVectorBody, "1614265330", bad)
            .error == VerifyError::kInvalidId);
  }
  std::string longest(256, 'a');
  std::string signature = verifier.sign(0, longest, kVectorTimestamp, kVectorBody);
  CHECK(verify_vector(verifier, signature, kVectorTimestamp, kVectorBody, "1614265330", longest)
            .ok());
}

TEST_CASE("the signature header is bounded before any HMAC (row 31)", "[unit][signature]") {
  auto verifier = vector_verifier();
  std::string eleven;
  for (int i = 0; i < 11; ++i)
    eleven += std::string(kWrongSignature) + " ";
  CHECK(verify_vector(verifier, eleven).error == VerifyError::kInvalidSignatureHeader);
  std::string ten_then_good;
  for (int i = 0; i < 9; ++i)
    ten_then_good += std::string(kWrongSignature) + " ";
  ten_then_good += std::string(kVectorSignature);
  CHECK(verify_vector(verifier, ten_then_good).ok());
  std::string huge = "v3," + std::string(4100, 'A') + " " + std::string(kVectorSignature);
  CHECK(verify_vector(verifier, huge).error == VerifyError::kInvalidSignatureHeader);
  // Extra spaces between entries are not entries.
  CHECK(verify_vector(verifier, "   " + std::string(kVectorSignature) + "   ").ok());
}

TEST_CASE("both header families, conflicts, duplicates and missing headers", "[unit][signature]") {
  using Headers = std::vector<std::pair<std::string, std::string>>;
  Headers svix{{"svix-id", "msg_1"}, {"svix-timestamp", "1"}, {"svix-signature", "v1,x"}};
  Headers webhook{
      {"webhook-id", "msg_1"}, {"webhook-timestamp", "1"}, {"webhook-signature", "v1,x"}};

  auto a = extract_webhook_headers(svix);
  REQUIRE(a.ok());
  CHECK(a.headers.id == "msg_1");
  CHECK(a.headers.signature == "v1,x");
  auto b = extract_webhook_headers(webhook);
  REQUIRE(b.ok());
  CHECK(b.headers.timestamp == "1");

  Headers both = svix;
  both.insert(both.end(), webhook.begin(), webhook.end());
  CHECK(extract_webhook_headers(both).ok());

  Headers conflicting = both;
  conflicting.back().second = "v1,y";
  CHECK(extract_webhook_headers(conflicting).error == HeaderError::kConflicting);

  Headers mixed{{"svix-id", "msg_1"}, {"webhook-timestamp", "1"}, {"svix-signature", "v1,x"}};
  CHECK(extract_webhook_headers(mixed).ok());

  Headers duplicate = svix;
  duplicate.push_back({"svix-id", "msg_1"});
  CHECK(extract_webhook_headers(duplicate).error == HeaderError::kDuplicate);

  for (std::size_t drop = 0; drop < 3; ++drop) {
    Headers missing = svix;
    missing.erase(missing.begin() + static_cast<long>(drop));
    auto result = extract_webhook_headers(missing);
    CHECK(result.error == HeaderError::kMissing);
    CHECK(result.detail.find("missing") != std::string::npos);
  }
  CHECK(extract_webhook_headers(Headers{}).error == HeaderError::kMissing);
}

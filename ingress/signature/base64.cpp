#include "ingress/signature/base64.hpp"

#include <array>

namespace ingress::signature {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<signed char, 256> make_table() {
  std::array<signed char, 256> table{};
  for (auto& v : table)
    v = -1;
  for (int i = 0; i < 64; ++i)
    table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<signed char>(i);
  return table;
}
constexpr std::array<signed char, 256> kTable = make_table();

}  // namespace

std::optional<std::size_t> decode_base64(std::string_view text, Padding padding,
                                         std::span<unsigned char> out) {
  std::size_t pad = 0;
  if (!text.empty() && text.back() == '=') pad = 1;
  if (text.size() >= 2 && text[text.size() - 2] == '=') pad = 2;
  std::string_view data = text.substr(0, text.size() - pad);
  if (pad > 0 && text.size() % 4 != 0) return std::nullopt;
  if (padding == Padding::kRequired && text.size() % 4 != 0) return std::nullopt;
  std::size_t tail = data.size() % 4;  // characters in the last, partial group
  if (tail == 1) return std::nullopt;
  if (pad > 0 && pad != 4 - tail) return std::nullopt;
  if (padding == Padding::kRequired && tail != 0 && pad == 0) return std::nullopt;
  std::size_t length = data.size() / 4 * 3 + (tail == 0 ? 0 : tail - 1);
  if (length > out.size()) return std::nullopt;

  std::size_t o = 0;
  std::size_t i = 0;
  for (; i + 4 <= data.size(); i += 4) {
    int a = kTable[static_cast<unsigned char>(data[i])];
    int b = kTable[static_cast<unsigned char>(data[i + 1])];
    int c = kTable[static_cast<unsigned char>(data[i + 2])];
    int d = kTable[static_cast<unsigned char>(data[i + 3])];
    if ((a | b | c | d) < 0) return std::nullopt;
    unsigned v = (static_cast<unsigned>(a) << 18) | (static_cast<unsigned>(b) << 12) |
                 (static_cast<unsigned>(c) << 6) | static_cast<unsigned>(d);
    out[o++] = static_cast<unsigned char>(v >> 16);
    out[o++] = static_cast<unsigned char>(v >> 8);
    out[o++] = static_cast<unsigned char>(v);
  }
  if (tail >= 2) {
    int a = kTable[static_cast<unsigned char>(data[i])];
    int b = kTable[static_cast<unsigned char>(data[i + 1])];
    int c = tail == 3 ? kTable[static_cast<unsigned char>(data[i + 2])] : 0;
    if ((a | b | c) < 0) return std::nullopt;
    unsigned v = (static_cast<unsigned>(a) << 18) | (static_cast<unsigned>(b) << 12) |
                 (static_cast<unsigned>(c) << 6);
    // Unused low bits must be zero: one encoding per byte string.
    if (tail == 2 && (v & 0xFFFF) != 0) return std::nullopt;
    if (tail == 3 && (v & 0xFF) != 0) return std::nullopt;
    out[o++] = static_cast<unsigned char>(v >> 16);
    if (tail == 3) out[o++] = static_cast<unsigned char>(v >> 8);
  }
  return o;
}

std::optional<std::string> decode_base64(std::string_view text, Padding padding) {
  std::string out(text.size() / 4 * 3 + 3, '\0');
  auto length = decode_base64(
      text, padding,
      std::span<unsigned char>(reinterpret_cast<unsigned char*>(out.data()), out.size()));
  if (!length) return std::nullopt;
  out.resize(*length);
  return out;
}

std::string encode_base64(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  auto at = [&bytes](std::size_t k) {
    return static_cast<unsigned>(static_cast<unsigned char>(bytes[k]));
  };
  for (; i + 3 <= bytes.size(); i += 3) {
    unsigned v = (at(i) << 16) | (at(i + 1) << 8) | at(i + 2);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    unsigned v = at(i) << 16;
    if (rest == 2) v |= at(i + 1) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

}  // namespace ingress::signature

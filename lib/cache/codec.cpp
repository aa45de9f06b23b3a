#include "cache/codec.h"

#include <zstd.h>

#include <cstring>
#include <memory>
#include <string>

#include "core/error.h"

namespace llmkit::cache::codec {

namespace {

// "LK", version, format, 8 bytes of expiry (little-endian).
constexpr std::size_t kHeader = 12;
constexpr char kRaw = 'r';
constexpr char kZstd = 'z';
// Below this, zstd's frame overhead outweighs what it saves.
constexpr std::size_t kCompressFrom = 128;
// A stored value never inflates past this: corrupt or hostile data cannot
// make a reader allocate without bound.
constexpr unsigned long long kMaxValue = 1ull << 30;

struct CctxFree {
  void operator()(ZSTD_CCtx* c) const noexcept { ZSTD_freeCCtx(c); }
};
struct DctxFree {
  void operator()(ZSTD_DCtx* c) const noexcept { ZSTD_freeDCtx(c); }
};

[[noreturn]] void corrupt(const std::string& why) {
  fail(LLMKIT_INVALID_ARGUMENT, "cached value in Redis is not llmkit's: " + why);
}

}  // namespace

String encode(std::string_view value, std::int64_t expires_unix_ms) {
  String out(kHeader, '\0');
  out[0] = 'L';
  out[1] = 'K';
  out[2] = 1;
  out[3] = kRaw;
  for (int i = 0; i < 8; ++i) {
    out[4 + i] = static_cast<char>(static_cast<std::uint64_t>(expires_unix_ms) >> (8 * i));
  }
  if (value.size() >= kCompressFrom) {
    // Level 1: the fastest, and LLM text still shrinks by about half.
    thread_local std::unique_ptr<ZSTD_CCtx, CctxFree> cctx(ZSTD_createCCtx());
    if (!cctx) throw std::bad_alloc();
    out.resize(kHeader + ZSTD_compressBound(value.size()));
    const std::size_t n = ZSTD_compressCCtx(cctx.get(), out.data() + kHeader, out.size() - kHeader,
                                            value.data(), value.size(), 1);
    if (!ZSTD_isError(n) && n < value.size()) {
      out[3] = kZstd;
      out.resize(kHeader + n);
      return out;
    }
    out.resize(kHeader);
  }
  out.append(value.data(), value.size());
  return out;
}

Decoded decode(std::string_view stored) {
  if (stored.size() < kHeader || stored[0] != 'L' || stored[1] != 'K' || stored[2] != 1) {
    corrupt("no llmkit header");
  }
  Decoded d;
  std::uint64_t expires = 0;
  for (int i = 0; i < 8; ++i) {
    expires |= static_cast<std::uint64_t>(static_cast<unsigned char>(stored[4 + i])) << (8 * i);
  }
  d.expires_unix_ms = static_cast<std::int64_t>(expires);
  const std::string_view body = stored.substr(kHeader);
  if (stored[3] == kRaw) {
    d.value.assign(body.data(), body.size());
    return d;
  }
  if (stored[3] != kZstd) corrupt("unknown format");
  const unsigned long long size = ZSTD_getFrameContentSize(body.data(), body.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > kMaxValue) {
    corrupt("bad zstd frame");
  }
  thread_local std::unique_ptr<ZSTD_DCtx, DctxFree> dctx(ZSTD_createDCtx());
  if (!dctx) throw std::bad_alloc();
  d.value.resize(size);
  const std::size_t n =
      ZSTD_decompressDCtx(dctx.get(), d.value.data(), d.value.size(), body.data(), body.size());
  if (ZSTD_isError(n) || n != size) corrupt("bad zstd frame");
  return d;
}

}  // namespace llmkit::cache::codec

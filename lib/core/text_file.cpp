#include "core/text_file.h"

#include <array>
#include <cerrno>
#include <cstdio>
#include <memory>
#include <string>
#include <system_error>

#include "core/error.h"
#include "core/utf8.h"

namespace llmkit {
namespace {

struct CloseFile {
  void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};

}  // namespace

bool is_json_text(std::string_view json_or_path) noexcept {
  const std::size_t first = json_or_path.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos &&
         (json_or_path[first] == '{' || json_or_path[first] == '[');
}

String json_text_or_file(std::string_view json_or_path, std::string_view what,
                         std::size_t max_bytes) {
  if (is_json_text(json_or_path)) return make_string(json_or_path);
  const std::string at = std::string(what) + " file " + utf8::quote(json_or_path, 200) + ": ";
  const auto bad = [&](const std::string& problem) { fail(LLMKIT_INVALID_ARGUMENT, at + problem); };
  if (json_or_path.empty() || json_or_path.find('\0') != std::string_view::npos) {
    bad("not a file path; pass a path or JSON text");
  }
  const std::unique_ptr<std::FILE, CloseFile> f(
      std::fopen(std::string(json_or_path).c_str(), "rb"));
  if (!f) bad("cannot be opened: " + std::generic_category().message(errno));
  String text;
  std::array<char, 8192> buf{};
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), f.get())) > 0) {
    text.append(buf.data(), n);
    if (text.size() > max_bytes) {
      bad("is larger than " + std::to_string(max_bytes >> 20) + " MiB: not a " + std::string(what) +
          " file");
    }
  }
  if (std::ferror(f.get())) bad("cannot be read: " + std::generic_category().message(errno));
  return text;
}

}  // namespace llmkit

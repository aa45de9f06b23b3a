#include "hooks/rule.h"

#include <fnmatch.h>

#include <algorithm>
#include <array>
#include <string>

#include "core/error.h"
#include "hooks/event.h"

namespace llmkit::hooks {
namespace {

// Status names as rules write them: the enum's name, lower case.
constexpr std::array<std::pair<std::string_view, llmkit_status>, 16> kStatuses{{
    {"ok", LLMKIT_OK},
    {"invalid_argument", LLMKIT_INVALID_ARGUMENT},
    {"not_found", LLMKIT_NOT_FOUND},
    {"rate_limited", LLMKIT_RATE_LIMITED},
    {"timeout", LLMKIT_TIMEOUT},
    {"network", LLMKIT_NETWORK},
    {"provider_error", LLMKIT_PROVIDER_ERROR},
    {"auth", LLMKIT_AUTH},
    {"cancelled", LLMKIT_CANCELLED},
    {"out_of_memory", LLMKIT_OUT_OF_MEMORY},
    {"internal", LLMKIT_INTERNAL},
    {"unsupported", LLMKIT_UNSUPPORTED},
    {"budget_exceeded", LLMKIT_BUDGET_EXCEEDED},
    {"queue_full", LLMKIT_QUEUE_FULL},
    {"unavailable", LLMKIT_UNAVAILABLE},
    {"overloaded", LLMKIT_OVERLOADED},
}};

constexpr std::uint32_t kErrorBits = ~std::uint32_t{1};  // every status but OK

bool has_glob(std::string_view s) {
  return s.find_first_of("*?[\\") != std::string_view::npos;
}

bool is_word_char(char c) {
  return c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '(' && c != ')' && c != '"';
}

}  // namespace

// Recursive descent over the rule's text; builds nodes_ children first.
std::string_view status_name(llmkit_status status) noexcept {
  for (const auto& [name, s] : kStatuses) {
    if (s == status) return name;
  }
  return "unknown";
}

class Rule::Parser {
 public:
  Parser(Rule& rule, const std::function<const Predicate*(std::string_view)>& predicate)
      : rule_(rule), text_(rule.text_), predicate_(predicate) {}

  void parse() {
    skip_space();
    if (at_ == text_.size()) return;  // empty: match all
    parse_or();
    skip_space();
    if (at_ != text_.size()) error(peek_char() == ')' ? "a ')' without its '('" : "'and' or 'or'");
  }

 private:
  std::uint32_t parse_or() {
    std::uint32_t left = parse_and();
    while (take_keyword("or")) left = add_binary(Node::Kind::kOr, left, parse_and());
    return left;
  }

  std::uint32_t parse_and() {
    std::uint32_t left = parse_unary();
    while (take_keyword("and")) left = add_binary(Node::Kind::kAnd, left, parse_unary());
    return left;
  }

  std::uint32_t parse_unary() {
    if (take_keyword("not")) {
      Node n;
      n.kind = Node::Kind::kNot;
      n.left = parse_unary();
      return add(std::move(n));
    }
    skip_space();
    if (peek_char() == '(') {
      ++at_;
      if (++depth_ > kMaxDepth) error("fewer nested parentheses");
      const std::uint32_t inner = parse_or();
      skip_space();
      if (peek_char() != ')') error("')'");
      ++at_;
      --depth_;
      return inner;
    }
    return parse_atom();
  }

  std::uint32_t parse_atom() {
    skip_space();
    const std::size_t start = at_;
    while (at_ < text_.size() && text_[at_] != ':' && is_word_char(text_[at_])) ++at_;
    const std::string_view field = text_.substr(start, at_ - start);
    if (field.empty() || peek_char() != ':') {
      at_ = start;
      error("a condition such as model:NAME");
    }
    ++at_;
    const String value = parse_value();
    Node n;
    n.kind = Node::Kind::kModel;
    if (field == "model") {
      n.values.push_back(value);
    } else if (field == "provider") {
      n.kind = Node::Kind::kProvider;
      n.values.push_back(value);
    } else if (field == "tag") {
      n.kind = Node::Kind::kTag;
      n.values.push_back(value);
    } else if (field == "anytag" || field == "alltags") {
      n.kind = field == "anytag" ? Node::Kind::kAnyTag : Node::Kind::kAllTags;
      n.values = split_list(value);
    } else if (field.starts_with("meta.") && field.size() > 5) {
      n.kind = Node::Kind::kMeta;
      n.key = make_string(field.substr(5));
      n.values.push_back(value);
    } else if (field == "status") {
      n.kind = Node::Kind::kStatus;
      n.statuses = statuses(value, start);
    } else if (field == "pred") {
      n.kind = Node::Kind::kPredicate;
      n.predicate = predicate_ ? predicate_(value) : nullptr;
      if (n.predicate == nullptr) {
        fail(LLMKIT_INVALID_ARGUMENT, "rule \"" + std::string(text_) + "\": no predicate named \"" +
                                          std::string(value) + "\" is registered");
      }
    } else {
      at_ = start;
      error("model, provider, tag, anytag, alltags, meta.KEY, status or pred");
    }
    if (n.kind != Node::Kind::kStatus && n.kind != Node::Kind::kPredicate) {
      for (const String& v : n.values) {
        if (v.empty()) {
          at_ = start;
          error("a value after \"" + std::string(field) + ":\"");
        }
      }
    }
    n.glob = !n.values.empty() && has_glob(n.values[0]);
    return add(std::move(n));
  }

  // A bare word (up to a space or parenthesis) or a double-quoted string.
  String parse_value() {
    String out;
    if (peek_char() != '"') {
      while (at_ < text_.size() && is_word_char(text_[at_])) out += text_[at_++];
      return out;
    }
    const std::size_t open = at_++;
    while (at_ < text_.size() && text_[at_] != '"') {
      if (text_[at_] == '\\' && at_ + 1 < text_.size()) ++at_;
      out += text_[at_++];
    }
    if (at_ == text_.size()) {
      at_ = open;
      error("a closing '\"' for the value starting");
    }
    ++at_;
    return out;
  }

  std::uint32_t statuses(std::string_view list, std::size_t column) {
    std::uint32_t bits = 0;
    for (const String& name : split_list(list)) {
      if (name == "error") {
        bits |= kErrorBits;
        continue;
      }
      const auto it = std::find_if(kStatuses.begin(), kStatuses.end(),
                                   [&](const auto& s) { return s.first == name; });
      if (it == kStatuses.end()) {
        at_ = column;
        error("ok, error or a status name (rate_limited, timeout, ...) instead of \"" +
              std::string(name) + "\"");
      }
      bits |= std::uint32_t{1} << static_cast<unsigned>(it->second);
    }
    if (bits == 0) {
      at_ = column;
      error("a status after \"status:\"");
    }
    return bits;
  }

  bool take_keyword(std::string_view word) {
    skip_space();
    if (text_.substr(at_, word.size()) != word) return false;
    const std::size_t end = at_ + word.size();
    // "order:x" or "notes" are no keywords.
    if (end < text_.size() && is_word_char(text_[end])) return false;
    at_ = end;
    return true;
  }

  std::uint32_t add_binary(Node::Kind kind, std::uint32_t left, std::uint32_t right) {
    Node n;
    n.kind = kind;
    n.left = left;
    n.right = right;
    return add(std::move(n));
  }

  std::uint32_t add(Node node) {
    rule_.nodes_.push_back(std::move(node));
    return static_cast<std::uint32_t>(rule_.nodes_.size() - 1);
  }

  void skip_space() {
    while (at_ < text_.size() && !is_word_char(text_[at_]) && text_[at_] != '(' &&
           text_[at_] != ')' && text_[at_] != '"') {
      ++at_;
    }
  }

  char peek_char() const { return at_ < text_.size() ? text_[at_] : '\0'; }

  [[noreturn]] void error(const std::string& expected) const {
    fail(LLMKIT_INVALID_ARGUMENT, "rule \"" + std::string(text_) + "\": expected " + expected +
                                      " at column " + std::to_string(at_ + 1));
  }

  // Deep enough for any rule a person writes; bounds the recursion.
  static constexpr int kMaxDepth = 64;

  Rule& rule_;
  std::string_view text_;
  const std::function<const Predicate*(std::string_view)>& predicate_;
  std::size_t at_ = 0;
  int depth_ = 0;
};

Rule Rule::compile(std::string_view text,
                   const std::function<const Predicate*(std::string_view)>& predicate) {
  Rule rule;
  rule.text_ = make_string(text);
  Parser(rule, predicate).parse();
  return rule;
}

Rule::Verdict Rule::evaluate(const CallFacts& call) const {
  if (nodes_.empty()) return Verdict::kRun;
  switch (eval(static_cast<std::uint32_t>(nodes_.size() - 1), call)) {
    case 1:
      return Verdict::kRun;
    case 0:
      return Verdict::kSkip;
    default:
      return Verdict::kFailed;
  }
}

namespace {

// `pattern` is a String's text, so terminated; `value` is copied to be.
bool matches(const String& pattern, bool glob, std::string_view value) {
  if (!glob) return pattern == value;
  std::array<char, 256> small;  // NOLINT(cppcoreguidelines-pro-type-member-init): filled below
  if (value.size() < small.size()) {
    std::copy(value.begin(), value.end(), small.begin());
    small[value.size()] = '\0';
    return fnmatch(pattern.c_str(), small.data(), 0) == 0;
  }
  return fnmatch(pattern.c_str(), make_string(value).c_str(), 0) == 0;
}

bool has_tag(std::span<const String> tags, std::string_view tag) {
  return std::any_of(tags.begin(), tags.end(), [&](const String& t) { return t == tag; });
}

}  // namespace

int Rule::eval(std::uint32_t index, const CallFacts& call) const {
  const Node& n = nodes_[index];
  switch (n.kind) {
    case Node::Kind::kAnd: {
      const int left = eval(n.left, call);
      return left != 1 ? left : eval(n.right, call);
    }
    case Node::Kind::kOr: {
      const int left = eval(n.left, call);
      return left != 0 ? left : eval(n.right, call);
    }
    case Node::Kind::kNot: {
      const int inner = eval(n.left, call);
      return inner < 0 ? inner : 1 - inner;
    }
    case Node::Kind::kModel:
      return matches(n.values[0], n.glob, call.model) ? 1 : 0;
    case Node::Kind::kProvider:
      return n.values[0] == call.provider ? 1 : 0;
    case Node::Kind::kTag:
      return has_tag(call.tags, n.values[0]) ? 1 : 0;
    case Node::Kind::kAnyTag:
      return std::any_of(n.values.begin(), n.values.end(),
                         [&](const String& t) { return has_tag(call.tags, t); })
                 ? 1
                 : 0;
    case Node::Kind::kAllTags:
      return std::all_of(n.values.begin(), n.values.end(),
                         [&](const String& t) { return has_tag(call.tags, t); })
                 ? 1
                 : 0;
    case Node::Kind::kMeta:
      for (const auto& [key, value] : call.metadata) {
        if (key == n.key) return matches(n.values[0], n.glob, value) ? 1 : 0;
      }
      return 0;
    case Node::Kind::kStatus:
      return call.status && (n.statuses >> static_cast<unsigned>(*call.status) & 1U) != 0 ? 1 : 0;
    case Node::Kind::kPredicate: {
      int verdict = -1;
      try {
        verdict = (*n.predicate)(call);
      } catch (...) {  // a binding's exception: the rule fails, the call goes on
        return -1;
      }
      return verdict == 0 || verdict == 1 ? verdict : -1;
    }
  }
  return -1;
}

}  // namespace llmkit::hooks

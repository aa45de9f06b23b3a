#include "tokenize/rank_table.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace llmkit::tokenize {

std::uint64_t RankTable::hash_long(std::string_view s) {
  return XXH3_64bits(s.data(), s.size());
}

bool RankTable::insert(std::string_view bytes, std::uint32_t rank) {
  if (find(bytes) != kNoRank) return false;
  const std::uint64_t head = head8(bytes);
  const std::uint64_t h = hash(bytes, head);
  std::uint64_t i = h & mask_;
  while (slots_[i].rank != kNoRank) i = (i + 1) & mask_;
  slots_[i] = Slot{
      head, rank,
      static_cast<std::uint32_t>((h >> 40) << 8 | static_cast<std::uint32_t>(bytes.size() & 0xFF))};
  return true;
}

}  // namespace llmkit::tokenize

#include "ratelimit/shm_segment.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>
#include <system_error>

#include "core/error.h"

namespace llmkit::ratelimit {

namespace {

constexpr char kMagic[8] = {'l', 'l', 'm', 'k', 'i', 't', 'R', 'L'};
constexpr std::uint32_t kLayoutVersion = 1;

struct Header {
  char magic[8];
  std::uint32_t version;
  std::uint32_t shards;
  std::uint64_t key_slots;
  std::uint64_t hold_slots;
  std::uint64_t size;
  std::int64_t limits[5];
  std::atomic<std::uint32_t> ready;  // set last by the creator
  alignas(64) std::atomic<std::int64_t> held[ShmSegment::kMaxProcs];
};

struct alignas(64) ShardHead {
  pthread_mutex_t mutex;
  std::uint64_t keys;
  std::uint64_t holds;
};

static_assert(std::atomic<std::int64_t>::is_always_lock_free &&
                  std::atomic<std::uint32_t>::is_always_lock_free,
              "counters in shared memory must be lock-free to be address-free");

constexpr std::size_t round_up(std::size_t n, std::size_t to) {
  return (n + to - 1) / to * to;
}

constexpr std::size_t kShardsAt = round_up(sizeof(Header), 64);
constexpr std::size_t kEntriesAt = kShardsAt + ShmSegment::kShards * sizeof(ShardHead);

void limits_of(const Config& c, std::int64_t (&out)[5]) {
  out[0] = c.requests.interval_ns;
  out[1] = c.requests.burst;
  out[2] = c.tokens.interval_ns;
  out[3] = c.tokens.burst;
  out[4] = c.concurrency;
}

[[noreturn]] void fail_errno(const std::string& what) {
  const int e = errno;
  fail(e == ENOMEM || e == ENOSPC ? LLMKIT_OUT_OF_MEMORY : LLMKIT_UNAVAILABLE,
       what + ": " + std::generic_category().message(e));
}

// F_OFD_SETLK(W) on one byte: `wait` blocks until it is free.
bool ofd_lock(int fd, std::uint64_t offset, short type, bool wait) {
  struct flock fl {};
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = static_cast<off_t>(offset);
  fl.l_len = 1;
  for (;;) {
    if (fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl) == 0) return true;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EACCES) return false;
    fail_errno("cannot lock the shared rate limiter segment");
  }
}

Header& header(void* base) {
  return *static_cast<Header*>(base);
}

template <class Table>
void recount_and_dedupe(Table table, std::uint64_t& used) {
  // A slot whose twin earlier on its path is what lookups find: drop it.
  for (std::size_t i = 0; i < table.size();) {
    auto& s = table[i];
    if (s.hash != 0 &&
        find_slot(table, probe_hash(s), [&](const auto& t) { return t.same_key(s); }) != &s) {
      erase_slot(table, i);
    } else {
      ++i;
    }
  }
  used = 0;
  for (const auto& s : table) used += s.hash != 0 ? 1 : 0;
}

}  // namespace

ShmSegment::Fd::~Fd() {
  if (fd >= 0) close(fd);
}

ShmSegment::Mapping::~Mapping() {
  if (base != nullptr) munmap(base, size);
}

ShmSegment::ShmSegment(const std::string& name, const Config& config, std::size_t capacity)
    : path_("/llmkit-" + name) {
  // 1.5 slots a key: shards fill unevenly, and a table may be 80% full.
  key_slots_ = std::max<std::size_t>(16, capacity * 3 / 2 / kShards + 1);
  hold_slots_ = config.concurrency > 0 ? key_slots_ : 0;
  const std::size_t holds_at = kEntriesAt + kShards * key_slots_ * sizeof(Entry);
  const std::size_t want = round_up(holds_at + kShards * hold_slots_ * sizeof(Hold), 4096);
  std::int64_t limits[5];
  limits_of(config, limits);

  open_fd();
  // Byte 0 serialises creation; a creator that died midway left `ready`
  // unset, and the next opener starts over.
  ofd_lock(fd_.fd, 0, F_WRLCK, true);
  struct Unlock {
    const ShmSegment* s;
    ~Unlock() { s->unlock_byte(0); }
  } const unlock{this};

  struct stat st {};
  if (fstat(fd_.fd, &st) != 0) fail_errno("cannot stat " + path_);
  bool ready = false;
  if (static_cast<std::size_t>(st.st_size) >= sizeof(Header)) {
    void* h = mmap(nullptr, sizeof(Header), PROT_READ, MAP_SHARED, fd_.fd, 0);
    if (h == MAP_FAILED) fail_errno("cannot map " + path_);
    const Header& hd = header(h);
    ready = hd.ready.load(std::memory_order_acquire) == 1;
    const bool same = std::memcmp(hd.magic, kMagic, 8) == 0 && hd.version == kLayoutVersion &&
                      hd.shards == kShards && hd.key_slots == key_slots_ &&
                      hd.hold_slots == hold_slots_ && std::memcmp(hd.limits, limits, 40) == 0 &&
                      hd.size == want && static_cast<std::size_t>(st.st_size) >= want;
    munmap(h, sizeof(Header));
    if (ready && !same) {
      fail(LLMKIT_INVALID_ARGUMENT,
           "the shared rate limiter '" + name +
               "' exists with other limits or capacity: use the same options in every process, "
               "or another shm.name (or remove /dev/shm" +
               path_ + " while no process uses it)");
    }
  }
  if (!ready) {
    // Reserve every page now: a sparse tmpfs file would SIGBUS on first
    // touch when /dev/shm fills up.
    if (ftruncate(fd_.fd, 0) != 0) fail_errno("cannot reset " + path_);
    if (const int e = posix_fallocate(fd_.fd, 0, static_cast<off_t>(want)); e != 0) {
      errno = e;
      fail_errno("cannot allocate " + std::to_string(want) + " bytes for /dev/shm" + path_);
    }
  }
  void* base = mmap(nullptr, want, PROT_READ | PROT_WRITE, MAP_SHARED, fd_.fd, 0);
  if (base == MAP_FAILED) fail_errno("cannot map " + path_);
  map_ = {base, want};
  if (ready) return;

  Header& h = *new (map_.base) Header{};
  std::memcpy(h.magic, kMagic, 8);
  h.version = kLayoutVersion;
  h.shards = kShards;
  h.key_slots = key_slots_;
  h.hold_slots = hold_slots_;
  h.size = want;
  std::memcpy(h.limits, limits, sizeof limits);
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
  pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
  auto* heads = reinterpret_cast<ShardHead*>(static_cast<char*>(map_.base) + kShardsAt);
  for (std::size_t i = 0; i < kShards; ++i) {
    auto* head = new (&heads[i]) ShardHead{};
    pthread_mutex_init(&head->mutex, &attr);
  }
  pthread_mutexattr_destroy(&attr);
  h.ready.store(1, std::memory_order_release);
}

void ShmSegment::open_fd() {
  fd_.fd = shm_open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_.fd < 0) fail_errno("cannot open /dev/shm" + path_);
}

void ShmSegment::reopen() {
  close(fd_.fd);
  fd_.fd = -1;
  open_fd();
}

ShmSegment::Shard ShmSegment::shard(std::size_t i) const {
  char* base = static_cast<char*>(map_.base);
  auto& head = reinterpret_cast<ShardHead*>(base + kShardsAt)[i];
  auto* entries = reinterpret_cast<Entry*>(base + kEntriesAt) + i * key_slots_;
  auto* holds = reinterpret_cast<Hold*>(base + kEntriesAt + kShards * key_slots_ * sizeof(Entry)) +
                i * hold_slots_;
  return {&head.mutex, &head.keys, &head.holds, {entries, key_slots_}, {holds, hold_slots_}};
}

std::atomic<std::int64_t>& ShmSegment::held(std::uint32_t proc) const {
  return header(map_.base).held[proc];
}

bool ShmSegment::try_lock_byte(std::uint64_t offset) const {
  return ofd_lock(fd_.fd, offset, F_WRLCK, false);
}

void ShmSegment::unlock_byte(std::uint64_t offset) const noexcept {
  // Unlocking a byte this descriptor locked cannot fail.
  struct flock fl {};
  fl.l_type = F_UNLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = static_cast<off_t>(offset);
  fl.l_len = 1;
  fcntl(fd_.fd, F_OFD_SETLK, &fl);
}

std::uint32_t ShmSegment::claim_process() {
  for (std::uint32_t p = 0; p < kMaxProcs; ++p) {
    if (!try_lock_byte(1 + p)) continue;
    if (held(p).load() != 0) reap(p);  // left by a process that died
    return p;
  }
  fail(LLMKIT_UNAVAILABLE, "the shared rate limiter " + path_ + " already has " +
                               std::to_string(kMaxProcs) + " processes attached");
}

void ShmSegment::unclaim_process(std::uint32_t proc) {
  unlock_byte(1 + proc);
}

std::size_t ShmSegment::reap_dead(std::uint32_t self) {
  std::size_t reaped = 0;
  for (std::uint32_t p = 0; p < kMaxProcs; ++p) {
    if (p == self || held(p).load(std::memory_order_relaxed) == 0) continue;
    if (!try_lock_byte(1 + p)) continue;  // its owner lives
    reap(p);
    unlock_byte(1 + p);
    ++reaped;
  }
  return reaped;
}

void ShmSegment::reap(std::uint32_t proc) {
  for (std::size_t i = 0; i < kShards; ++i) {
    const Shard s = shard(i);
    if (s.hold_table.empty()) break;
    ShardLock lock(s);
    for (std::size_t j = 0; j < s.hold_table.size();) {
      Hold& h = s.hold_table[j];
      if (h.hash == 0 || h.proc != proc) {
        ++j;
        continue;
      }
      if (Entry* e = find_entry(s.entries, KeyHash{h.hash, h.check})) {
        e->inflight -= static_cast<std::int32_t>(std::min<std::int64_t>(h.count, e->inflight));
      }
      erase_slot(s.hold_table, j);
      --*s.holds;
    }
  }
  held(proc).store(0);
}

ShardLock::ShardLock(const ShmSegment::Shard& shard) : mutex_(shard.mutex) {
  const int r = pthread_mutex_lock(mutex_);
  if (r == EOWNERDEAD) {
    // Its owner died inside an update: at worst one entry is half moved.
    recount_and_dedupe(shard.entries, *shard.keys);
    recount_and_dedupe(shard.hold_table, *shard.holds);
    pthread_mutex_consistent(mutex_);
  } else if (r != 0) {
    fail(LLMKIT_INTERNAL,
         "cannot lock a shared rate limiter shard: " + std::generic_category().message(r));
  }
}

ShardLock::~ShardLock() {
  pthread_mutex_unlock(mutex_);
}

}  // namespace llmkit::ratelimit

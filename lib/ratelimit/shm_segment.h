// The shared-memory segment behind the "shm" backend: one named object in
// /dev/shm (llmkit-<name>) that every process opening the name maps, so
// they all read and write the same tables.
//
// Layout: a header (the limits it was made for, one held-slot counter per
// process slot), then per shard a robust process-shared mutex, a table of
// key entries (ratelimit/entry.h) and a table of holds: how many
// concurrency slots each process holds on each key.
//
// Processes are told apart by a process slot (0..kMaxProcs-1), claimed
// with an open-file-description lock on byte 1 + slot of the segment
// (Linux OFD locks: held while the opener lives, dropped by the kernel when
// it dies however it dies, visible across PID namespaces). A slot whose
// lock another process can take belongs to a dead process: its holds are
// reaped. Byte 0 serialises creation.
#pragma once

#include <pthread.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>

#include "ratelimit/entry.h"
#include "ratelimit/limiter.h"

namespace llmkit::ratelimit {

// Concurrency slots process `proc` holds on one key. 24 bytes.
struct Hold {
  std::uint64_t hash = 0;  // the key's; 0 = empty
  std::uint32_t check = 0;
  std::uint32_t proc = 0;
  std::int64_t count = 0;

  bool holds(const KeyHash& k, std::uint32_t p) const {
    return hash == k.hash && check == k.check && proc == p;
  }
  bool same_key(const Hold& o) const { return holds({o.hash, o.check}, o.proc); }
};

// Each process's holds on a key live in their own slot.
inline std::uint64_t probe_hash(const Hold& h) {
  return h.hash ^ ((h.proc + 1ULL) * 0x9E3779B97F4A7C15ULL);
}

class ShmSegment {
 public:
  static constexpr std::size_t kShards = 64;
  static constexpr std::uint32_t kMaxProcs = 1024;

  struct Shard {
    pthread_mutex_t* mutex;
    std::uint64_t* keys;   // used entries
    std::uint64_t* holds;  // used holds
    std::span<Entry> entries;
    std::span<Hold> hold_table;
  };

  // Opens the segment of `name`, creating it for `config` and `capacity`
  // keys when it does not exist. INVALID_ARGUMENT when it exists with other
  // limits or capacity, UNAVAILABLE when /dev/shm refuses (no space, no
  // permission).
  ShmSegment(const std::string& name, const Config& config, std::size_t capacity);

  Shard shard(std::size_t i) const;
  std::size_t size() const { return map_.size; }

  // The counter of slots process slot `proc` holds, all keys together.
  std::atomic<std::int64_t>& held(std::uint32_t proc) const;

  // Claims a free process slot for this opener; reaps what a dead former
  // owner held. UNAVAILABLE when all kMaxProcs are taken.
  std::uint32_t claim_process();
  // Frees this opener's process slot (its holds must be reaped first).
  void unclaim_process(std::uint32_t proc);
  // Reaps the holds of every dead process that has any, skipping `self`;
  // returns how many it reaped.
  std::size_t reap_dead(std::uint32_t self);
  // Gives back every hold of `proc`: the keys' in-flight counts drop.
  void reap(std::uint32_t proc);

  // After fork(): the child shares the parent's descriptor, and with it the
  // parent's process-slot lock, so it opens its own.
  void reopen();

 private:
  struct Fd {
    int fd = -1;
    Fd() = default;
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd();
  };
  struct Mapping {
    void* base = nullptr;
    std::size_t size = 0;
    Mapping() = default;
    Mapping(void* b, std::size_t n) : base(b), size(n) {}
    Mapping(const Mapping&) = delete;
    Mapping& operator=(const Mapping&) = delete;
    Mapping& operator=(Mapping&& o) noexcept {
      std::swap(base, o.base);
      std::swap(size, o.size);
      return *this;
    }
    ~Mapping();
  };

  bool try_lock_byte(std::uint64_t offset) const;
  void unlock_byte(std::uint64_t offset) const noexcept;
  void open_fd();

  std::string path_;  // shm_open's name: "/llmkit-<name>"
  Fd fd_;
  Mapping map_;
  std::size_t key_slots_ = 0;   // per shard
  std::size_t hold_slots_ = 0;  // per shard
};

// Locks a shard's robust mutex. When its previous owner died holding it,
// repairs what an update cut short could have left (counts, a key entry
// duplicated by a move) before going on.
class ShardLock {
 public:
  explicit ShardLock(const ShmSegment::Shard& shard);
  ~ShardLock();
  ShardLock(const ShardLock&) = delete;
  ShardLock& operator=(const ShardLock&) = delete;

 private:
  pthread_mutex_t* mutex_;
};

}  // namespace llmkit::ratelimit

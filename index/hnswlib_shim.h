// The one way recdb includes hnswlib 0.6.2. Include this, never
// <hnswlib/hnswlib.h> directly.
//
// Why: hnswlib 0.6.2's headers define non-inline functions (cpuid, xgetbv,
// AVXCapable, AVX512Capable) and mutable globals (L2SqrSIMD16Ext, ...) at
// namespace scope, so two translation units that include it cannot be linked
// into one binary ("multiple definition of cpuid"). The recdb CLI links the
// index wrapper AND the ann benchmark's raw-hnswlib baseline, so both need it.
// Wrapping the include in an anonymous namespace gives every hnswlib symbol
// internal linkage: each including .cc gets a private copy (a few KB of code).
//
// Consequence: hnswlib types are distinct per translation unit. Never pass an
// hnswlib object between two .cc files; keep all code that touches one in the
// .cc that created it (index/hnsw_index.cc; tools/bench/ann.cc's baseline).
#pragma once

// Every standard header hnswlib includes, included first at global scope so
// their include guards keep them out of the anonymous namespace below.
#include <algorithm>
#include <assert.h>
#include <atomic>
#include <cassert>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <deque>
#include <fstream>
#include <iostream>
#include <limits>
#include <list>
#include <mutex>
#include <queue>
#include <random>
#include <stdexcept>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>
#if defined(__SSE__)
#include <cpuid.h>
#include <immintrin.h>
#include <x86intrin.h>
#endif

// Under AddressSanitizer, build hnswlib without its hand-written SIMD. Its
// prefetch code (searchBaseLayer, hnswalg.h:214) reads the link slot one past
// the end of a full upper-layer link list: 4 bytes past a malloc'ed block of
// 68*level+1 bytes. glibc's allocation slack always covers it (the block's
// usable size is >= n+3), so release builds are unaffected, but ASan rightly
// reports it. Without USE_SSE that code is compiled out; distances then use
// the portable loops, which only matters for speed.
#if defined(__SANITIZE_ADDRESS__) && !defined(NO_MANUAL_VECTORIZATION)
#define NO_MANUAL_VECTORIZATION
#endif

#if defined(__SANITIZE_THREAD__)
namespace recdb_hnswlib_tsan {
// Under ThreadSanitizer hnswlib's std::mutex is this: a mutex locked by a
// try_lock loop. hnswlib nests its per-node locks in graph order (addPoint
// holds the new node's lock while searchBaseLayer locks neighbours; a later
// insert takes them the other way round). Inside HnswIndex's exclusive lock
// only one insert runs, except in AddMany, whose concurrent inserts cannot
// deadlock either: an insert at level x reaches another in-flight node only
// once that node has linked itself on level x, i.e. once its own insert has
// gone below x, so two inserts never wait for each other's node. TSan's
// lock-order detector does not model this and reports a cycle
// (with no usable stacks in gcc 12's runtime, so no suppression can match
// it); a try_lock adds no lock-order edge. Happens-before is still recorded
// on every successful try_lock, so data races inside hnswlib stay reported.
class TryLockMutex {
 public:
  void lock() {
    while (!m_.try_lock()) std::this_thread::yield();
  }
  bool try_lock() { return m_.try_lock(); }
  void unlock() { m_.unlock(); }

 private:
  std::mutex m_;
};
}  // namespace recdb_hnswlib_tsan
#endif

namespace recdb_hnswlib_rng {
// hnswlib 0.6.2's addPoint draws each new node's level from one
// std::default_random_engine (getRandomLevel) with no lock held that other
// inserts share: concurrent inserts (HnswIndex::AddMany) would race on its
// state. This is that engine (the same minstd_rand0, so a serial build draws
// the same levels as before) behind a mutex. The draws of concurrent inserts
// then come from the one sequence in some order. Costs one uncontended lock
// per insert, nothing next to the insert's distance computations.
class LockedEngine {
 public:
  using result_type = ::std::default_random_engine::result_type;
  static constexpr result_type min() { return ::std::default_random_engine::min(); }
  static constexpr result_type max() { return ::std::default_random_engine::max(); }
  void seed(result_type s) {
    ::std::lock_guard<::std::mutex> lock(mu_);
    engine_.seed(s);
  }
  result_type operator()() {
    ::std::lock_guard<::std::mutex> lock(mu_);
    return engine_();
  }

 private:
  ::std::mutex mu_;
  ::std::default_random_engine engine_;
};
}  // namespace recdb_hnswlib_rng

namespace {
namespace hnswlib {
// Seen first by the std:: names written inside namespace hnswlib; every
// other std:: name resolves to ::std through the using-directive.
namespace std {
using namespace ::std;
using default_random_engine = ::recdb_hnswlib_rng::LockedEngine;
#if defined(__SANITIZE_THREAD__)
using mutex = ::recdb_hnswlib_tsan::TryLockMutex;
#endif
}  // namespace std
}  // namespace hnswlib
#include <hnswlib/hnswlib.h>
}  // namespace

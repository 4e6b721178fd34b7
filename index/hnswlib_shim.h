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
// insert takes them the other way round), always inside HnswIndex's
// exclusive lock, so they never contend and cannot deadlock. TSan's
// lock-order detector does not model such a gate lock and reports a cycle
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

namespace {
#if defined(__SANITIZE_THREAD__)
namespace hnswlib {
// Seen first by the `std::mutex` written inside namespace hnswlib; every
// other std:: name resolves to ::std through the using-directive.
namespace std {
using namespace ::std;
using mutex = ::recdb_hnswlib_tsan::TryLockMutex;
}  // namespace std
}  // namespace hnswlib
#endif
#include <hnswlib/hnswlib.h>
}  // namespace

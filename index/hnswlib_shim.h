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

namespace {
#include <hnswlib/hnswlib.h>
}  // namespace

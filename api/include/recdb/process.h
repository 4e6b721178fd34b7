// Process-wide settings an application may choose to apply. recdb never
// changes a process-wide setting itself: the process belongs to the
// application that links recdb, so applying these is the application's
// decision (the `recdb` CLI, which owns its process, applies them).
#pragma once

#include "recdb/export.h"

namespace recdb {

// Tunes glibc's malloc for training the sequence component (modules/seq):
// allocations up to 64 MiB come from the heap and the heap is trimmed only
// past 128 MiB free (mallopt M_MMAP_THRESHOLD / M_TRIM_THRESHOLD), so the
// ~10 MB buffers each training step allocates and frees are reused instead
// of being mmap()ed and page-faulted afresh. Same model, same figures; on
// ml-100k the fit took 48.7 CPU-s and 47 thousand page faults with it
// against 70.7 CPU-s, 25 s of them in the kernel, and 3.9 million faults
// without (modules/seq/README.md). The cost: freed memory up to 128 MiB may
// stay in the process. The same without code, before the process starts:
// GLIBC_TUNABLES=glibc.malloc.mmap_threshold=67108864:glibc.malloc.trim_threshold=134217728.
// A no-op where the C library is not glibc.
RECDB_EXPORT void TuneAllocatorForTraining();

}  // namespace recdb

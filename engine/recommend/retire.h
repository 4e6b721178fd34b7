// RetireOnThisThread: frees a replaced immutable snapshot (the serving
// model) on the calling thread -- the background Train -- rather than on
// whichever request thread happens to drop the last reference.
//
// Serving takes a std::shared_ptr copy of the current model per request. When
// Train swaps a new model in, the old one is freed when its last reference
// goes: without this helper that is either inside the swap (under the lock
// every Recommend takes to read the current model) or at the end of an
// in-flight request, which then pays for unmapping and freeing hundreds of
// MB. Once the snapshot is no longer published no new reference can appear,
// so waiting for use_count() == 1 is safe; requests take milliseconds, so the
// wait is short. After `max_wait` the reference is dropped anyway (the last
// holder then frees it): a stuck holder must not stall the trainer forever.
#pragma once

#include <chrono>
#include <memory>
#include <thread>

namespace recdb {

// Returns true when the object was destroyed by this call (on this thread),
// false when another holder still had it after `max_wait` (or `old` was
// empty).
template <typename T>
bool RetireOnThisThread(std::shared_ptr<T> old,
                        std::chrono::milliseconds max_wait = std::chrono::seconds(10)) {
  if (!old) return false;
  const auto deadline = std::chrono::steady_clock::now() + max_wait;
  while (old.use_count() > 1) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  old.reset();
  return true;
}

}  // namespace recdb

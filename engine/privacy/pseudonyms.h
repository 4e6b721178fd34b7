// PseudonymChain: turns an application's raw user ids into the pseudonyms
// recdb stores (Options::pseudonyms, recdb/privacy.h).
//
// pseudonym(id) = fold over the chain's keys, oldest first:
//   x = id; x = hex(HMAC-SHA256(key, x)) for each key
// so appending a key (rotation) maps every stored pseudonym to the new one
// without knowing the raw ids. The chain's check value (the pseudonym of a
// fixed probe string) is stored in meta "privacy/pseudonym_check" so that
// Open recognises a wrong chain; it reveals nothing about any user id.
//
// Thread-safety: immutable after construction; Apply may run concurrently.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "recdb/privacy.h"
#include "recdb/status.h"

namespace recdb::privacy {

inline constexpr std::string_view kMetaPseudonymCheck = "privacy/pseudonym_check";
inline constexpr size_t kMinPseudonymKeyBytes = 16;

class PseudonymChain {
 public:
  PseudonymChain() = default;  // disabled: ids are stored as given
  explicit PseudonymChain(std::vector<std::string> keys) : keys_(std::move(keys)) {}

  // The chain `options` names: its keys, or those of its key file.
  // Errors: InvalidArgument for a key under 16 bytes, a malformed or
  // unreadable key file.
  static StatusOr<PseudonymChain> FromOptions(const PseudonymOptions& options);
  // Parses a key file's text: one hex key per line, '#' comments.
  static StatusOr<std::vector<std::string>> ParseKeyFile(std::string_view text);
  // Reads and parses a key file. Errors: NotFound / InvalidArgument.
  static StatusOr<std::vector<std::string>> ReadKeyFile(const std::string& path);

  bool enabled() const { return !keys_.empty(); }
  size_t size() const { return keys_.size(); }
  const std::vector<std::string>& keys() const { return keys_; }

  // The stored form of raw id `id` (the id itself when disabled).
  std::string Apply(std::string_view id) const;
  // `stored` (an id stored under some chain) re-keyed by `added` keys.
  static std::string Extend(std::string_view stored, const std::vector<std::string>& added);
  // The check value stored in meta (Apply of a fixed probe).
  std::string CheckValue() const;

 private:
  std::vector<std::string> keys_;
};

}  // namespace recdb::privacy

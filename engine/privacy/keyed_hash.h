// Keyed hashing for privacy: HMAC-SHA256 (OpenSSL libcrypto) and random keys.
//
// The forget ledger keeps HMAC-SHA256(ledger key, external id) instead of the
// id, so the files never hold a forgotten id in the clear.
//
// Thread-safety: pure functions (OpenSSL's one-shot HMAC is reentrant).
#pragma once

#include <string>
#include <string_view>

#include "recdb/status.h"

namespace recdb::privacy {

inline constexpr size_t kHmacSize = 32;  // SHA-256 output
inline constexpr size_t kKeySize = 32;

// The 32-byte HMAC-SHA256 of `message` under `key`.
std::string HmacSha256(std::string_view key, std::string_view message);

// `n` bytes from OpenSSL's CSPRNG. Errors: Internal if it is not seeded.
StatusOr<std::string> RandomBytes(size_t n);

// Lower-case hex of `bytes`.
std::string ToHex(std::string_view bytes);

}  // namespace recdb::privacy

// The key-file and retention-policy helpers of recdb/privacy.h, over
// engine/privacy/.
#include "recdb/privacy.h"

#include "engine/privacy/keyed_hash.h"
#include "engine/privacy/pseudonyms.h"
#include "engine/privacy/retention_policy_json.h"

namespace recdb {

StatusOr<std::string> NewPseudonymKey() {
  StatusOr<std::string> key = privacy::RandomBytes(privacy::kKeySize);
  if (!key.ok()) return key.status();
  return privacy::ToHex(*key);
}

StatusOr<std::vector<std::string>> ReadPseudonymKeyFile(const std::string& path) {
  return privacy::PseudonymChain::ReadKeyFile(path);
}

StatusOr<RetentionPolicy> ParseRetentionPolicyJson(std::string_view json) {
  return privacy::ParseRetentionPolicy(json);
}

std::string RetentionPolicyToJson(const RetentionPolicy& policy) {
  return privacy::RetentionPolicyToJson(policy);
}

}  // namespace recdb

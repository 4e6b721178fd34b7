// recdb/off_policy.h's EvaluateOffPolicy over the engine
// (DBImpl::EvaluateOffPolicy, engine/db_impl/db_impl_off_policy.cc). The estimator itself
// is engine/eval/off_policy.cc.
#include "recdb/off_policy.h"

#include "engine/db_impl/db_impl.h"

namespace recdb {

StatusOr<OffPolicyReport> EvaluateOffPolicy(DB* db, const OffPolicyOptions& options) {
  auto* impl = dynamic_cast<DBImpl*>(db);
  if (impl == nullptr) {
    return Status::NotSupported("EvaluateOffPolicy: not a database DB::Open returned");
  }
  return impl->EvaluateOffPolicy(options);
}

}  // namespace recdb

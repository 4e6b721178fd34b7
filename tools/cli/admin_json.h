// JSON documents of the admin operations that both the CLI (`--json`) and the
// HTTP service (tools/serve/api_service.cc) print: snapshots, backup
// verification, embedding spaces, privacy audit entries and erasure receipts.
// One renderer per record, so `recdb backup list --json` and GET
// /v1/snapshots, `recdb space list --json` and GET /v1/spaces, ... have the
// same shape (tests/serve/serve_cli_test.cc compares them).
#pragma once

#include <nlohmann/json.hpp>

#include "recdb/embedding.h"
#include "recdb/privacy.h"
#include "recdb/snapshot.h"

namespace recdb::cli {

// One snapshot, as `recdb backup list --json` lists it and GET /v1/snapshots:
// {"id", "name", "path", "sequence_number", "format_version",
//  "created_unix_micros", "files", "bytes", "unique_bytes"[, "problem"]
//  [, "seconds"]} ("problem" when damaged, "seconds" when just created).
nlohmann::ordered_json SnapshotToJson(const SnapshotInfo& s);

// `recdb backup verify --json` and POST /v1/snapshots/{name}/verify:
// {"ok", "snapshots", "files", "bytes_read", "problems": [{"snapshot",
// "file", "message"}]}; "ok" is false when nothing was verified.
nlohmann::ordered_json VerifyReportToJson(const VerifyReport& r);

// One embedding space, as `recdb space list|describe --json` and GET
// /v1/spaces: {"name", "dimension", "metric", "model", "model_version",
// "hnsw_m", "hnsw_ef_construction", "hnsw_ef_search", "item_vectors",
// "user_vectors", "checkpoint_sequence"}.
nlohmann::ordered_json SpaceToJson(const SpaceInfo& info);

// One audit-log entry, as `recdb privacy audit --json` and GET /v1/audit:
// {"sequence", "timestamp", "operation", "subject", "counts"}.
nlohmann::ordered_json AuditEntryToJson(const AuditEntry& e);

// The erasure receipt of `recdb forget --json` (POST /v1/forget adds
// "model_retrained" and "retrain_scheduled").
nlohmann::ordered_json ErasureReceiptToJson(const ErasureReceipt& r);

}  // namespace recdb::cli

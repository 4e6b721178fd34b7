// Conversions from the storage layer's snapshot entries to the public
// SnapshotInfo (recdb/snapshot.h).
#pragma once

#include "recdb/snapshot.h"
#include "storage/backup_dir.h"

namespace recdb::snapshot {

SnapshotInfo ToSnapshotInfo(const storage::SnapshotDirEntry& entry);

}  // namespace recdb::snapshot

// DB::Open lives in engine/db_impl/db_impl.cc; this translation unit anchors the
// shared library so that it always has one object of its own.
#include "recdb/db.h"

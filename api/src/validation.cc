// recdb/validation.h: the write path's own checks (engine/write_validation.h).
// ValidateEventType is the engine's own (engine/write_validation.cc);
// IsValidUtf8 is defined in common/utf8.cc.
#include "recdb/validation.h"

#include "engine/write_validation.h"

namespace recdb {

Status ValidateItem(const Item& item) { return ValidateItem(item, std::string_view()); }
Status ValidateUser(const User& user) { return ValidateUser(user, std::string_view()); }
Status ValidateEvent(const Event& event) { return ValidateEvent(event, std::string_view()); }

}  // namespace recdb

// Human-readable rendering shared by the CLI commands.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "recdb/records.h"

namespace recdb::cli {

// "2023-11-14 22:13:20" (UTC).
std::string FormatTime(int64_t unix_seconds);
// "1.2 MiB"
std::string FormatBytes(uint64_t bytes);
// "12,345"
std::string FormatCount(int64_t n);
// "price=9.5 tags=[a,b] new=true"
std::string FormatAttributes(const Attributes& attributes);
// "device=mobile session=s9"
std::string FormatContext(const std::map<std::string, std::string>& context);
// A number without trailing zeros: 4 -> "4", 9.5 -> "9.5".
std::string FormatNumber(double v);

// Multi-line human views of one record.
std::string DescribeItem(const Item& item);
std::string DescribeUser(const User& user);
// One line: "2023-11-14 22:13:20  rating  i42  value=4  device=mobile"
std::string DescribeEvent(const Event& e, bool show_user, const std::string& title = "");

}  // namespace recdb::cli

#include "tools/cli/format.h"

#include <cstdio>
#include <ctime>

namespace recdb::cli {

std::string FormatTime(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return std::to_string(unix_seconds);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

std::string FormatBytes(uint64_t bytes) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024.0 && u < 4) {
    v /= 1024.0;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), u == 0 ? "%.0f %s" : "%.1f %s", v, kUnits[u]);
  return buf;
}

std::string FormatCount(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

std::string FormatNumber(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.10g", v);
  return buf;
}

std::string FormatAttributes(const Attributes& attributes) {
  std::string out;
  for (const auto& [k, v] : attributes) {
    if (!out.empty()) out += ' ';
    out += k + "=";
    if (const auto* s = std::get_if<std::string>(&v)) {
      out += *s;
    } else if (const auto* d = std::get_if<double>(&v)) {
      out += FormatNumber(*d);
    } else if (const auto* b = std::get_if<bool>(&v)) {
      out += *b ? "true" : "false";
    } else if (const auto* l = std::get_if<std::vector<std::string>>(&v)) {
      out += '[';
      for (size_t i = 0; i < l->size(); ++i) out += (i ? "," : "") + (*l)[i];
      out += ']';
    }
  }
  return out;
}

std::string FormatContext(const std::map<std::string, std::string>& context) {
  std::string out;
  for (const auto& [k, v] : context) {
    if (!out.empty()) out += ' ';
    out += k + "=" + v;
  }
  return out;
}

std::string DescribeItem(const Item& item) {
  std::string out = "item " + item.id + "\n";
  auto line = [&out](const char* name, const std::string& value) {
    if (!value.empty()) out += std::string("  ") + name + ": " + value + "\n";
  };
  line("title", item.title);
  line("description", item.description);
  std::string cats;
  for (const auto& c : item.categories) cats += (cats.empty() ? "" : ", ") + c;
  line("categories", cats);
  line("creator", item.creator);
  if (item.created_at != 0) line("created_at", FormatTime(item.created_at) + " UTC");
  line("available", item.available ? "yes" : "no");
  line("attributes", FormatAttributes(item.attributes));
  return out;
}

std::string DescribeUser(const User& user) {
  std::string out = "user " + user.id + "\n";
  if (!user.attributes.empty()) out += "  attributes: " + FormatAttributes(user.attributes) + "\n";
  auto yn = [](bool b) { return b ? "yes" : "no"; };
  out += std::string("  consent: personalization=") + yn(user.consent.personalization) +
         " store_events=" + yn(user.consent.store_events) +
         " training=" + yn(user.consent.training) + "\n";
  return out;
}

std::string DescribeEvent(const Event& e, bool show_user, const std::string& title) {
  std::string out = FormatTime(e.timestamp) + "  ";
  if (show_user) out += e.user + "  ";
  std::string type = e.type;
  if (type.size() < 11) type.resize(11, ' ');
  out += type + "  " + e.item;
  if (!title.empty()) out += "  \"" + title + "\"";
  if (e.has_value) out += "  value=" + FormatNumber(e.value);
  if (!e.context.empty()) out += "  " + FormatContext(e.context);
  return out;
}

}  // namespace recdb::cli

#include "tools/bench/bench.h"

#include <utility>

namespace recdb::bench {

Flags::Flags(const std::string& bench, std::string description)
    : args_("bench " + bench, Registry().count(bench) ? Registry().at(bench).summary : "",
            std::move(description)) {}

bool Flags::Parse(int argc, char** argv) { return args_.Parse(argc, argv, &exit_code_); }

void Flags::AddWorldSizeFlags(int64_t items, int64_t users, int64_t events) {
  args_.AddFlag("items", "N", "synthetic world: items", std::to_string(items));
  args_.AddFlag("users", "N", "synthetic world: users", std::to_string(users));
  args_.AddFlag("events", "N", "synthetic world: events", std::to_string(events));
}

void Flags::Bad(const std::string& message) {
  if (exit_code_ == 0) exit_code_ = cli::UsageError(args_.command(), message);
}

int64_t Flags::Int(const std::string& name, int64_t min) {
  auto v = args_.GetInt(name);
  if (!v.ok()) return Bad(v.status().message()), 0;
  if (*v < min) return Bad("--" + name + " must be at least " + std::to_string(min)), 0;
  return *v;
}

double Flags::Double(const std::string& name, double min) {
  auto v = args_.GetDouble(name);
  if (!v.ok()) return Bad(v.status().message()), 0;
  if (*v < min) return Bad("--" + name + " must be at least " + std::to_string(min)), 0;
  return *v;
}

std::map<std::string, BenchInfo>& Registry() {
  static std::map<std::string, BenchInfo> registry;
  return registry;
}

}  // namespace recdb::bench

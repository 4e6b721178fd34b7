#include "tools/cli/args.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <system_error>
#include <vector>

#include <nlohmann/json.hpp>

namespace recdb::cli {

ArgParser::ArgParser(std::string command, std::string summary, std::string description)
    : command_(std::move(command)),
      summary_(std::move(summary)),
      description_(std::move(description)) {}

void ArgParser::AddPositional(std::string name, std::string help, bool required) {
  positionals_.push_back(Pos{std::move(name), std::move(help), required});
}

void ArgParser::AddFlag(std::string name, std::string value_name, std::string help,
                        std::string default_value) {
  flags_.push_back(
      Flag{std::move(name), std::move(value_name), std::move(help), std::move(default_value), false});
}

void ArgParser::AddRepeatedFlag(std::string name, std::string value_name, std::string help) {
  flags_.push_back(Flag{std::move(name), std::move(value_name), std::move(help), "", true});
}

void ArgParser::AddSwitch(std::string name, std::string help) {
  flags_.push_back(Flag{std::move(name), "", std::move(help), "", false});
}

const ArgParser::Flag* ArgParser::FindFlag(const std::string& name) const {
  for (const auto& f : flags_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

bool ArgParser::Parse(int argc, char** argv, int* exit_code) {
  auto usage_error = [&](const std::string& msg) {
    *exit_code = UsageError(command_, msg);
    return false;
  };
  size_t next_pos = 0;
  bool only_positionals = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (!only_positionals && (arg == "--help" || arg == "-h")) {
      std::cout << Help();
      *exit_code = kExitOk;
      return false;
    }
    if (!only_positionals && arg == "--") {
      only_positionals = true;
      continue;
    }
    if (!only_positionals && arg.size() > 2 && arg.compare(0, 2, "--") == 0) {
      std::string name = arg.substr(2);
      std::string value;
      bool has_inline = false;
      if (size_t eq = name.find('='); eq != std::string::npos) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
        has_inline = true;
      }
      const Flag* flag = FindFlag(name);
      if (flag == nullptr) return usage_error("unknown flag '--" + name + "'");
      if (flag->value_name.empty()) {
        if (has_inline) return usage_error("--" + name + " takes no value");
        values_[name] = "true";
        continue;
      }
      if (!has_inline) {
        if (i + 1 >= argc) return usage_error("--" + name + " needs a value (" +
                                              flag->value_name + ")");
        value = argv[++i];
      }
      if (flag->repeated) {
        repeated_values_[name].push_back(value);
        values_[name] = value;
        continue;
      }
      if (values_.count(name)) return usage_error("--" + name + " given twice");
      values_[name] = value;
      continue;
    }
    if (!only_positionals && arg.size() == 2 && arg[0] == '-' && FindFlag(arg.substr(1)) &&
        !FindFlag(arg.substr(1))->value_name.empty()) {
      // A one-letter flag, e.g. -k 10.
      std::string name = arg.substr(1);
      if (i + 1 >= argc) return usage_error("-" + name + " needs a value");
      if (values_.count(name)) return usage_error("-" + name + " given twice");
      values_[name] = argv[++i];
      continue;
    }
    if (!only_positionals && arg.size() > 1 && arg[0] == '-' && arg != "-") {
      return usage_error("unknown option '" + arg + "'");
    }
    if (next_pos >= positionals_.size()) return usage_error("unexpected argument '" + arg + "'");
    positional_values_[positionals_[next_pos++].name] = arg;
  }
  for (size_t p = next_pos; p < positionals_.size(); ++p) {
    if (positionals_[p].required) return usage_error("missing " + positionals_[p].name);
  }
  return true;
}

std::vector<std::string> ArgParser::GetAll(const std::string& name) const {
  auto it = repeated_values_.find(name);
  return it == repeated_values_.end() ? std::vector<std::string>{} : it->second;
}

bool ArgParser::Has(const std::string& name) const { return values_.count(name) > 0; }

std::string ArgParser::Get(const std::string& name) const {
  if (auto it = values_.find(name); it != values_.end()) return it->second;
  const Flag* f = FindFlag(name);
  return f ? f->default_value : "";
}

StatusOr<int64_t> ArgParser::GetInt(const std::string& name) const {
  std::string s = Get(name);
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size()) {
    return Status::InvalidArgument("--" + name + ": expected an integer, got '" + s + "'");
  }
  return v;
}

StatusOr<double> ArgParser::GetDouble(const std::string& name) const {
  std::string s = Get(name);
  double v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(v)) {
    return Status::InvalidArgument("--" + name + ": expected a number, got '" + s + "'");
  }
  return v;
}

std::string ArgParser::Positional(const std::string& name) const {
  auto it = positional_values_.find(name);
  return it == positional_values_.end() ? "" : it->second;
}

std::string ArgParser::Help() const {
  std::string out = "Usage: recdb " + command_;
  for (const auto& p : positionals_) out += p.required ? " " + p.name : " [" + p.name + "]";
  if (!flags_.empty()) out += " [flags]";
  out += "\n\n" + summary_ + "\n";
  if (!description_.empty()) out += "\n" + description_ + "\n";
  auto row = [&out](const std::string& left, const std::string& help) {
    std::string l = "  " + left;
    if (l.size() < 26) {
      l.resize(26, ' ');
    } else {
      l += "\n" + std::string(26, ' ');
    }
    out += l + help + "\n";
  };
  if (!positionals_.empty()) {
    out += "\nArguments:\n";
    for (const auto& p : positionals_) row(p.name, p.help);
  }
  out += "\nFlags:\n";
  for (const auto& f : flags_) {
    std::string left = "--" + f.name + (f.value_name.empty() ? "" : " " + f.value_name);
    std::string help = f.help;
    if (!f.default_value.empty()) help += " (default: " + f.default_value + ")";
    row(left, help);
  }
  row("-h, --help", "show this help");
  return out;
}

namespace {

bool g_json_errors = false;

// {"error": {"code": ..., "message": ..., "exit_status": ...}} on stdout,
// where a --json caller reads the document; the text still goes to stderr.
void PrintJsonError(const std::string& command, const std::string& code,
                    const std::string& message, int exit_status) {
  nlohmann::ordered_json j;
  j["error"] = {{"command", command},
                {"code", code},
                {"message", message},
                {"exit_status", exit_status}};
  std::cout << j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
}

}  // namespace

void SetJsonErrors(bool on) { g_json_errors = on; }

int Fail(const std::string& command, const std::string& message) {
  std::fprintf(stderr, "recdb %s: error: %s\n", command.c_str(), message.c_str());
  if (g_json_errors) PrintJsonError(command, "failed", message, kExitFailure);
  return kExitFailure;
}

int Fail(const std::string& command, const Status& status) {
  std::fprintf(stderr, "recdb %s: error: %s\n", command.c_str(), status.ToString().c_str());
  if (g_json_errors) {
    PrintJsonError(command, StatusCodeName(status.code()), status.message(), kExitFailure);
  }
  return kExitFailure;
}

int UsageError(const std::string& command, const std::string& message) {
  std::fprintf(stderr, "recdb %s: %s\nRun 'recdb %s --help' for usage.\n", command.c_str(),
               message.c_str(), command.c_str());
  if (g_json_errors) PrintJsonError(command, "usage", message, kExitUsage);
  return kExitUsage;
}

std::map<std::string, CommandInfo>& Commands() {
  static std::map<std::string, CommandInfo> commands;
  return commands;
}

int ExecSibling(const char* command, const char* program, const char* target, int argc,
                char** argv) {
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return Fail(command, "cannot locate this program: " + ec.message());
  const std::string path = (self.parent_path() / program).string();
  std::vector<char*> args;
  args.push_back(const_cast<char*>(path.c_str()));
  for (int i = 1; i < argc; ++i) args.push_back(argv[i]);
  args.push_back(nullptr);
  std::cout.flush();
  ::execv(path.c_str(), args.data());
  return Fail(command, "cannot run " + path + ": " + std::strerror(errno) + " (built as the `" +
                           target + "` target)");
}

std::vector<std::string> SplitCommas(const std::string& value) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= value.size()) {
    const size_t comma = std::min(value.find(',', start), value.size());
    if (comma > start) out.push_back(value.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

}  // namespace recdb::cli

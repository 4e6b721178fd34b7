// The CLI's command registry and argument parser (no dependencies).
//
// Each command lives in tools/cli/cmd_NAME.cc and registers itself with
// RECDB_REGISTER_COMMAND. A command declares its positionals and flags on an
// ArgParser, which parses "--flag value", "--flag=value", boolean switches
// and "--help"/"-h", and renders the command's help text from the
// declarations.
//
// Exit codes: 0 success, 1 the operation failed, 2 the command line is wrong.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "recdb/status.h"

namespace recdb::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

class ArgParser {
 public:
  // `command` as typed ("import"), `summary` one line, `description` free text
  // shown under the usage line (may be empty).
  ArgParser(std::string command, std::string summary, std::string description = "");

  // A positional argument, in declaration order. Optional ones must come last.
  void AddPositional(std::string name, std::string help, bool required = true);
  // A flag that takes a value: --name VALUE. `default_value` is shown in help
  // and returned by Get when the flag is absent.
  void AddFlag(std::string name, std::string value_name, std::string help,
               std::string default_value = "");
  // A flag that may be given many times: --name V1 --name V2 (GetAll).
  void AddRepeatedFlag(std::string name, std::string value_name, std::string help);
  // A boolean switch: --name.
  void AddSwitch(std::string name, std::string help);

  // Parses argv[1..argc) (argv[0] is the command name). On success, true.
  // If --help was given, prints help to stdout and sets *exit_code = 0; on a
  // usage error prints it (and a hint) to stderr and sets *exit_code = 2; in
  // both cases returns false and the command should return *exit_code.
  bool Parse(int argc, char** argv, int* exit_code);

  bool Has(const std::string& name) const;  // flag or switch given
  std::string Get(const std::string& name) const;  // value or default
  // Every value of a repeated flag, in command-line order.
  std::vector<std::string> GetAll(const std::string& name) const;
  // The flag's value as a number. Errors: InvalidArgument naming the flag.
  [[nodiscard]] StatusOr<int64_t> GetInt(const std::string& name) const;
  [[nodiscard]] StatusOr<double> GetDouble(const std::string& name) const;
  // The positional's value, "" if an optional one was not given.
  std::string Positional(const std::string& name) const;

  std::string Help() const;
  const std::string& command() const { return command_; }

 private:
  struct Flag {
    std::string name;
    std::string value_name;  // empty: a switch
    std::string help;
    std::string default_value;
    bool repeated = false;
  };
  struct Pos {
    std::string name;
    std::string help;
    bool required;
  };
  const Flag* FindFlag(const std::string& name) const;

  std::string command_;
  std::string summary_;
  std::string description_;
  std::vector<Pos> positionals_;
  std::vector<Flag> flags_;
  std::map<std::string, std::string> values_;
  std::map<std::string, std::vector<std::string>> repeated_values_;
  std::map<std::string, std::string> positional_values_;
};

// Prints "recdb COMMAND: error: MESSAGE" to stderr and returns kExitFailure.
// Under SetJsonErrors(true) it also prints {"error": {"command", "code",
// "message", "exit_status"}} to stdout, so a --json caller always reads JSON.
int Fail(const std::string& command, const std::string& message);
int Fail(const std::string& command, const Status& status);
// A wrong command line (bad flag value, missing flag, out-of-range
// argument): prints the message and a --help hint, returns kExitUsage (2).
// Commands check their arguments with it before opening the database.
int UsageError(const std::string& command, const std::string& message);
inline int UsageError(const std::string& command, const Status& status) {
  return UsageError(command, status.message());
}
// Set by main() when the command line holds --json.
void SetJsonErrors(bool on);

// A comma-separated flag value ("a,b,,c") as its non-empty parts.
std::vector<std::string> SplitCommas(const std::string& value);

// Replaces this process with `program`, a sibling of this `recdb` binary in
// its directory, passing argv[1..] on (`recdb bench` runs `recdb-bench`,
// `recdb sim` runs `recdb-sim`). Returns only on failure: Fail(command, ...)
// naming `target`, the CMake target that builds the program.
int ExecSibling(const char* command, const char* program, const char* target, int argc,
                char** argv);

using CommandMain = int (*)(int argc, char** argv);

struct CommandInfo {
  CommandMain main;
  std::string summary;
  int order;  // position in `recdb --help`
};

std::map<std::string, CommandInfo>& Commands();

struct CommandRegistrar {
  CommandRegistrar(const char* name, CommandMain fn, int order, const char* summary) {
    Commands()[name] = CommandInfo{fn, summary, order};
  }
};

}  // namespace recdb::cli

#define RECDB_REGISTER_COMMAND(name, fn, order, summary) \
  static ::recdb::cli::CommandRegistrar recdb_command_registrar_##fn(name, fn, order, summary)

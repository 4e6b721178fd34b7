// Runs the built `recdb` binary (RECDB_CLI_PATH, a compile definition of the
// test targets that use it) as a user would, for the end-to-end CLI tests.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_util.h"

namespace recdb::test {

struct RunResult {
  int code = -1;    // exit status; -1 if it could not start or did not exit
  std::string out;  // stdout
  std::string err;  // stderr ("" when sent to /dev/null)
};

// Runs `recdb ARGS` (ARGS already shell-safe) to completion, capturing stdout;
// stderr goes to the file `err_path` and is read back ("/dev/null": dropped).
inline RunResult RunCli(const std::string& args, const std::string& err_path) {
  const std::string cmd = std::string(RECDB_CLI_PATH) + " " + args + " 2>" + err_path;
  RunResult r;
  std::FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) r.out.append(buf, n);
  const int status = ::pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (err_path != "/dev/null") r.err = ReadFileOrEmpty(err_path);
  return r;
}

// A fixture with a temp dir for the databases and files of one test.
class CliTestBase : public ::testing::Test {
 protected:
  RunResult Run(const std::string& args) { return RunCli(args, dir_.Sub("stderr.txt")); }

  // Run() that must exit 0 and print one JSON document.
  nlohmann::json RunJson(const std::string& args) {
    RunResult r = Run(args);
    EXPECT_EQ(r.code, 0) << args << "\n" << r.err;
    nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.out;
    return j;
  }

  TempDir dir_;
};

}  // namespace recdb::test

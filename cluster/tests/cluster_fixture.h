// The fixture of the cluster-label tests: three nats-server processes on
// 127.0.0.1 with their stores in a fresh temp dir, and the child processes a
// test starts (recdb-node, recdb-cluster serve), killed by pid at the end.
// The temp dir is removed after a passing test and kept after a failure.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cluster/testing/nats_cluster.h"

namespace recdb::cluster {

class ClusterFixture : public ::testing::Test {
 protected:
  // `name` tags the temp dir: /tmp/recdb-<name>-XXXXXX.
  explicit ClusterFixture(std::string name) : name_(std::move(name)) {}

  void SetUp() override {
    if (testing::NatsCluster::FindServer().empty()) GTEST_SKIP() << "nats-server is not installed";
    std::string tmpl = "/tmp/recdb-" + name_ + "-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto c = testing::NatsCluster::Start(dir_ + "/nats", 3, 30000);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    nats_ = std::move(c).value();
  }

  void TearDown() override {
    for (pid_t pid : pids_) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
    nats_.reset();
    if (!dir_.empty() && !HasFailure()) std::filesystem::remove_all(dir_);
    if (HasFailure()) std::fprintf(stderr, "kept %s for inspection\n", dir_.c_str());
  }

  std::string name_;
  std::string dir_;
  std::unique_ptr<testing::NatsCluster> nats_;
  std::vector<pid_t> pids_;  // children to kill at the end
};

}  // namespace recdb::cluster

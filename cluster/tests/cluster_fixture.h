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

#include "cluster/event_log.h"
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

  // Replaces chunk 1 of artifact stream `stream` (subject `subject`) by a
  // copy with its last byte flipped: the same chunk count, the manifest
  // unchanged, so only the chunk's own checks can catch it.
  static void FlipLastByteOfFirstChunk(EventLog* log, const std::string& stream,
                                       const std::string& subject) {
    auto reader = log->FollowArtifact(stream, subject);
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    LogMessage first;
    auto got = (*reader)->Next(5000, &first);
    ASSERT_TRUE(got.ok() && *got);
    ASSERT_EQ(first.stream_seq, 1u);
    reader->reset();
    std::string bad = first.body;
    bad.back() = static_cast<char>(bad.back() ^ 0x5a);
    ASSERT_TRUE(log->EraseArtifactMessage(stream, 1).ok());
    ASSERT_TRUE(log->PublishArtifact(subject, "tamper", 0, {bad}).ok());
  }

  std::string name_;
  std::string dir_;
  std::unique_ptr<testing::NatsCluster> nats_;
  std::vector<pid_t> pids_;  // children to kill at the end
};

}  // namespace recdb::cluster

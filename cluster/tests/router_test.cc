// Router and node-report parsing: no server needed (label fast).
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "cluster/event_codec.h"
#include "cluster/node.h"
#include "cluster/router.h"

namespace recdb::cluster {
namespace {

TEST(Router, RoutesEveryUserToANodeOwningItsPartition) {
  auto a = Router::ParseNodeSpec("a=0-31@127.0.0.1:8001", 64);
  auto b = Router::ParseNodeSpec("b=32-63@127.0.0.1:8002", 64);
  auto c = Router::ParseNodeSpec("c=all", 64);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->address, "127.0.0.1:8001");
  EXPECT_EQ(a->partitions.size(), 32u);
  EXPECT_EQ(c->partitions.size(), 64u);
  auto router = Router::Create(64, {*a, *b, *c});
  ASSERT_TRUE(router.ok()) << router.status().ToString();
  std::map<std::string, int> hits;
  for (int i = 0; i < 2000; ++i) {
    const std::string user = "user-" + std::to_string(i);
    const uint32_t p = PartitionOf(user, 64);
    EXPECT_EQ(router->PartitionOf(user), p);
    auto r = router->Route(user);
    ASSERT_TRUE(r.ok());
    // The first owner in table order: a for 0-31, b for 32-63; c is a replica of both.
    EXPECT_EQ((*r)->name, p < 32 ? "a" : "b") << user;
    auto owners = router->Owners(user);
    ASSERT_EQ(owners.size(), 2u);
    EXPECT_EQ(owners[1]->name, "c");
    hits[(*r)->name]++;
  }
  // FNV-1a spreads 2000 users over both halves.
  EXPECT_GT(hits["a"], 800);
  EXPECT_GT(hits["b"], 800);
  EXPECT_TRUE(router->uncovered().empty());
}

TEST(Router, UncoveredPartitionIsNotFoundAndBadTablesAreRefused) {
  auto a = Router::ParseNodeSpec("a=0-5", 8);
  ASSERT_TRUE(a.ok());
  auto router = Router::Create(8, {*a});
  ASSERT_TRUE(router.ok());
  EXPECT_EQ(router->uncovered(), (std::vector<uint32_t>{6, 7}));
  int not_found = 0;
  for (int i = 0; i < 200; ++i) {
    const std::string user = "u" + std::to_string(i);
    auto r = router->Route(user);
    if (PartitionOf(user, 8) >= 6) {
      ASSERT_FALSE(r.ok());
      EXPECT_TRUE(r.status().IsNotFound());
      EXPECT_NE(r.status().message().find("has no node"), std::string::npos);
      ++not_found;
    } else {
      ASSERT_TRUE(r.ok());
    }
  }
  EXPECT_GT(not_found, 0);

  EXPECT_TRUE(Router::Create(0, {}).status().IsInvalidArgument());
  EXPECT_TRUE(Router::Create(8, {*a, *a}).status().IsInvalidArgument());  // name twice
  auto wide = Router::ParseNodeSpec("w=0-9", 16);
  ASSERT_TRUE(wide.ok());
  EXPECT_TRUE(Router::Create(8, {*wide}).status().IsInvalidArgument());  // partition 9 of 8
  EXPECT_FALSE(Router::ParseNodeSpec("noequals", 8).ok());
  EXPECT_FALSE(Router::ParseNodeSpec("=0-3", 8).ok());
  EXPECT_FALSE(Router::ParseNodeSpec("x=3-1", 8).ok());
  EXPECT_FALSE(Router::ParseNodeSpec("x=a", 8).ok());
  EXPECT_FALSE(Router::ParseNodeSpec("x=", 8).ok());
}

TEST(Router, PartitionSetsAndNodeReportsRoundTrip) {
  std::vector<uint32_t> p;
  ASSERT_TRUE(ParsePartitionSet("7,0-3,5,3", &p).ok());
  EXPECT_EQ(p, (std::vector<uint32_t>{0, 1, 2, 3, 5, 7}));
  EXPECT_EQ(FormatPartitionSet(p), "0-3,5,7");
  EXPECT_EQ(FormatPartitionSet({}), "");
  ASSERT_TRUE(ParsePartitionSet("", &p).ok());
  EXPECT_TRUE(p.empty());

  NodeReport r;
  r.applied = 42;
  r.partitions = 64;
  r.owned = {0, 1, 2, 40};
  r.stored = 7;
  r.counted_only = 1;
  r.dropped_forgotten = 2;
  r.model_version = 3;
  r.trainer = true;
  r.updated_ms = 1700000000000;
  r.address = "127.0.0.1:9000";
  r.error = "io error: disk full\nsecond line";
  NodeReport back;
  ASSERT_TRUE(ParseNodeReport(FormatNodeReport(r), &back).ok()) << FormatNodeReport(r);
  EXPECT_EQ(back.applied, 42u);
  EXPECT_EQ(back.partitions, 64u);
  EXPECT_EQ(back.owned, r.owned);
  EXPECT_EQ(back.stored, 7u);
  EXPECT_EQ(back.counted_only, 1u);
  EXPECT_EQ(back.dropped_forgotten, 2u);
  EXPECT_EQ(back.model_version, 3u);
  EXPECT_TRUE(back.trainer);
  EXPECT_EQ(back.updated_ms, r.updated_ms);
  EXPECT_EQ(back.address, r.address);
  EXPECT_EQ(back.error, "io error: disk full second line");
  // A report of a node without model fields (before the trainer existed).
  ASSERT_TRUE(ParseNodeReport("v1 applied=5 partitions=8 owned=0-7 error=", &back).ok());
  EXPECT_EQ(back.model_version, 0u);
  EXPECT_FALSE(back.trainer);
  EXPECT_TRUE(ParseNodeReport("v2 applied=1", &back).IsCorruption());
  EXPECT_TRUE(ParseNodeReport("v1 applied=1", &back).IsCorruption());  // no error=
}

}  // namespace
}  // namespace recdb::cluster

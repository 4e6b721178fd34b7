// Router: which node serves a user. Users map to partitions by
// PartitionOf(user, partitions) (event_codec.h, fixed at stream creation);
// partitions map to nodes by a static table (the Kafka Streams
// KeyQueryMetadata pattern): given on the command line
// ("a=0-31@127.0.0.1:8001") or built from the node registry's reports
// (EventLog::ReadNodeStatuses). A partition may have several owners
// (replicas); Route picks the first owner in table order.
//
// Thread-safety: immutable after Create; every method is const.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "recdb/status.h"

namespace recdb::cluster {

struct RouteNode {
  std::string name;
  std::vector<uint32_t> partitions;  // owned partitions
  std::string address;               // where it serves HTTP ("host:port"), may be ""
};

class Router {
 public:
  // Errors: InvalidArgument for partitions == 0, a node without a name, two
  // nodes of one name, or a partition >= partitions. Partitions no node owns
  // are allowed (Route answers NotFound for their users; uncovered() lists
  // them).
  [[nodiscard]] static StatusOr<Router> Create(uint32_t partitions, std::vector<RouteNode> nodes);

  // Parses one "--node" spec: NAME=PARTITIONS[@ADDRESS], PARTITIONS as
  // "0-31,40" or "all". Errors: InvalidArgument naming the spec.
  [[nodiscard]] static StatusOr<RouteNode> ParseNodeSpec(std::string_view spec,
                                                         uint32_t partitions);

  uint32_t partitions() const { return partitions_; }
  const std::vector<RouteNode>& nodes() const { return nodes_; }

  // The user's partition.
  uint32_t PartitionOf(std::string_view user) const;
  // Every node owning the user's partition, in table order.
  std::vector<const RouteNode*> Owners(std::string_view user) const;
  // The first of them. Errors: NotFound ("partition P of user U has no
  // node") when none owns it.
  StatusOr<const RouteNode*> Route(std::string_view user) const;
  // Partitions no node owns.
  std::vector<uint32_t> uncovered() const;

 private:
  Router(uint32_t partitions, std::vector<RouteNode> nodes);

  uint32_t partitions_ = 0;
  std::vector<RouteNode> nodes_;
  std::vector<std::vector<uint32_t>> owners_;  // by partition: node indexes
};

}  // namespace recdb::cluster

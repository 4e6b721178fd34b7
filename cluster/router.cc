#include "cluster/router.h"

#include <algorithm>
#include <set>
#include <utility>

#include "cluster/event_codec.h"
#include "cluster/node.h"

namespace recdb::cluster {

Router::Router(uint32_t partitions, std::vector<RouteNode> nodes)
    : partitions_(partitions), nodes_(std::move(nodes)), owners_(partitions) {
  for (size_t i = 0; i < nodes_.size(); ++i) {
    for (uint32_t p : nodes_[i].partitions) {
      if (owners_[p].empty() || owners_[p].back() != i) owners_[p].push_back(i);
    }
  }
}

StatusOr<Router> Router::Create(uint32_t partitions, std::vector<RouteNode> nodes) {
  if (partitions == 0) return Status::InvalidArgument("router: 0 partitions");
  std::set<std::string> names;
  for (const RouteNode& n : nodes) {
    if (n.name.empty()) return Status::InvalidArgument("router: a node without a name");
    if (!names.insert(n.name).second) {
      return Status::InvalidArgument("router: node \"" + n.name + "\" given twice");
    }
    for (uint32_t p : n.partitions) {
      if (p >= partitions) {
        return Status::InvalidArgument("router: node \"" + n.name + "\" owns partition " +
                                       std::to_string(p) + " of " + std::to_string(partitions));
      }
    }
  }
  return Router(partitions, std::move(nodes));
}

StatusOr<RouteNode> Router::ParseNodeSpec(std::string_view spec, uint32_t partitions) {
  const std::string s(spec);
  const size_t eq = s.find('=');
  if (eq == std::string::npos || eq == 0) {
    return Status::InvalidArgument("node spec \"" + s + "\": want NAME=PARTITIONS[@ADDRESS]");
  }
  RouteNode n;
  n.name = s.substr(0, eq);
  std::string parts = s.substr(eq + 1);
  const size_t at = parts.find('@');
  if (at != std::string::npos) {
    n.address = parts.substr(at + 1);
    parts.resize(at);
  }
  if (parts == "all") {
    for (uint32_t p = 0; p < partitions; ++p) n.partitions.push_back(p);
  } else {
    Status st = ParsePartitionSet(parts, &n.partitions);
    if (!st.ok()) return Status::InvalidArgument("node spec \"" + s + "\": " + st.message());
    if (n.partitions.empty()) {
      return Status::InvalidArgument("node spec \"" + s + "\": no partitions");
    }
  }
  return n;
}

uint32_t Router::PartitionOf(std::string_view user) const {
  return cluster::PartitionOf(user, partitions_);
}

std::vector<const RouteNode*> Router::Owners(std::string_view user) const {
  std::vector<const RouteNode*> out;
  for (size_t i : owners_[PartitionOf(user)]) out.push_back(&nodes_[i]);
  return out;
}

StatusOr<const RouteNode*> Router::Route(std::string_view user) const {
  const uint32_t p = PartitionOf(user);
  if (owners_[p].empty()) {
    return Status::NotFound("partition " + std::to_string(p) + " of user \"" + std::string(user) +
                            "\" has no node");
  }
  return &nodes_[owners_[p].front()];
}

std::vector<uint32_t> Router::uncovered() const {
  std::vector<uint32_t> out;
  for (uint32_t p = 0; p < partitions_; ++p) {
    if (owners_[p].empty()) out.push_back(p);
  }
  return out;
}

}  // namespace recdb::cluster

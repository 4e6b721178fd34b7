// recdb cluster COMMAND [flags]: operations of a replicated recdb over a NATS
// JetStream log (cluster/README.md): create-stream, status, snapshot, serve,
// route.
//
// The commands are the separate program `recdb-cluster`
// (cluster/tools/recdb_cluster.cc), built only where libnats is installed:
// this CLI does not link libnats. It is executed from the directory holding
// this `recdb` binary with the arguments passed on, as `recdb sim` runs
// `recdb-sim`.
#include "tools/cli/args.h"

namespace recdb::cli {
namespace {

int ClusterMain(int argc, char** argv) {
  return ExecSibling("cluster", "recdb-cluster", "recdb_cluster_cli (needs libnats-dev)", argc,
                     argv);
}

}  // namespace
RECDB_REGISTER_COMMAND("cluster", ClusterMain, 92,
                       "replicated nodes over NATS JetStream (recdb cluster --help)");
}  // namespace recdb::cli

// The only translation unit of recdb_index that touches hnswlib: its types
// are TU-local (index/hnswlib_shim.h), so the wrapper, the filtered search and
// the payload codec all live here.
#include "index/hnsw_index.h"

#include <string.h>  // explicit_bzero

#include <algorithm>
#include <cstring>
#include <limits>
#include <mutex>
#include <new>
#include <queue>
#include <random>
#include <string>
#include <unordered_set>
#include <utility>

#include "common/parallel_for.h"
#include "index/brute_force_index.h"
#include "index/hnswlib_shim.h"
#include "index/index_file.h"
#include "index/vector_math.h"

namespace recdb::index {

using Graph = hnswlib::HierarchicalNSW<float>;
using hnswlib::tableint;

struct HnswIndex::Impl {
  std::unique_ptr<hnswlib::SpaceInterface<float>> space;  // outlives graph
  std::unique_ptr<Graph> graph;
};

namespace {

std::unique_ptr<hnswlib::SpaceInterface<float>> MakeSpace(uint32_t dimension, Metric metric) {
  // Cosine is inner product over unit vectors (normalised on the way in).
  if (metric == Metric::kL2) return std::make_unique<hnswlib::L2Space>(dimension);
  return std::make_unique<hnswlib::InnerProductSpace>(dimension);
}

Status FromException(const char* what_op, const std::exception& e) {
  if (dynamic_cast<const std::bad_alloc*>(&e) != nullptr) {
    return Status::ResourceExhausted(std::string(what_op) + ": out of memory");
  }
  return Status::Internal(std::string("hnswlib ") + what_op + ": " + e.what());
}

uint32_t LabelOf(const Graph& g, tableint internal) {
  return static_cast<uint32_t>(g.getExternalLabel(internal));
}

// Greedy descent through the upper layers to the layer-0 entry point, as in
// hnswlib's searchKnn (removed nodes are valid hops).
tableint DescendToLayer0(const Graph& g, const float* q) {
  tableint cur = g.enterpoint_node_;
  float cur_dist = g.isMarkedDeleted(cur)
                       ? std::numeric_limits<float>::max()
                       : g.fstdistfunc_(q, g.getDataByInternalId(cur), g.dist_func_param_);
  for (int level = g.maxlevel_; level > 0; --level) {
    bool changed = true;
    while (changed) {
      changed = false;
      const unsigned int* data = g.get_linklist(cur, level);
      const int size = g.getListCount(const_cast<unsigned int*>(data));
      const tableint* links = data + 1;
      for (int i = 0; i < size; ++i) {
        const tableint cand = links[i];
        if (g.isMarkedDeleted(cand)) continue;  // its bytes are zeros, not a position
        const float d = g.fstdistfunc_(q, g.getDataByInternalId(cand), g.dist_func_param_);
        if (d < cur_dist) {
          cur_dist = d;
          cur = cand;
          changed = true;
        }
      }
    }
  }
  return cur;
}

// Takes removed node `r` out of every link list (docs/DESIGN.md decision 9 zeroes
// its bytes, so it has no position to route by). hnswlib 0.6.2 keeps a removed
// node as a hop with its old links; with zeroed bytes it is scored as if it
// sat at the origin, and every later insert and update (neighbour heuristics,
// updatePoint's re-linking of neighbours) then drops real links in its favour
// or around it, until some live nodes have no way in and no search finds them
// (the kill -9 test's "acknowledged but not searchable", issue #4; tests/index
// ChurnKeepsEveryVectorFindable). Here each node that linked to `r` takes, in
// r's slot and any free ones, r's live neighbours closest to it, so paths
// through `r` survive and no other link is dropped. `r` keeps its own links
// only while it is the entry point and no live node can replace it; otherwise
// its lists are emptied, and a later Upsert of its id links it afresh.
// `rs` are removed together (already marked deleted): each node that linked
// to some of them takes the live neighbours of those it lost.
// Cost: one pass over the link lists of the levels the highest of `rs` is on,
// plus the re-linking of the nodes that lost links (`recdb bench ann
// --removals 1000`; figures in docs/BENCHMARKS.md, "Vector index").
void UnlinkRemoved(Graph& g, const std::vector<tableint>& rs) {
  if (rs.empty()) return;
  const size_t count = g.cur_element_count;
  std::vector<int32_t> slot(count, -1);  // node -> its position in rs, or -1
  int top = 0;
  for (size_t i = 0; i < rs.size(); ++i) {
    slot[rs[i]] = static_cast<int32_t>(i);
    top = std::max(top, g.element_levels_[rs[i]]);
  }
  std::vector<std::vector<tableint>> outs(rs.size());
  std::vector<tableint> lost;
  std::vector<std::pair<float, tableint>> by_dist;
  for (int level = 0; level <= top; ++level) {
    // The live neighbours of each removed node on this level.
    for (size_t i = 0; i < rs.size(); ++i) {
      outs[i].clear();
      if (g.element_levels_[rs[i]] < level) continue;
      const unsigned int* ll = g.get_linklist_at_level(rs[i], level);
      const size_t n = g.getListCount(const_cast<unsigned int*>(ll));
      for (size_t j = 0; j < n; ++j) {
        const tableint y = ll[1 + j];
        if (slot[y] < 0 && !g.isMarkedDeleted(y)) outs[i].push_back(y);
      }
    }
    const size_t cap = level == 0 ? g.maxM0_ : g.maxM_;
    for (tableint x = 0; x < count; ++x) {
      if (slot[x] >= 0 || g.element_levels_[x] < level) continue;
      unsigned int* ll = g.get_linklist_at_level(x, level);
      size_t n = g.getListCount(ll);
      tableint* links = ll + 1;
      lost.clear();
      for (size_t j = 0; j < n;) {  // drop the removed, keeping the others in order
        if (slot[links[j]] >= 0) {
          lost.push_back(links[j]);
          links[j] = links[n - 1];
          --n;
        } else {
          ++j;
        }
      }
      if (lost.empty()) continue;
      by_dist.clear();
      for (tableint r : lost) {
        for (tableint y : outs[slot[r]]) {
          if (y == x || std::find(links, links + n, y) != links + n) continue;
          by_dist.emplace_back(
              g.fstdistfunc_(g.getDataByInternalId(x), g.getDataByInternalId(y), g.dist_func_param_),
              y);
        }
      }
      std::sort(by_dist.begin(), by_dist.end());
      for (size_t k = 0; k < by_dist.size() && n < cap; ++k) {
        if (k > 0 && by_dist[k].second == by_dist[k - 1].second) continue;  // lost twice
        if (std::find(links, links + n, by_dist[k].second) != links + n) continue;
        links[n++] = by_dist[k].second;
      }
      g.setListCount(ll, static_cast<unsigned short>(n));
    }
  }
  if (slot[g.enterpoint_node_] >= 0) {
    // A live node on the top level takes over as entry point, if any.
    for (tableint x = 0; x < count; ++x) {
      if (slot[x] < 0 && !g.isMarkedDeleted(x) && g.element_levels_[x] == g.maxlevel_) {
        g.enterpoint_node_ = x;
        break;
      }
    }
  }
  for (tableint r : rs) {
    if (r == g.enterpoint_node_) continue;
    for (int level = 0; level <= g.element_levels_[r]; ++level) {
      g.setListCount(g.get_linklist_at_level(r, level), 0);
    }
  }
}

// True if some node that `t` links to at `level` links back to `t`: an
// in-link found locally (HNSW links are mostly mutual). False may be wrong
// (an in-link from elsewhere); then one extra link is added, which is harmless.
bool HasLocalInLink(Graph& g, tableint t, int level) {
  const unsigned int* ll = g.get_linklist_at_level(t, level);
  const size_t n = g.getListCount(const_cast<unsigned int*>(ll));
  for (size_t j = 0; j < n; ++j) {
    const tableint y = ll[1 + j];
    if (g.element_levels_[y] < level) continue;
    const unsigned int* yl = g.get_linklist_at_level(y, level);
    const size_t yn = g.getListCount(const_cast<unsigned int*>(yl));
    if (std::find(yl + 1, yl + 1 + yn, t) != yl + 1 + yn) return true;
  }
  return false;
}

// Gives `t` an in-link at `level` back: from `from` (the node whose list
// dropped it) if that list has room, else from the first of t's own
// neighbours with room, else in place of from's last link.
void Relink(Graph& g, tableint t, int level, tableint from) {
  const size_t cap = level == 0 ? g.maxM0_ : g.maxM_;
  auto try_add = [&](tableint x) {
    if (x == t || g.isMarkedDeleted(x) || g.element_levels_[x] < level) return false;
    unsigned int* xl = g.get_linklist_at_level(x, level);
    const size_t xn = g.getListCount(xl);
    if (xn >= cap) return false;
    xl[1 + xn] = t;
    g.setListCount(xl, static_cast<unsigned short>(xn + 1));
    return true;
  };
  if (try_add(from)) return;
  const unsigned int* tl = g.get_linklist_at_level(t, level);
  const size_t tn = g.getListCount(const_cast<unsigned int*>(tl));
  for (size_t j = 0; j < tn; ++j) {
    if (try_add(tl[1 + j])) return;
  }
  unsigned int* fl = g.get_linklist_at_level(from, level);
  const size_t fn = g.getListCount(fl);
  if (fn > 0) fl[fn] = t;
}

// A copy of the links of `node` at `level`. hnswlib 0.6.2's
// getConnectionsWithLock (used by its updatePoint) memcpy's an empty list
// from the null data() of an empty std::vector: undefined behaviour, reported
// by UBSan, reached whenever an updated node or a neighbour has no links
// (UnlinkRemoved empties a removed node's lists; a re-Upsert updates it).
std::vector<tableint> LinksOf(const Graph& g, tableint node, int level) {
  const unsigned int* ll = g.get_linklist_at_level(node, level);
  const size_t n = g.getListCount(const_cast<unsigned int*>(ll));
  return std::vector<tableint>(ll + 1, ll + 1 + n);
}

// hnswlib 0.6.2's addPoint on a known label (un-delete, then
// updatePoint(v, node, 1.0)) step for step, the same random draws and
// iteration orders, so the graph it builds is the one hnswlib would build;
// only the link lists are read with LinksOf instead of
// getConnectionsWithLock. The caller holds HnswIndex's exclusive lock, so
// hnswlib's per-node locks are not needed.
void UpdatePoint(Graph& g, tableint node, const float* v) {
  if (g.isMarkedDeleted(node)) g.unmarkDeletedInternal(node);
  std::memcpy(g.getDataByInternalId(node), v, g.data_size_);
  const int max_level_copy = g.maxlevel_;
  const tableint entry_copy = g.enterpoint_node_;
  if (entry_copy == node && g.cur_element_count == 1) return;
  const int elem_level = g.element_levels_[node];
  std::uniform_real_distribution<float> distribution(0.0, 1.0);
  constexpr float kUpdateNeighborProbability = 1.0f;
  for (int layer = 0; layer <= elem_level; ++layer) {
    std::unordered_set<tableint> s_cand;
    std::unordered_set<tableint> s_neigh;
    const std::vector<tableint> one_hop = LinksOf(g, node, layer);
    if (one_hop.empty()) continue;
    s_cand.insert(node);
    for (tableint a : one_hop) {
      s_cand.insert(a);
      if (distribution(g.update_probability_generator_) > kUpdateNeighborProbability) continue;
      s_neigh.insert(a);
      for (tableint b : LinksOf(g, a, layer)) s_cand.insert(b);
    }
    for (tableint neigh : s_neigh) {
      std::priority_queue<std::pair<float, tableint>, std::vector<std::pair<float, tableint>>,
                          Graph::CompareByFirst>
          candidates;
      const size_t size = s_cand.count(neigh) == 0 ? s_cand.size() : s_cand.size() - 1;
      const size_t keep = std::min<size_t>(g.ef_construction_, size);
      for (tableint cand : s_cand) {
        if (cand == neigh) continue;
        const float d = g.fstdistfunc_(g.getDataByInternalId(neigh), g.getDataByInternalId(cand),
                                       g.dist_func_param_);
        if (candidates.size() < keep) {
          candidates.emplace(d, cand);
        } else if (d < candidates.top().first) {
          candidates.pop();
          candidates.emplace(d, cand);
        }
      }
      g.getNeighborsByHeuristic2(candidates, layer == 0 ? g.maxM0_ : g.maxM_);
      unsigned int* ll = g.get_linklist_at_level(neigh, layer);
      const size_t n = candidates.size();
      g.setListCount(ll, static_cast<unsigned short>(n));
      for (size_t i = 0; i < n; ++i) {
        ll[1 + i] = candidates.top().second;
        candidates.pop();
      }
    }
  }
  g.repairConnectionsForUpdate(v, entry_copy, node, elem_level, max_level_copy);
}

// hnswlib 0.6.2 updatePoint, then repair: updatePoint rewrites the link lists
// of the node's neighbours from a local candidate set, which can drop the
// only in-link of a third node; after enough updates such nodes are in the
// index but no search reaches them (issue #4: 2 of 12 kill -9 runs lost one
// after UnlinkRemoved). Every node a rewritten list dropped and that has no
// in-link left nearby gets one back (Relink).
void UpdateKeepingInLinks(Graph& g, tableint node, const float* v) {
  struct Before {
    tableint owner;
    int level;
    std::vector<tableint> links;
  };
  std::vector<Before> before;
  const int node_level = g.element_levels_[node];
  for (int level = 0; level <= node_level; ++level) {
    const unsigned int* ll = g.get_linklist_at_level(node, level);
    const size_t n = g.getListCount(const_cast<unsigned int*>(ll));
    for (size_t j = 0; j < n; ++j) {
      const tableint owner = ll[1 + j];
      const unsigned int* ol = g.get_linklist_at_level(owner, level);
      const size_t on = g.getListCount(const_cast<unsigned int*>(ol));
      before.push_back({owner, level, std::vector<tableint>(ol + 1, ol + 1 + on)});
    }
  }
  UpdatePoint(g, node, v);
  for (const Before& b : before) {
    const unsigned int* ol = g.get_linklist_at_level(b.owner, b.level);
    const size_t on = g.getListCount(const_cast<unsigned int*>(ol));
    for (tableint t : b.links) {
      if (t == node || g.isMarkedDeleted(t)) continue;
      if (std::find(ol + 1, ol + 1 + on, t) != ol + 1 + on) continue;
      if (!HasLocalInLink(g, t, b.level)) Relink(g, t, b.level, b.owner);
    }
  }
}

class AllowAll final : public SearchFilter {
 public:
  bool Allows(uint32_t) const override { return true; }
};

using DistNode = std::pair<float, tableint>;
struct ByDist {
  bool operator()(const DistNode& a, const DistNode& b) const { return a.first < b.first; }
};

// Best-first search of layer 0 that walks EVERY node (removed or filtered out
// ones are still hops, so the graph stays connected) but admits only nodes
// that are live and pass `filter` into the result set; the same rule as
// hnswlib >= 0.7's searchBaseLayerST with isIdAllowed. While fewer than ef
// nodes are admitted the walk keeps expanding, so a selective filter costs
// about ef/selectivity visits (the planner sends those to the exact scan).
// Returns up to ef (distance, internal id) pairs, worst on top.
std::priority_queue<DistNode, std::vector<DistNode>, ByDist> FilteredLayer0Search(
    const Graph& g, tableint entry, const float* q, size_t ef, const SearchFilter& filter) {
  hnswlib::VisitedList* vl = g.visited_list_pool_->getFreeVisitedList();
  hnswlib::vl_type* visited = vl->mass;
  const hnswlib::vl_type tag = vl->curV;

  std::priority_queue<DistNode, std::vector<DistNode>, ByDist> top;
  std::priority_queue<DistNode, std::vector<DistNode>, ByDist> candidates;  // -dist
  auto admit = [&](tableint id) { return !g.isMarkedDeleted(id) && filter.Allows(LabelOf(g, id)); };

  float lower_bound = std::numeric_limits<float>::max();
  const float d0 = g.fstdistfunc_(q, g.getDataByInternalId(entry), g.dist_func_param_);
  if (admit(entry)) {
    top.emplace(d0, entry);
    lower_bound = d0;
  }
  candidates.emplace(-d0, entry);
  visited[entry] = tag;

  while (!candidates.empty()) {
    const DistNode current = candidates.top();
    if (-current.first > lower_bound && top.size() >= ef) break;
    candidates.pop();
    const unsigned int* data = g.get_linklist0(current.second);
    const size_t size = g.getListCount(const_cast<unsigned int*>(data));
    const tableint* links = data + 1;
#ifdef USE_SSE
    if (size > 0) {
      _mm_prefetch(reinterpret_cast<const char*>(visited + links[0]), _MM_HINT_T0);
      _mm_prefetch(g.getDataByInternalId(links[0]), _MM_HINT_T0);
    }
#endif
    for (size_t j = 0; j < size; ++j) {
      const tableint cand = links[j];
#ifdef USE_SSE
      if (j + 1 < size) {
        _mm_prefetch(reinterpret_cast<const char*>(visited + links[j + 1]), _MM_HINT_T0);
        _mm_prefetch(g.getDataByInternalId(links[j + 1]), _MM_HINT_T0);
      }
#endif
      if (visited[cand] == tag) continue;
      visited[cand] = tag;
      // A removed node's bytes are zeros (Remove), not its position: its
      // distance would make it a hub for queries near the origin and a wall
      // for all others. It is a hop at the distance of the node that led to
      // it, so the walk passes through it exactly as it would through its
      // predecessor.
      const bool removed = g.isMarkedDeleted(cand);
      const float d = removed ? -current.first
                              : g.fstdistfunc_(q, g.getDataByInternalId(cand), g.dist_func_param_);
      if (top.size() < ef || d < lower_bound || (removed && d <= lower_bound)) {
        candidates.emplace(-d, cand);
        if (admit(cand)) {
          top.emplace(d, cand);
          if (top.size() > ef) top.pop();
          lower_bound = top.top().first;
        }
      }
    }
  }
  g.visited_list_pool_->releaseVisitedList(vl);
  return top;
}

// hnswlib's own file layout (hnswalg.h saveIndex / loadIndex), which is the
// payload of an HNSW checkpoint (index/FORMAT.md).
class PayloadReader {
 public:
  explicit PayloadReader(std::string_view bytes) : p_(bytes.data()), left_(bytes.size()) {}
  template <typename T>
  bool Read(T* v) {
    return ReadBytes(v, sizeof(T));
  }
  bool ReadBytes(void* dst, size_t n) {
    if (n > left_) return false;
    std::memcpy(dst, p_, n);
    p_ += n;
    left_ -= n;
    return true;
  }
  size_t left() const { return left_; }

 private:
  const char* p_;
  size_t left_;
};

// A payload sink for AppendSerialized: appends to a string.
class StringSink {
 public:
  explicit StringSink(std::string* out) : out_(out) {}
  Status Append(const void* data, size_t n) {
    out_->append(static_cast<const char*>(data), n);
    return Status::OK();
  }

 private:
  std::string* out_;
};

// `w`: an IndexFileWriter or a StringSink.
template <typename Sink>
Status WritePayload(const Graph& g, Sink* w) {
  auto pod = [&](const auto& v) { return w->Append(&v, sizeof(v)); };
  RECDB_RETURN_IF_ERROR(pod(g.offsetLevel0_));
  RECDB_RETURN_IF_ERROR(pod(g.max_elements_));
  RECDB_RETURN_IF_ERROR(pod(g.cur_element_count));
  RECDB_RETURN_IF_ERROR(pod(g.size_data_per_element_));
  RECDB_RETURN_IF_ERROR(pod(g.label_offset_));
  RECDB_RETURN_IF_ERROR(pod(g.offsetData_));
  RECDB_RETURN_IF_ERROR(pod(g.maxlevel_));
  RECDB_RETURN_IF_ERROR(pod(g.enterpoint_node_));
  RECDB_RETURN_IF_ERROR(pod(g.maxM_));
  RECDB_RETURN_IF_ERROR(pod(g.maxM0_));
  RECDB_RETURN_IF_ERROR(pod(g.M_));
  RECDB_RETURN_IF_ERROR(pod(g.mult_));
  RECDB_RETURN_IF_ERROR(pod(g.ef_construction_));
  RECDB_RETURN_IF_ERROR(
      w->Append(g.data_level0_memory_, g.cur_element_count * g.size_data_per_element_));
  for (size_t i = 0; i < g.cur_element_count; ++i) {
    const unsigned int bytes =
        g.element_levels_[i] > 0 ? g.size_links_per_element_ * g.element_levels_[i] : 0;
    RECDB_RETURN_IF_ERROR(pod(bytes));
    if (bytes > 0) RECDB_RETURN_IF_ERROR(w->Append(g.linkLists_[i], bytes));
  }
  return Status::OK();
}

// The fixed fields at the start of an HNSW payload (index/FORMAT.md).
struct Preamble {
  size_t offset_level0;
  size_t max_elements;  // the capacity when saved: ignored, the graph is sized for `count`
  size_t count, size_per_element, label_offset, offset_data;
  int max_level;
  tableint entry;
  size_t max_m, max_m0, m;
  double mult;  // ignored: recomputed from M by hnswlib's constructor
  size_t ef_construction;
};

// Reads the preamble of a checksum-verified payload and checks it against
// the header and FORMAT.md's layout for (dimension, M), including that the
// level-0 records fit: everything that needs no graph, so that a bad file is
// rejected before Load allocates one sized by its header.
Status ReadPreamble(PayloadReader* r, const IndexFileHeader& h, Preamble* p) {
  if (!r->Read(&p->offset_level0) || !r->Read(&p->max_elements) || !r->Read(&p->count) ||
      !r->Read(&p->size_per_element) || !r->Read(&p->label_offset) ||
      !r->Read(&p->offset_data) || !r->Read(&p->max_level) || !r->Read(&p->entry) ||
      !r->Read(&p->max_m) || !r->Read(&p->max_m0) || !r->Read(&p->m) || !r->Read(&p->mult) ||
      !r->Read(&p->ef_construction)) {
    return Status::Corruption("hnsw payload: truncated preamble");
  }
  const uint64_t links0 = sizeof(uint32_t) + 2 * sizeof(uint32_t) * h.m;  // count word + 2M slots
  const uint64_t vector = sizeof(float) * uint64_t{h.dimension};
  if (p->offset_level0 != 0 || p->offset_data != links0 || p->label_offset != links0 + vector ||
      p->size_per_element != links0 + vector + sizeof(hnswlib::labeltype) || p->m != h.m ||
      p->max_m != h.m || p->max_m0 != 2 * h.m || p->ef_construction != h.ef_construction ||
      p->count != h.element_count) {
    return Status::Corruption("hnsw payload: layout does not match the header");
  }
  if (p->count > 0 && (p->max_level < 0 || p->entry >= p->count)) {
    return Status::Corruption("hnsw payload: bad entry point");
  }
  if (p->count > r->left() / p->size_per_element) return Status::Corruption("hnsw payload: short");
  return Status::OK();
}

// Fills `g` (freshly constructed with the file's M and ef_construction and
// capacity >= p.count) from a checksum-verified payload whose preamble `p`
// ReadPreamble accepted, `r` positioned after it, checking every field and
// link so that even a payload our own writer got wrong cannot make hnswlib
// read out of bounds.
Status ReadPayload(const Preamble& p, PayloadReader* r, Graph* g) {
  // FORMAT.md's layout is hnswlib's: a graph of another layout (another
  // hnswlib) must not be filled with these bytes.
  if (p.size_per_element != g->size_data_per_element_ || p.label_offset != g->label_offset_ ||
      p.offset_data != g->offsetData_ || p.offset_level0 != g->offsetLevel0_ ||
      p.max_m != g->maxM_ || p.max_m0 != g->maxM0_ || p.count > g->max_elements_) {
    return Status::Internal("hnsw payload: hnswlib's layout is not the one index/FORMAT.md gives");
  }
  const size_t count = p.count, size_per_element = p.size_per_element;
  const size_t max_m = p.max_m, max_m0 = p.max_m0;
  const int max_level = p.max_level;
  const tableint entry = p.entry;
  r->ReadBytes(g->data_level0_memory_, count * size_per_element);

  for (size_t i = 0; i < count; ++i) {
    unsigned int bytes;
    if (!r->Read(&bytes)) return Status::Corruption("hnsw payload: truncated link lists");
    if (bytes % g->size_links_per_element_ != 0 ||
        bytes / g->size_links_per_element_ > static_cast<size_t>(max_level) ||
        bytes > r->left()) {
      return Status::Corruption("hnsw payload: bad link list size");
    }
    g->element_levels_[i] = static_cast<int>(bytes / g->size_links_per_element_);
    g->linkLists_[i] = nullptr;
    if (bytes > 0) {
      g->linkLists_[i] = static_cast<char*>(malloc(bytes));
      if (g->linkLists_[i] == nullptr) return Status::ResourceExhausted("loading hnsw links");
      r->ReadBytes(g->linkLists_[i], bytes);
    }
    g->cur_element_count = i + 1;  // so the destructor frees what we allocated
  }
  if (r->left() != 0) return Status::Corruption("hnsw payload: trailing bytes");
  if (count > 0 && g->element_levels_[entry] != max_level) {
    return Status::Corruption("hnsw payload: entry point is not on the top level");
  }

  // Every link must name an existing node that has that level.
  for (size_t i = 0; i < count; ++i) {
    const tableint id = static_cast<tableint>(i);
    for (int level = 0; level <= g->element_levels_[i]; ++level) {
      unsigned int* list = g->get_linklist_at_level(id, level);
      const size_t n = g->getListCount(list);
      if (n > (level == 0 ? max_m0 : max_m)) return Status::Corruption("hnsw payload: bad degree");
      const tableint* links = list + 1;
      for (size_t j = 0; j < n; ++j) {
        if (links[j] >= count || g->element_levels_[links[j]] < level) {
          return Status::Corruption("hnsw payload: link to a missing node");
        }
      }
      // hnswlib's search prefetches the slot after the last link and forms
      // a pointer from it; a graph it built holds zeros there, a file may
      // hold anything (pointer-overflow UB, found by tests/fuzz
      // fuzz_index_file). Unused slots carry no information: zero them.
      std::fill(list + 1 + n, list + 1 + (level == 0 ? max_m0 : max_m), 0u);
    }
    const hnswlib::labeltype label = g->getExternalLabel(id);
    if (label > std::numeric_limits<uint32_t>::max() ||
        !g->label_lookup_.emplace(label, id).second) {
      return Status::Corruption("hnsw payload: bad or duplicate id");
    }
    if (g->isMarkedDeleted(id)) ++g->num_deleted_;
  }
  g->maxlevel_ = count > 0 ? max_level : -1;
  g->enterpoint_node_ = count > 0 ? entry : static_cast<tableint>(-1);
  return Status::OK();
}

}  // namespace

HnswIndex::HnswIndex(uint32_t dimension, Metric metric, const HnswOptions& options,
                     std::unique_ptr<Impl> impl)
    : dimension_(dimension), metric_(metric), options_(options), impl_(std::move(impl)) {
  impl_->graph->setEf(options_.ef_search);
}

HnswIndex::~HnswIndex() = default;

StatusOr<std::unique_ptr<HnswIndex>> HnswIndex::Create(uint32_t dimension, Metric metric,
                                                       const HnswOptions& options) {
  if (dimension == 0) return Status::InvalidArgument("dimension must be positive");
  if (options.m < 2 || options.m > 10000) return Status::InvalidArgument("m must be in [2, 10000]");
  if (options.ef_construction == 0) return Status::InvalidArgument("ef_construction must be > 0");
  if (metric != Metric::kCosine && metric != Metric::kInnerProduct && metric != Metric::kL2) {
    return Status::InvalidArgument("unknown metric");
  }
  auto impl = std::make_unique<Impl>();
  try {
    impl->space = MakeSpace(dimension, metric);
    impl->graph = std::make_unique<Graph>(impl->space.get(),
                                          std::max<size_t>(options.initial_capacity, 1), options.m,
                                          options.ef_construction, options.random_seed);
  } catch (const std::exception& e) {
    return FromException("create", e);
  }
  return std::unique_ptr<HnswIndex>(new HnswIndex(dimension, metric, options, std::move(impl)));
}

StatusOr<std::unique_ptr<HnswIndex>> HnswIndex::Load(const std::string& path, uint32_t dimension,
                                                     Metric metric, const HnswOptions& options,
                                                     Env* env) {
  RECDB_ASSIGN_OR_RETURN(IndexFile file,
                         ReadIndexFile(env, path, IndexKind::kHnsw, dimension, metric));
  RECDB_ASSIGN_OR_RETURN(
      auto index,
      FromPayload(file.header, file.payload, dimension, metric, options, "index file " + path));
  {
    std::unique_lock lock(index->mu_);  // uncontended: nobody else has `index` yet
    index->RepairReachabilityLocked();  // files written before the repair existed
  }
  return index;
}

StatusOr<std::unique_ptr<HnswIndex>> HnswIndex::FromPayload(const IndexFileHeader& h,
                                                            std::string_view payload,
                                                            uint32_t dimension, Metric metric,
                                                            const HnswOptions& options,
                                                            const std::string& what) {
  if (h.m < 2 || h.m > 10000 || h.ef_construction == 0 ||
      h.element_count > std::numeric_limits<uint32_t>::max()) {
    return Status::Corruption(what + ": bad HNSW parameters");
  }
  // The preamble first: a header whose layout or element count the payload
  // does not match must not make Load size a graph for it (GBs for a bad
  // count; hnswlib's constructor alone allocates 2.6 MB of locks).
  PayloadReader reader(payload);
  Preamble preamble;
  if (Status s = ReadPreamble(&reader, h, &preamble); !s.ok()) return s.WithContext(what);
  HnswOptions opts = options;
  opts.m = h.m;
  opts.ef_construction = h.ef_construction;
  opts.initial_capacity = std::max<size_t>(h.element_count, std::max<size_t>(options.initial_capacity, 1));
  RECDB_ASSIGN_OR_RETURN(auto index, Create(dimension, metric, opts));
  Status s = ReadPayload(preamble, &reader, index->impl_->graph.get());
  if (!s.ok()) return s.WithContext(what);
  if (index->impl_->graph->cur_element_count - index->impl_->graph->num_deleted_ != h.live_count) {
    return Status::Corruption(what + ": live count does not match the graph");
  }
  index->options_.initial_capacity = options.initial_capacity;
  index->covered_sequence_.store(h.covered_sequence);
  return index;
}

namespace {
// AppendSerialized's header: magic, then u32 dimension, u32 metric, u64 M,
// ef_construction, element count, live count, covered sequence.
constexpr char kSerializedMagic[8] = {'R', 'D', 'B', 'H', 'N', 'S', 'W', '1'};
constexpr size_t kSerializedHeaderSize = 8 + 4 + 4 + 5 * 8;
}  // namespace

Status HnswIndex::AppendSerialized(std::string* out) const {
  std::shared_lock lock(mu_);
  const Graph& g = *impl_->graph;
  try {
    out->append(kSerializedMagic, sizeof(kSerializedMagic));
    auto pod = [&](auto v) { out->append(reinterpret_cast<const char*>(&v), sizeof(v)); };
    pod(uint32_t{dimension_});
    pod(static_cast<uint32_t>(metric_));
    pod(uint64_t{g.M_});
    pod(uint64_t{g.ef_construction_});
    pod(uint64_t{g.cur_element_count});
    pod(uint64_t{g.cur_element_count - g.num_deleted_});
    pod(uint64_t{covered_sequence_.load()});
    StringSink sink(out);
    return WritePayload(g, &sink);
  } catch (const std::bad_alloc&) {
    return Status::ResourceExhausted("serializing an hnsw index: out of memory");
  }
}

// The graph is the serialized one exactly: unlike Load, no
// RepairReachability (it would add links, so a reloaded index would answer
// otherwise than the one that served; and under inner product, where many
// nodes have no in-link on layer 0, it re-links thousands of them: 35 s at
// 100K items in `recdb bench two-stage`).
StatusOr<std::unique_ptr<HnswIndex>> HnswIndex::Deserialize(std::string_view bytes,
                                                            uint32_t dimension, Metric metric,
                                                            const HnswOptions& options) {
  const std::string what = "serialized hnsw index";
  if (bytes.size() < kSerializedHeaderSize ||
      std::memcmp(bytes.data(), kSerializedMagic, sizeof(kSerializedMagic)) != 0) {
    return Status::Corruption(what + ": bad magic or truncated header");
  }
  size_t pos = sizeof(kSerializedMagic);
  auto get = [&](auto* v) {
    std::memcpy(v, bytes.data() + pos, sizeof(*v));
    pos += sizeof(*v);
  };
  IndexFileHeader h;
  uint32_t dim = 0, metric_value = 0;
  get(&dim);
  get(&metric_value);
  get(&h.m);
  get(&h.ef_construction);
  get(&h.element_count);
  get(&h.live_count);
  get(&h.covered_sequence);
  if (metric_value > static_cast<uint32_t>(Metric::kL2) || h.live_count > h.element_count) {
    return Status::Corruption(what + ": header fields out of range");
  }
  if (dim != dimension || static_cast<Metric>(metric_value) != metric) {
    return Status::InvalidArgument(what + ": dimension " + std::to_string(dim) + " metric " +
                                   std::string(MetricToString(static_cast<Metric>(metric_value))) +
                                   ", expected " + std::to_string(dimension) + " " +
                                   std::string(MetricToString(metric)));
  }
  h.kind = IndexKind::kHnsw;
  h.dimension = dim;
  h.metric = metric;
  h.payload_size = bytes.size() - pos;
  return FromPayload(h, bytes.substr(pos), dimension, metric, options, what);
}

namespace {
size_t RepairPass(Graph& g);
}  // namespace

size_t HnswIndex::RepairReachability() {
  std::unique_lock lock(mu_);
  return RepairReachabilityLocked();
}

size_t HnswIndex::RepairReachabilityLocked() {
  Graph& g = *impl_->graph;
  const size_t count = g.cur_element_count;
  if (count - g.num_deleted_ < 2) return 0;
  size_t relinked = 0;
  // A forced link (full list) may cut another node off: walk again, a few times.
  for (int pass = 0; pass < 4; ++pass) {
    const size_t before = relinked;
    relinked += RepairPass(g);
    if (relinked == before) break;
  }
  return relinked;
}

namespace {
size_t RepairPass(Graph& g) {
  const size_t count = g.cur_element_count;
  std::vector<char> reached(count, 0);
  std::vector<tableint> queue;
  auto walk_from = [&](tableint start) {
    if (reached[start]) return;
    reached[start] = 1;
    queue.assign(1, start);
    while (!queue.empty()) {
      const tableint x = queue.back();
      queue.pop_back();
      const unsigned int* ll = g.get_linklist0(x);
      const size_t n = g.getListCount(const_cast<unsigned int*>(ll));
      for (size_t j = 0; j < n; ++j) {
        const tableint y = ll[1 + j];
        if (!reached[y]) {
          reached[y] = 1;
          queue.push_back(y);
        }
      }
    }
  };
  walk_from(g.enterpoint_node_);
  size_t relinked = 0;
  const AllowAll all;
  for (tableint t = 0; t < count; ++t) {
    if (reached[t] || g.isMarkedDeleted(t)) continue;
    const float* v = reinterpret_cast<const float*>(g.getDataByInternalId(t));
    const tableint entry = DescendToLayer0(g, v);
    auto top = FilteredLayer0Search(g, entry, v, std::max<size_t>(g.ef_construction_, 16), all);
    // Nearest reached node first; it may not be reached by the walk if the
    // search started in an unreached part (then skip it).
    std::vector<DistNode> near;
    while (!top.empty()) {
      near.push_back(top.top());
      top.pop();
    }
    std::reverse(near.begin(), near.end());
    tableint from = t;
    for (const DistNode& d : near) {
      if (d.second != t && reached[d.second]) {
        from = d.second;
        break;
      }
    }
    if (from == t) continue;  // nothing reachable found (cannot happen with a live entry)
    unsigned int* fl = g.get_linklist0(from);
    const size_t fn = g.getListCount(fl);
    if (fn < g.maxM0_) {
      fl[1 + fn] = t;
      g.setListCount(fl, static_cast<unsigned short>(fn + 1));
    } else {
      fl[fn] = t;  // the dropped node is re-checked: it is later in slot order or reached
    }
    ++relinked;
    walk_from(t);
  }
  return relinked;
}
}  // namespace

Status HnswIndex::Add(uint32_t id, std::span<const float> vector) {
  return Insert(id, vector, /*replace=*/false);
}

Status HnswIndex::Upsert(uint32_t id, std::span<const float> vector) {
  return Insert(id, vector, /*replace=*/true);
}

Status HnswIndex::AddMany(std::span<const uint32_t> ids, std::span<const float> vectors,
                          int threads, const std::function<bool()>& stopped) {
  if (vectors.size() != ids.size() * size_t{dimension_}) {
    return Status::InvalidArgument("AddMany: " + std::to_string(vectors.size()) +
                                   " floats for " + std::to_string(ids.size()) + " vectors of " +
                                   std::to_string(dimension_));
  }
  {
    std::vector<uint32_t> sorted(ids.begin(), ids.end());
    std::sort(sorted.begin(), sorted.end());
    if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
      return Status::InvalidArgument("AddMany: an id appears twice");
    }
  }
  for (size_t k = 0; k < ids.size(); ++k) {
    RECDB_RETURN_IF_ERROR(ValidateVector(vectors.subspan(k * dimension_, dimension_), dimension_));
  }
  std::vector<float> normalised;
  if (metric_ == Metric::kCosine) {
    normalised.assign(vectors.begin(), vectors.end());
    for (size_t k = 0; k < ids.size(); ++k) {
      RECDB_RETURN_IF_ERROR(NormalizeInPlace(normalised.data() + k * dimension_, dimension_));
    }
    vectors = normalised;
  }
  std::unique_lock lock(mu_);
  Graph& g = *impl_->graph;
  for (uint32_t id : ids) {
    if (g.label_lookup_.count(id) > 0) {
      // A removed id's slot would be updated in place (InsertLocked), which
      // is not safe next to concurrent inserts: the bulk path takes new ids.
      return Status::AlreadyExists("id " + std::to_string(id) + " is in the index");
    }
  }
  try {
    if (g.cur_element_count + ids.size() > g.max_elements_) {
      g.resizeIndex(g.cur_element_count + ids.size());
    }
  } catch (const std::exception& e) {
    return FromException("insert", e);
  }
  std::mutex error_mu;
  Status error;
  std::atomic<bool> failed{false};
  // Chunks of 64: a thread claims the next ids from a shared counter, so the
  // insertion order stays close to `ids`' (what keeps the graph like the
  // serial one) and the polling of `stopped` stays cheap.
  ParallelForWithScratch(
      ids.size(), threads, 64, [] { return 0; },
      [&](int&, size_t k) {
        if (failed.load(std::memory_order_relaxed)) return;
        if (stopped && stopped()) {
          failed.store(true);
          std::lock_guard<std::mutex> l(error_mu);
          if (error.ok()) error = Status::Aborted("AddMany: stopped");
          return;
        }
        try {
          g.addPoint(vectors.data() + k * dimension_, ids[k]);
        } catch (const std::exception& e) {
          failed.store(true);
          std::lock_guard<std::mutex> l(error_mu);
          if (error.ok()) error = FromException("insert", e);
        }
      });
  return error;
}

Status HnswIndex::Insert(uint32_t id, std::span<const float> vector, bool replace) {
  RECDB_RETURN_IF_ERROR(ValidateVector(vector, dimension_));
  std::vector<float> v(vector.begin(), vector.end());
  if (metric_ == Metric::kCosine) RECDB_RETURN_IF_ERROR(NormalizeInPlace(v.data(), v.size()));
  std::unique_lock lock(mu_);
  return InsertLocked(id, v.data(), replace);
}

Status HnswIndex::InsertLocked(uint32_t id, const float* v, bool replace) {
  Graph& g = *impl_->graph;
  try {
    auto it = g.label_lookup_.find(id);
    if (it != g.label_lookup_.end()) {
      if (!replace && !g.isMarkedDeleted(it->second)) {
        return Status::AlreadyExists("id " + std::to_string(id) + " is in the index");
      }
      // As hnswlib 0.6.2 addPoint on a known label (UpdatePoint): un-deletes
      // it if needed and replaces its vector in place, re-linking neighbours.
      UpdateKeepingInLinks(g, it->second, v);
      return Status::OK();
    }
    if (g.cur_element_count >= g.max_elements_) {
      g.resizeIndex(std::max<size_t>(g.max_elements_ * 2, 1024));
    }
    g.addPoint(v, id);
  } catch (const std::exception& e) {
    return FromException("insert", e);
  }
  return Status::OK();
}

Status HnswIndex::Remove(uint32_t id) {
  auto removed = RemoveMany({&id, 1});
  if (!removed.ok()) return removed.status();
  if (*removed == 0) return Status::NotFound("id " + std::to_string(id) + " is not in the index");
  return Status::OK();
}

StatusOr<size_t> HnswIndex::RemoveMany(std::span<const uint32_t> ids) {
  std::unique_lock lock(mu_);
  Graph& g = *impl_->graph;
  std::vector<tableint> rs;
  for (uint32_t id : ids) {
    auto it = g.label_lookup_.find(id);
    if (it == g.label_lookup_.end() || g.isMarkedDeleted(it->second)) continue;  // absent, or twice
    rs.push_back(it->second);
    try {
      g.markDeletedInternal(it->second);
    } catch (const std::exception& e) {
      return FromException("remove", e);
    }
  }
  try {
    UnlinkRemoved(g, rs);
  } catch (const std::exception& e) {
    return FromException("remove", e);
  }
  // Erase the vectors themselves, not just the marks (class comment).
  for (tableint r : rs) std::memset(g.getDataByInternalId(r), 0, g.data_size_);
  return rs.size();
}

bool HnswIndex::Contains(uint32_t id) const {
  std::shared_lock lock(mu_);
  const Graph& g = *impl_->graph;
  auto it = g.label_lookup_.find(id);
  return it != g.label_lookup_.end() && !g.isMarkedDeleted(it->second);
}

StatusOr<std::vector<float>> HnswIndex::Get(uint32_t id) const {
  std::shared_lock lock(mu_);
  const Graph& g = *impl_->graph;
  auto it = g.label_lookup_.find(id);
  if (it == g.label_lookup_.end() || g.isMarkedDeleted(it->second)) {
    return Status::NotFound("id " + std::to_string(id) + " is not in the index");
  }
  const float* v = reinterpret_cast<const float*>(g.getDataByInternalId(it->second));
  return std::vector<float>(v, v + dimension_);
}

size_t HnswIndex::Size() const {
  std::shared_lock lock(mu_);
  return impl_->graph->cur_element_count - impl_->graph->num_deleted_;
}

double HnswIndex::DeletedFraction() const {
  std::shared_lock lock(mu_);
  const Graph& g = *impl_->graph;
  return g.cur_element_count == 0 ? 0.0
                                  : static_cast<double>(g.num_deleted_) / g.cur_element_count;
}

HnswOptions HnswIndex::options() const {
  std::shared_lock lock(mu_);
  return options_;
}

size_t HnswIndex::ef_search() const {
  std::shared_lock lock(mu_);
  return options_.ef_search;
}

void HnswIndex::set_ef_search(size_t ef) {
  std::unique_lock lock(mu_);
  options_.ef_search = std::max<size_t>(ef, 1);
  impl_->graph->setEf(options_.ef_search);
}

size_t HnswIndex::MemoryBytes() const {
  std::shared_lock lock(mu_);
  const Graph& g = *impl_->graph;
  size_t bytes = g.max_elements_ * (g.size_data_per_element_ + sizeof(void*) + sizeof(int));
  for (size_t i = 0; i < g.cur_element_count; ++i) {
    if (g.element_levels_[i] > 0) bytes += g.size_links_per_element_ * g.element_levels_[i];
  }
  return bytes;
}

StatusOr<std::vector<Neighbor>> HnswIndex::Search(std::span<const float> query, size_t k,
                                                  const SearchFilter* filter, SearchPlan plan,
                                                  SearchStats* stats) const {
  if (k == 0) return Status::InvalidArgument("k must be positive");
  RECDB_RETURN_IF_ERROR(ValidateVector(query, dimension_));
  std::vector<float> q(query.begin(), query.end());
  if (metric_ == Metric::kCosine) RECDB_RETURN_IF_ERROR(NormalizeInPlace(q.data(), q.size()));
  SearchStats local_stats;
  if (stats == nullptr) stats = &local_stats;
  *stats = SearchStats{};

  std::shared_lock lock(mu_);
  const Graph& g = *impl_->graph;
  const size_t live = g.cur_element_count - g.num_deleted_;
  if (live == 0) return std::vector<Neighbor>{};

  // Final scores are recomputed with the shared kernels so that HNSW, the
  // exact path and BruteForceIndex agree bit for bit on every score.
  auto finish = [&](std::vector<tableint> internal_ids) {
    std::vector<Neighbor> out;
    out.reserve(internal_ids.size());
    for (tableint i : internal_ids) {
      out.push_back({LabelOf(g, i), Score(metric_, q.data(),
                                          reinterpret_cast<const float*>(g.getDataByInternalId(i)),
                                          dimension_)});
    }
    std::sort(out.begin(), out.end(), BetterNeighbor);
    if (out.size() > k) out.resize(k);
    return out;
  };

  // Exact: rank every matching live node by hnswlib's own SIMD distance
  // (ascending distance == descending score for each metric), then finish()
  // computes the reported scores for the k winners.
  auto exact = [&]() {
    TopK top(k);
    auto consider = [&](tableint i) {
      top.Push(i, -g.fstdistfunc_(q.data(), g.getDataByInternalId(i), g.dist_func_param_));
    };
    std::vector<uint32_t> matches;
    if (filter != nullptr && filter->ListMatches(&matches)) {
      for (uint32_t id : matches) {
        auto it = g.label_lookup_.find(id);
        if (it != g.label_lookup_.end() && !g.isMarkedDeleted(it->second)) consider(it->second);
      }
    } else {
      for (tableint i = 0; i < g.cur_element_count; ++i) {
        if (!g.isMarkedDeleted(i) && (filter == nullptr || filter->Allows(LabelOf(g, i)))) {
          consider(i);
        }
      }
    }
    // TopK ordered by internal id on ties; finish() re-sorts by our id.
    std::vector<tableint> ids;
    for (const Neighbor& n : top.Take()) ids.push_back(n.id);
    return finish(std::move(ids));
  };

  if (plan == SearchPlan::kAuto) {
    plan = SearchPlan::kGraph;
    if (filter != nullptr) {
      const int64_t matches = filter->EstimatedMatches();
      const double limit = std::max<double>(static_cast<double>(options_.filter_exact_max_matches),
                                            options_.filter_exact_max_fraction * live);
      if (matches >= 0 && static_cast<double>(matches) <= limit) plan = SearchPlan::kExact;
    }
  }
  stats->plan = plan;
  if (plan == SearchPlan::kExact) return exact();

  std::vector<tableint> found;
  try {
    if (filter == nullptr && g.num_deleted_ > 0) {
      // hnswlib's own search would score removed nodes by their zeroed bytes;
      // ours passes through them (FilteredLayer0Search).
      const AllowAll all;
      const tableint entry = DescendToLayer0(g, q.data());
      auto top = FilteredLayer0Search(g, entry, q.data(), std::max(options_.ef_search, k), all);
      while (top.size() > k) top.pop();
      found.reserve(top.size());
      while (!top.empty()) {
        found.push_back(top.top().second);
        top.pop();
      }
    } else if (filter == nullptr) {
      // hnswlib's own search (searchKnn's descent and layer-0 search, the
      // unfiltered hot path at raw speed) kept in internal ids: searchKnn
      // returns labels, which cost a hash lookup each (label_lookup_) to map
      // back for finish() -- 10% of a two-stage request at 200K items
      // (docs/BENCHMARKS.md, "Two-stage: a cheaper iALS search").
      const tableint entry = DescendToLayer0(g, q.data());
      auto top = g.searchBaseLayerST<false, true>(entry, q.data(), std::max(g.ef_, k));
      while (top.size() > k) top.pop();
      found.reserve(top.size());
      while (!top.empty()) {
        found.push_back(top.top().second);
        top.pop();
      }
    } else {
      const tableint entry = DescendToLayer0(g, q.data());
      auto top = FilteredLayer0Search(g, entry, q.data(), std::max(options_.ef_search, k), *filter);
      found.reserve(top.size());
      while (!top.empty()) {
        found.push_back(top.top().second);
        top.pop();
      }
    }
  } catch (const std::exception& e) {
    return FromException("search", e);
  }
  // The graph may miss matches (many removed nodes, a filter that cuts the
  // graph); the contract is min(k, matches) results, so scan exactly.
  if (found.size() < std::min(k, live)) {
    auto out = exact();
    if (out.size() > found.size()) {
      stats->fell_back_to_exact = true;
      return out;
    }
  }
  return finish(std::move(found));
}

Status HnswIndex::Save(const std::string& path, Env* env) const {
  RECDB_ASSIGN_OR_RETURN(auto writer, IndexFileWriter::Create(env, path));
  IndexFileHeader header;
  {
    std::shared_lock lock(mu_);
    const Graph& g = *impl_->graph;
    header.kind = IndexKind::kHnsw;
    header.dimension = dimension_;
    header.metric = metric_;
    header.m = g.M_;
    header.ef_construction = g.ef_construction_;
    header.element_count = g.cur_element_count;
    header.live_count = g.cur_element_count - g.num_deleted_;
    header.covered_sequence = covered_sequence_.load();
    RECDB_RETURN_IF_ERROR(WritePayload(g, writer.get()));
  }
  return writer->Finish(header);
}

StatusOr<std::unique_ptr<HnswIndex>> HnswIndex::CompactCopy() const {
  std::vector<uint32_t> ids;
  std::vector<float> vectors;
  uint64_t covered;
  HnswOptions opts;
  {
    std::shared_lock lock(mu_);
    const Graph& g = *impl_->graph;
    opts = options_;
    covered = covered_sequence_.load();
    const size_t live = g.cur_element_count - g.num_deleted_;
    try {
      ids.reserve(live);
      vectors.reserve(live * dimension_);
    } catch (const std::bad_alloc&) {
      return Status::ResourceExhausted("compact copy: out of memory");
    }
    for (const auto& [label, internal] : g.label_lookup_) {
      if (g.isMarkedDeleted(internal)) continue;
      ids.push_back(static_cast<uint32_t>(label));
    }
    std::sort(ids.begin(), ids.end());  // deterministic build order
    for (uint32_t id : ids) {
      const float* v = reinterpret_cast<const float*>(g.getDataByInternalId(g.label_lookup_.at(id)));
      vectors.insert(vectors.end(), v, v + dimension_);
    }
  }
  opts.initial_capacity = std::max<size_t>(ids.size(), 1);
  Status status;
  std::unique_ptr<HnswIndex> copy;
  if (auto created = Create(dimension_, metric_, opts); created.ok()) {
    copy = std::move(created).value();
    std::unique_lock lock(copy->mu_);  // uncontended: nobody else has `copy` yet
    for (size_t i = 0; i < ids.size() && status.ok(); ++i) {
      status = copy->InsertLocked(ids[i], vectors.data() + i * dimension_, /*replace=*/false);
    }
  } else {
    status = created.status();
  }
  // The snapshot held live vectors; leave none behind in freed heap memory.
  explicit_bzero(vectors.data(), vectors.size() * sizeof(float));
  if (!status.ok()) return status.WithContext("compact copy");
  copy->covered_sequence_.store(covered);
  return copy;
}

}  // namespace recdb::index

#include "engine/models/component_registry.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>

namespace recdb::models {

namespace {

// The plugin shared libraries the core looks for.
constexpr const char* kComponentPlugins[] = {"librecdb_seq.so"};

struct Registered {
  std::string name;
  ComponentMaker maker;
  bool in_default_blend = true;
};

struct Registry {
  std::mutex mu;
  std::vector<Registered> components;
  std::vector<std::string> plugin_errors;
};

Registry& TheRegistry() {
  static Registry* r = new Registry;  // never destroyed: plugins outlive exit order
  return *r;
}

// The directory of the object (executable or shared library) that holds
// this function, with a trailing slash, or "".
std::string CoreDirectory() {
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&LoadComponentPlugins), &info) == 0 || !info.dli_fname) {
    return "";
  }
  std::string path = info.dli_fname;
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash + 1);
}

}  // namespace

std::vector<std::string> OptedInComponents() {
  std::vector<std::string> names;
  const char* env = std::getenv("RECDB_COMPONENTS");
  if (!env) return names;
  std::string_view s(env);
  while (!s.empty()) {
    const size_t comma = s.find(',');
    std::string_view name = s.substr(0, comma);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    if (!name.empty()) names.emplace_back(name);
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return names;
}

bool RegisterComponent(std::string name, ComponentMaker maker, bool in_default_blend) {
  Registry& r = TheRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  for (const Registered& c : r.components) {
    if (c.name == name) return false;
  }
  r.components.push_back({std::move(name), std::move(maker), in_default_blend});
  return true;
}

std::vector<std::string> RegisteredComponentNames(bool default_blend_only) {
  Registry& r = TheRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  std::vector<std::string> names;
  const std::vector<std::string> opted = OptedInComponents();
  for (const Registered& c : r.components) {
    const bool opted_in = std::find(opted.begin(), opted.end(), c.name) != opted.end();
    if (!default_blend_only || c.in_default_blend || opted_in) names.push_back(c.name);
  }
  return names;
}

RecommenderFactory RegisteredComponentFactory(std::string_view name, const ComponentConfig& config) {
  ComponentMaker maker;
  {
    Registry& r = TheRegistry();
    std::lock_guard<std::mutex> lock(r.mu);
    for (const Registered& c : r.components) {
      if (c.name == name) maker = c.maker;
    }
  }
  return maker ? maker(config) : nullptr;
}

void LoadComponentPlugins() {
  static std::once_flag once;
  std::call_once(once, [] {
    const char* off = std::getenv("RECDB_NO_PLUGINS");
    if (off && *off && std::string(off) != "0") return;
    std::vector<std::string> dirs;
    if (const char* d = std::getenv("RECDB_PLUGIN_DIR"); d && *d) dirs.push_back(std::string(d) + "/");
    dirs.push_back(CoreDirectory());
#ifdef RECDB_PLUGIN_BUILD_DIR
    dirs.push_back(RECDB_PLUGIN_BUILD_DIR "/");
#endif
    dirs.push_back("");  // the dynamic linker's search path
    std::vector<std::string> errors;
    for (const char* plugin : kComponentPlugins) {
      std::string why;
      bool loaded = false;
      for (const std::string& dir : dirs) {
        const std::string path = dir + plugin;
        if (dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL) != nullptr) {
          loaded = true;
          break;
        }
        const char* e = dlerror();
        // "cannot open shared object file" is the usual miss; keep the
        // first other reason (an undefined symbol says more).
        if (e && (why.empty() || why.find("cannot open") != std::string::npos)) why = e;
      }
      if (!loaded) errors.push_back(std::string(plugin) + ": " + why);
    }
    Registry& r = TheRegistry();
    std::lock_guard<std::mutex> lock(r.mu);
    r.plugin_errors = std::move(errors);
  });
}

std::vector<std::string> LoadedPluginErrors() {
  Registry& r = TheRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  return r.plugin_errors;
}

}  // namespace recdb::models

// Component registry: blend components that live outside the core library.
//
// A module the core must not depend on (modules/seq: a Transformer on
// libtorch) adds its component here, and the fused blend picks it up:
// DefaultComponentFactory(name) falls back to the registry, and
// DefaultFusedComponents appends every registered component whose
// `in_default_blend` is set or that $RECDB_COMPONENTS names, so training, loading a stored model and
// `recdb eval` see it exactly like a built-in one.
//
// How a module gets in: either the binary links it and calls its register
// function, or LoadComponentPlugins() dlopen()s the plugin shared libraries
// that are installed, whose static initializers call RegisterComponent. It
// runs once per process and only when a plugin's component is asked for:
// DefaultFusedComponents when $RECDB_COMPONENTS names one,
// DefaultComponentFactory for a name no built-in has (a stored model with a
// `seq` component), eval for such a name in --recommenders. A dlopen() pulls
// the plugin's dependency tree (libtorch: ~0.4 s per process), which a
// process that never uses it must not pay. Plugins searched, first hit wins, per plugin name
// (kComponentPlugins): $RECDB_PLUGIN_DIR/<name>, the directory of the
// object holding the core (the executable, or librecdb.so), the build
// tree's plugin directory, then the bare name (the dynamic linker's search
// path). RECDB_NO_PLUGINS=1 in the environment loads none (the blend
// without the optional components). A plugin that fails to load (missing,
// or an undefined symbol because the host does not export the core) is
// skipped; LoadedPluginErrors() says why.
//
// Thread-safety: RegisterComponent and LoadComponentPlugins may be called
// from any thread; registration is expected at load time.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/models/fused.h"
#include "recdb/export.h"

namespace recdb::models {

// Makes the factory of a component from the blend's configuration.
using ComponentMaker = std::function<RecommenderFactory(const ComponentConfig&)>;

// Registers component `name`. Exported from librecdb.so (RECDB_EXPORT,
// tests/abi/public_symbols.txt "Plugin interface"): a plugin's static
// initializer calls it. A name registered twice keeps the first
// registration (and returns false), as does a built-in name.
RECDB_EXPORT bool RegisterComponent(std::string name, ComponentMaker maker, bool in_default_blend = true);

// The components named in $RECDB_COMPONENTS (comma-separated, e.g.
// "seq"): registered components that are not in the default blend join it
// when named there (the opt-in for a component that would slow every Train,
// modules/seq/README.md). Empty when unset.
std::vector<std::string> OptedInComponents();

// The registered components' names, in registration order; with
// `default_blend_only`, those that join DefaultFusedComponents (registered
// with `in_default_blend`, or opted in by $RECDB_COMPONENTS).
std::vector<std::string> RegisteredComponentNames(bool default_blend_only = false);

// The factory of registered component `name`, or null.
RecommenderFactory RegisteredComponentFactory(std::string_view name, const ComponentConfig& config);

// Loads the component plugins once per process (see above). Cheap after the
// first call.
void LoadComponentPlugins();

// Why each plugin that was looked for did not load (empty when all loaded
// or plugins are disabled), e.g. for `recdb eval --verbose`.
std::vector<std::string> LoadedPluginErrors();

}  // namespace recdb::models

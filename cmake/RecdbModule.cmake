# recdb_include_root(TARGET NAME DIR): gives TARGET (PUBLIC) an include root
# that holds one entry, NAME -> DIR, a symlink staged in the build tree
# (build/include_roots/NAME/NAME). Sources keep their repository-relative
# spelling (#include "storage/store.h"), yet a target sees a module's headers
# only if it links that module: the repository root is on no include path, so
# an upward #include (storage/ including engine/) fails to compile
# (docs/DESIGN.md "Layout and layering"; ctest `layering_compile`).
# NAME may be nested (modules/seq: #include "modules/seq/x.h").
function(recdb_include_root target name dir)
  set(_root ${PROJECT_BINARY_DIR}/include_roots/${name})
  get_filename_component(_parent ${_root}/${name} DIRECTORY)
  file(MAKE_DIRECTORY ${_parent})
  file(CREATE_LINK ${dir} ${_root}/${name} SYMBOLIC)
  target_include_directories(${target} PUBLIC $<BUILD_INTERFACE:${_root}>)
endfunction()

# recdb_module(NAME DIR DEPS...): a static library from every .cc under DIR
# (recursively), with DIR as its include root (recdb_include_root, named for
# DIR's path in the repository) and DEPS as the modules it may use. Globbing lets a
# module grow a file without editing CMake; CONFIGURE_DEPENDS re-globs on
# every build.
function(recdb_module name dir)
  file(GLOB_RECURSE _srcs CONFIGURE_DEPENDS ${dir}/*.cc)
  if(NOT _srcs)  # a module with no sources yet still links
    set(_empty ${CMAKE_CURRENT_BINARY_DIR}/${name}_empty.cc)
    file(WRITE ${_empty} "// ${name} has no sources yet\n")
    set(_srcs ${_empty})
  endif()
  add_library(${name} STATIC ${_srcs})
  file(RELATIVE_PATH _rel ${PROJECT_SOURCE_DIR} ${dir})
  recdb_include_root(${name} ${_rel} ${dir})
  target_link_libraries(${name} PUBLIC ${ARGN})
endfunction()

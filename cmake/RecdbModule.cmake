# recdb_module(NAME DIR DEPS...): a static library from every .cc under DIR
# (recursively). Globbing lets a module grow a file without editing CMake;
# CONFIGURE_DEPENDS re-globs on every build.
function(recdb_module name dir)
  file(GLOB_RECURSE _srcs CONFIGURE_DEPENDS ${dir}/*.cc)
  if(NOT _srcs)  # a module with no sources yet still links
    set(_empty ${CMAKE_CURRENT_BINARY_DIR}/${name}_empty.cc)
    file(WRITE ${_empty} "// ${name} has no sources yet\n")
    set(_srcs ${_empty})
  endif()
  add_library(${name} STATIC ${_srcs})
  target_link_libraries(${name} PUBLIC ${ARGN})
endfunction()

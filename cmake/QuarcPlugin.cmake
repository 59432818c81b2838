# quarc_add_pass_plugin(NAME SOURCE...): builds a pass plugin for quarc-opt
# and quarc (`--load-pass-plugin=$<TARGET_FILE:NAME>`). Part of the quarc
# CMake package (QuarcConfig.cmake); docs/plugins.md.
#
# The plugin is compiled like quarc itself (C++17, LLVM's definitions and,
# unless LLVM was built with RTTI, -fno-rtti: the classes it derives from
# must match) and links nothing of quarc or MLIR: the loading tool provides
# both, so that there is one quarc dialect and one pass registry in the
# process. Undefined symbols are resolved when it is loaded.
function(quarc_add_pass_plugin name)
  add_library(${name} MODULE ${ARGN})
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    CXX_STANDARD 17
    CXX_STANDARD_REQUIRED ON
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  target_link_libraries(${name} PRIVATE Quarc::Headers)
  separate_arguments(definitions UNIX_COMMAND "${LLVM_DEFINITIONS}")
  target_compile_definitions(${name} PRIVATE ${definitions})
  if(NOT LLVM_ENABLE_RTTI)
    target_compile_options(${name} PRIVATE -fno-rtti)
  endif()
endfunction()

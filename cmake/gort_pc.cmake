# cmake/gort_pc.cmake - writes gort.pc at install time (see the install(CODE)
# in CMakeLists.txt). CMAKE_INSTALL_PREFIX here is the prefix of the install
# under way, which `cmake --install --prefix` may have changed since the
# configure; relative install dirs hang off it, absolute ones stay as given.
function(gort_write_pc in out)
  set(GORT_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
  foreach(d LIBDIR INCLUDEDIR)
    if(NOT IS_ABSOLUTE "${GORT_PC_${d}}")
      set(GORT_PC_${d} "\${prefix}/${GORT_PC_${d}}")
    endif()
  endforeach()
  set(GORT_PC_DL_FLAGS "")
  foreach(l IN LISTS GORT_PC_DL)
    string(APPEND GORT_PC_DL_FLAGS " -l${l}")
  endforeach()
  configure_file("${in}" "${out}" @ONLY)
endfunction()

# SPDX-License-Identifier: MIT
#
# Install rules (included by the top-level CMakeLists.txt when SYSRING_INSTALL
# is on). Components, as the Debian packages split them:
#   runtime  libsysring.so.0 and its real file
#   dev      headers, libsysring.so, libsysring.a, sysring.pc, the CMake
#            package, man pages of sections 3 and 7
#   tools    sdu and its page
#   dkms     (only when asked: cmake --install BUILD --component dkms) the
#            module's source tree where DKMS looks for it,
#            /usr/src/sysring-VERSION, the udev rule, the sysusers.d entry
#            that creates the group "sysring", and the module's page
#            (sysring.ko(4): the page goes with the module, as in the
#            sysring-dkms package)
# The DKMS tree, the udev rule and the sysusers.d entry go to the system's
# own directories (absolute: dkms, udev and systemd-sysusers read nothing
# under /usr/local), staged under DESTDIR when set; the cache variables
# SYSRING_DKMS_SOURCE_DIR, SYSRING_UDEV_RULES_DIR and SYSRING_SYSUSERS_DIR
# move them.
include(CMakePackageConfigHelpers)

set(SYSRING_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/sysring)

install(TARGETS sysring EXPORT sysringTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT dev)
install(TARGETS sysring_static EXPORT sysringTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev)
install(FILES include/sysring.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev)
install(DIRECTORY include/sysring DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev
  FILES_MATCHING PATTERN "*.h")

# ---- CMake package: find_package(sysring) ----
install(EXPORT sysringTargets NAMESPACE sysring:: DESTINATION ${SYSRING_CMAKEDIR} COMPONENT dev)
configure_package_config_file(cmake/sysringConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/sysringConfig.cmake INSTALL_DESTINATION ${SYSRING_CMAKEDIR})
# 0.x: a minor release may change the API, so only the same minor matches.
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/sysringConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/sysringConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/sysringConfigVersion.cmake
  DESTINATION ${SYSRING_CMAKEDIR} COMPONENT dev)

# ---- pkg-config: sysring.pc ----
# Written at install time, so that `cmake --install BUILD --prefix P` gets a
# file that names P (the prefix given then, not the one configured).
foreach(d LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${d}}")
    set(SYSRING_PC_${d} "${CMAKE_INSTALL_${d}}")
  else()
    set(SYSRING_PC_${d} "\\\${prefix}/${CMAKE_INSTALL_${d}}") # stays ${prefix}/... in the file
  endif()
endforeach()
set(SYSRING_PC_IN ${PROJECT_SOURCE_DIR}/cmake/sysring.pc.in)
set(SYSRING_PC_OUT ${CMAKE_CURRENT_BINARY_DIR}/pkgconfig/sysring.pc)
configure_file(cmake/install_pc.cmake.in ${CMAKE_CURRENT_BINARY_DIR}/install_pc.cmake @ONLY)
install(SCRIPT ${CMAKE_CURRENT_BINARY_DIR}/install_pc.cmake COMPONENT dev)
install(FILES ${SYSRING_PC_OUT} DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)

# ---- man pages ----
install(DIRECTORY man/man3 man/man7 DESTINATION ${CMAKE_INSTALL_MANDIR} COMPONENT dev)

# ---- tools ----
if(SYSRING_BUILD_TOOLS)
  install(TARGETS sdu RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT tools)
  install(FILES man/man1/sdu.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT tools)
endif()

# ---- the kernel module's source, for DKMS (only when asked) ----
# The tree DKMS builds from: dkms.conf at its top, kmod/, and the headers
# the module shares with the library (include/sysring, src/core, src/table),
# the same layout scripts/guest/run.sh builds from.
file(STRINGS kmod/dkms.conf _dkms_version REGEX "^PACKAGE_VERSION=")
if(NOT _dkms_version STREQUAL "PACKAGE_VERSION=\"${PROJECT_VERSION}\"")
  message(FATAL_ERROR "kmod/dkms.conf says ${_dkms_version}; the project is ${PROJECT_VERSION}")
endif()
set(SYSRING_DKMS_SOURCE_DIR /usr/src CACHE PATH "where DKMS takes module sources (dkms's source_tree)")
set(SYSRING_UDEV_RULES_DIR /usr/lib/udev/rules.d CACHE PATH "udev's rules directory (Debian: /usr/lib/udev/rules.d = /lib/udev/rules.d)")
set(SYSRING_SYSUSERS_DIR /usr/lib/sysusers.d CACHE PATH "systemd-sysusers' directory")
set(SYSRING_DKMS_DIR ${SYSRING_DKMS_SOURCE_DIR}/sysring-${PROJECT_VERSION})
file(GLOB _kmod_sources CONFIGURE_DEPENDS kmod/*.c kmod/*.h)
list(FILTER _kmod_sources EXCLUDE REGEX "\\.mod\\.c$")
install(FILES kmod/dkms.conf DESTINATION ${SYSRING_DKMS_DIR} COMPONENT dkms EXCLUDE_FROM_ALL)
install(FILES ${_kmod_sources} kmod/Kbuild kmod/Makefile DESTINATION ${SYSRING_DKMS_DIR}/kmod
  COMPONENT dkms EXCLUDE_FROM_ALL)
install(DIRECTORY include/sysring DESTINATION ${SYSRING_DKMS_DIR}/include COMPONENT dkms EXCLUDE_FROM_ALL
  FILES_MATCHING PATTERN "*.h")
install(DIRECTORY src/core src/table DESTINATION ${SYSRING_DKMS_DIR}/src COMPONENT dkms EXCLUDE_FROM_ALL
  FILES_MATCHING PATTERN "*.h" PATTERN "*.def")
install(FILES kmod/60-sysring.rules DESTINATION ${SYSRING_UDEV_RULES_DIR}
  COMPONENT dkms EXCLUDE_FROM_ALL)
# The rule's group: systemd-sysusers creates it from this entry (at boot, or
# at once with `systemd-sysusers`); without systemd, `groupadd --system
# sysring`. The Debian package creates it in its postinst.
install(FILES kmod/sysring.sysusers DESTINATION ${SYSRING_SYSUSERS_DIR} RENAME sysring.conf
  COMPONENT dkms EXCLUDE_FROM_ALL)
install(FILES man/man4/sysring.ko.4 DESTINATION ${CMAKE_INSTALL_MANDIR}/man4 COMPONENT dkms EXCLUDE_FROM_ALL)

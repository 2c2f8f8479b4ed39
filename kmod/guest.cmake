# SPDX-License-Identifier: MIT
#
# The kernel-module tests, included by the top-level CMakeLists.txt. Both run
# in a qemu guest booted by scripts/guest/run.sh (Debian's 6.1 kernel under
# TCG; see ../shared/GUEST.md), with the label "guest":
#
#   guest:kmod     the module's own programs (tests/guest/*.c: BATCH, SYSLET,
#                  the ring, unload/permissions, the hostile programs of
#                  issue 14, the 120,000-ioctl fuzzer), all in one boot
#   guest:kmod:soak  the same, longer (label soak): 1.2 million ioctls, the
#                  hostile programs' rounds times ten
#   guest:library  the library's tests, statically linked, in the guest with
#                  /dev/sysring present: the batch face through the module's
#                  BATCH ioctl, the async and syslet faces on engine "kmod"
#                  (in-kernel workers)
#
# Each exits 77 (SKIP) with the reason when the machine cannot run a guest
# (no qemu, no headers, no kernel package and no apt). They share the guest
# work directory, hence the resource lock. Not built with sanitizers: the
# guest programs are static.
#
# `cmake --build BUILD --target guest-bench` (or scripts/guest/bench.sh BUILD)
# prints the emulated benchmark table.

if(NOT BUILD_TESTING OR SYSRING_SANITIZE OR NOT CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  return()
endif()

set(SYSRING_GUEST_RUN ${PROJECT_SOURCE_DIR}/scripts/guest/run.sh)

add_test(NAME guest:kmod COMMAND ${SYSRING_GUEST_RUN} ${CMAKE_BINARY_DIR} --timeout 540)
set_tests_properties(guest:kmod PROPERTIES LABELS "guest" TIMEOUT 660 SKIP_RETURN_CODE 77
  RESOURCE_LOCK sysring_guest)

# The same programs, longer (label soak, not in CI): the fuzzer with 1.2
# million ioctls, the hostile programs with ten times their rounds.
# About 10 minutes on an idle machine, over half an hour on a loaded one.
add_test(NAME guest:kmod:soak COMMAND ${SYSRING_GUEST_RUN} ${CMAKE_BINARY_DIR} --timeout 3600
  --append "SYSRING_FUZZ_IOCTLS=1200000 SYSRING_HOSTILE_SCALE=10 SR_TEST_TIMEOUT=3300")
set_tests_properties(guest:kmod:soak PROPERTIES LABELS "guest;soak" TIMEOUT 3900 SKIP_RETURN_CODE 77
  RESOURCE_LOCK sysring_guest)

# Static builds of library tests for the guest: the library's objects and
# liburing's archive (the pkg-config target names the shared object).
find_library(SYSRING_URING_ARCHIVE NAMES liburing.a)
set(_guest_runs "")

# sysring_guest_static(NAME SOURCES...): a statically linked twin of a host
# test program, with the library built in. Returns nothing; the target is
# tg_NAME.
function(sysring_guest_static name)
  add_executable(tg_${name} ${ARGN} $<TARGET_OBJECTS:sysring_obj>)
  target_link_libraries(tg_${name} ${SYSRING_URING_ARCHIVE} Threads::Threads)
  target_include_directories(tg_${name} PRIVATE ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/src
    ${CMAKE_BINARY_DIR}/gen ${PROJECT_SOURCE_DIR}/tests)
  target_link_options(tg_${name} PRIVATE -static)
endfunction()

set(_guest_lib_tests batchsys batch_merge async_basic async_badinput async_destroy async_wait cancel eventfd syslet
  thread_scoped
  syslet_fio
  syslet_sample
  syslet_bounded waits
  progress)
foreach(t IN LISTS _guest_lib_tests)
  if(NOT SYSRING_URING_ARCHIVE OR NOT EXISTS ${PROJECT_SOURCE_DIR}/tests/${t}.c)
    continue()
  endif()
  sysring_guest_static(${t} ${PROJECT_SOURCE_DIR}/tests/${t}.c)
  if(t MATCHES "^batch")
    # engine auto: the batch face picks the module's BATCH executor (the
    # loop for runs it merges); then the module forced for every batch
    list(APPEND _guest_runs --run lib:${t} "SYSRING_TEST_SCALE=0.2" $<TARGET_FILE:tg_${t}>)
    list(APPEND _guest_runs --run lib:${t}:exec=kmod "SYSRING_BATCH_EXEC=kmod SYSRING_TEST_SCALE=0.2"
      $<TARGET_FILE:tg_${t}>)
  else()
    list(APPEND _guest_runs --run lib:${t}:kmod "SYSRING_ENGINE=kmod SYSRING_TEST_SCALE=0.2"
      $<TARGET_FILE:tg_${t}>)
  endif()
endforeach()

# The library's programs that need the module (tests/guest/lib/, guest
# only), under each engine that can reach it: kmod_lib (the caller's fd
# table untouched in the middle of calls, files released when a close
# through the module completes, fork children without the parent's rings).
foreach(t kmod_lib)
  if(NOT SYSRING_URING_ARCHIVE)
    continue()
  endif()
  sysring_guest_static(${t} ${PROJECT_SOURCE_DIR}/tests/guest/lib/${t}.c)
  foreach(eng kmod uring auto)
    list(APPEND _guest_runs --run lib:${t}:${eng} "SYSRING_ENGINE=${eng}" $<TARGET_FILE:tg_${t}>)
  endforeach()
endforeach()

# Host test programs registered from anywhere in the tree (docs/kmod.md,
# "Adding a program to the guest run"):
#   set_property(GLOBAL APPEND PROPERTY SYSRING_GUEST_PROGRAMS <target>)
#   set_property(TARGET <target> PROPERTY SYSRING_GUEST_ENVS "<env words>" ...)
# Each gets a static twin (its sources, the library's objects) run in the
# guest once per environment of SYSRING_GUEST_ENVS (default: engine kmod),
# labelled lib:<target>[:<n>], in the guest:library boot.
get_property(_guest_programs GLOBAL PROPERTY SYSRING_GUEST_PROGRAMS)
foreach(t IN LISTS _guest_programs)
  if(NOT SYSRING_URING_ARCHIVE OR NOT TARGET ${t})
    continue()
  endif()
  get_target_property(_srcs ${t} SOURCES)
  get_target_property(_dir ${t} SOURCE_DIR)
  set(_abs "")
  foreach(src IN LISTS _srcs)
    if(NOT IS_ABSOLUTE ${src})
      set(src ${_dir}/${src})
    endif()
    list(APPEND _abs ${src})
  endforeach()
  sysring_guest_static(${t} ${_abs})
  get_target_property(_incs ${t} INCLUDE_DIRECTORIES)
  if(_incs)
    target_include_directories(tg_${t} PRIVATE ${_incs})
  endif()
  get_target_property(_defs ${t} COMPILE_DEFINITIONS)
  if(_defs)
    target_compile_definitions(tg_${t} PRIVATE ${_defs})
  endif()
  get_target_property(_envs ${t} SYSRING_GUEST_ENVS)
  if(NOT _envs)
    set(_envs "SYSRING_ENGINE=kmod")
  endif()
  set(_n 0)
  foreach(env IN LISTS _envs)
    set(_label lib:${t})
    if(_n GREATER 0)
      set(_label lib:${t}:${_n})
    endif()
    list(APPEND _guest_runs --run ${_label} "${env}" $<TARGET_FILE:tg_${t}>)
    math(EXPR _n "${_n} + 1")
  endforeach()
endforeach()

# The library's kmod engine itself: on the host (no module: it must step
# aside) and in the guest (module present).
add_executable(t_kmod_engine ${PROJECT_SOURCE_DIR}/tests/guest/lib/kmod_engine.c)
target_link_libraries(t_kmod_engine sysring_static sysring_internal)
target_include_directories(t_kmod_engine PRIVATE ${PROJECT_SOURCE_DIR}/tests)
add_test(NAME kmod_engine COMMAND t_kmod_engine)
set_tests_properties(kmod_engine PROPERTIES LABELS "engine" TIMEOUT 60 SKIP_RETURN_CODE 77)
if(SYSRING_URING_ARCHIVE)
  add_executable(tg_kmod_engine ${PROJECT_SOURCE_DIR}/tests/guest/lib/kmod_engine.c
    $<TARGET_OBJECTS:sysring_obj>)
  target_link_libraries(tg_kmod_engine ${SYSRING_URING_ARCHIVE} Threads::Threads)
  target_include_directories(tg_kmod_engine PRIVATE ${PROJECT_SOURCE_DIR}/include
    ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/tests)
  target_link_options(tg_kmod_engine PRIVATE -static)
  list(INSERT _guest_runs 0 --run lib:kmod_engine - $<TARGET_FILE:tg_kmod_engine>)
endif()

if(_guest_runs)
  add_test(NAME guest:library COMMAND ${SYSRING_GUEST_RUN} ${CMAKE_BINARY_DIR} --timeout 420
    --no-tests ${_guest_runs})
  set_tests_properties(guest:library PROPERTIES LABELS "guest" TIMEOUT 600 SKIP_RETURN_CODE 77
    RESOURCE_LOCK sysring_guest)
endif()

add_custom_target(guest-bench
  COMMAND ${PROJECT_SOURCE_DIR}/scripts/guest/bench.sh ${CMAKE_BINARY_DIR}
  USES_TERMINAL
  COMMENT "sysring.ko benchmark in a qemu guest (emulated timings)")

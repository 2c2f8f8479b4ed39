# SPDX-License-Identifier: MIT
#
# The kernel-module tests, included by the top-level CMakeLists.txt. Both run
# in a qemu guest booted by scripts/guest/run.sh (Debian's 6.1 kernel under
# TCG; see ../shared/GUEST.md), with the label "guest":
#
#   guest:kmod     the module's own programs (tests/guest/*.c: BATCH, SYSLET,
#                  the ring, unload/permissions, the 100,000-ioctl fuzzer),
#                  all in one boot
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

add_test(NAME guest:kmod COMMAND ${SYSRING_GUEST_RUN} ${CMAKE_BINARY_DIR} --timeout 420)
set_tests_properties(guest:kmod PROPERTIES LABELS "guest" TIMEOUT 600 SKIP_RETURN_CODE 77
  RESOURCE_LOCK sysring_guest)

# Static builds of library tests for the guest: the library's objects and
# liburing's archive (the pkg-config target names the shared object).
find_library(SYSRING_URING_ARCHIVE NAMES liburing.a)
set(_guest_lib_tests batchsys batch_merge async_basic async_badinput async_destroy async_wait cancel eventfd syslet
  syslet_fio
  syslet_sample
  syslet_bounded waits)
set(_guest_runs "")
foreach(t IN LISTS _guest_lib_tests)
  if(NOT SYSRING_URING_ARCHIVE OR NOT EXISTS ${PROJECT_SOURCE_DIR}/tests/${t}.c)
    continue()
  endif()
  add_executable(tg_${t} ${PROJECT_SOURCE_DIR}/tests/${t}.c $<TARGET_OBJECTS:sysring_obj>)
  target_link_libraries(tg_${t} ${SYSRING_URING_ARCHIVE} Threads::Threads)
  target_include_directories(tg_${t} PRIVATE ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/src
    ${CMAKE_BINARY_DIR}/gen ${PROJECT_SOURCE_DIR}/tests)
  target_link_options(tg_${t} PRIVATE -static)
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

# The lower layers of the build (see the top-level CMakeLists.txt):
# q53_common, q53_proto (protobuf-c from proto/*.proto) and q53_cluster.
# Raft is canonical/raft 0.15 exactly (node/raft/raft_compat.c works around
# two of its defects); NNG carries peer and client messages.

find_program(Q53_PROTOC_C protoc-c REQUIRED)
pkg_check_modules(PROTOBUF_C REQUIRED IMPORTED_TARGET libprotobuf-c)
pkg_check_modules(RAFT REQUIRED IMPORTED_TARGET raft=0.15.0)
# Debian's libnng-dev ships no pkg-config file.
find_library(Q53_NNG_LIBRARY nng REQUIRED)
find_path(Q53_NNG_INCLUDE_DIR nng/nng.h REQUIRED)

file(GLOB Q53_COMMON_SOURCES CONFIGURE_DEPENDS
     ${PROJECT_SOURCE_DIR}/node/common/*.c)
add_library(q53_common STATIC ${Q53_COMMON_SOURCES})
target_include_directories(q53_common PUBLIC ${PROJECT_SOURCE_DIR})
target_include_directories(q53_common PUBLIC ${Q53_NNG_INCLUDE_DIR})
target_link_libraries(q53_common PUBLIC PkgConfig::UV PkgConfig::CURL
                      ${Q53_NNG_LIBRARY} Threads::Threads)

# proto/foo.proto -> ${PROJECT_BINARY_DIR}/proto/foo.pb-c.{c,h}, so sources
# write #include "proto/foo.pb-c.h".
file(GLOB Q53_PROTO_FILES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/proto/*.proto)
set(Q53_PROTO_SOURCES)
foreach(proto ${Q53_PROTO_FILES})
  get_filename_component(name ${proto} NAME_WE)
  set(out_c ${PROJECT_BINARY_DIR}/proto/${name}.pb-c.c)
  set(out_h ${PROJECT_BINARY_DIR}/proto/${name}.pb-c.h)
  add_custom_command(
    OUTPUT ${out_c} ${out_h}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/proto
    COMMAND ${Q53_PROTOC_C} --c_out=${PROJECT_BINARY_DIR}
            -I${PROJECT_SOURCE_DIR} ${proto}
    DEPENDS ${proto}
    COMMENT "protoc-c ${name}.proto"
    VERBATIM)
  list(APPEND Q53_PROTO_SOURCES ${out_c})
endforeach()
add_library(q53_proto STATIC ${Q53_PROTO_SOURCES})
target_include_directories(q53_proto PUBLIC ${PROJECT_BINARY_DIR})
target_link_libraries(q53_proto PUBLIC PkgConfig::PROTOBUF_C)

file(GLOB Q53_CLUSTER_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/cluster/*.c)
add_library(q53_cluster STATIC ${Q53_CLUSTER_SOURCES})
target_include_directories(q53_cluster PUBLIC ${PROJECT_SOURCE_DIR}
                           ${Q53_NNG_INCLUDE_DIR})
# libknot: the CLI's AXFR client (cluster/axfr_in.c: packets, TSIG).
target_link_libraries(q53_cluster PUBLIC q53_proto q53_common PkgConfig::UV PkgConfig::KNOT
                      ${Q53_NNG_LIBRARY} Threads::Threads)

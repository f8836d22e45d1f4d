# Query validation (query.h): built on its own so that its tests and fuzz target
# need nothing else of tempo_api. Included from src/api/CMakeLists.txt.
add_library(tempo_api_query ${CMAKE_CURRENT_LIST_DIR}/query.cc
                            ${CMAKE_CURRENT_LIST_DIR}/percent_decode.cc)
target_link_libraries(tempo_api_query PUBLIC tempo_common)
tempo_test(tempo_api_query_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/query_test.cc
           LIBS tempo_api_query simdjson::simdjson)
if(TEMPO_FUZZ)
  # The parser's sources are compiled into the target itself so that libFuzzer's
  # coverage instrumentation sees them.
  add_executable(tempo_query_fuzz ${CMAKE_CURRENT_LIST_DIR}/query_fuzz.cc
                                  ${CMAKE_CURRENT_LIST_DIR}/query.cc
                                  ${CMAKE_CURRENT_LIST_DIR}/percent_decode.cc)
  target_link_libraries(tempo_query_fuzz PRIVATE tempo_common)
  target_compile_options(tempo_query_fuzz PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(tempo_query_fuzz PRIVATE -fsanitize=fuzzer,address,undefined)
endif()

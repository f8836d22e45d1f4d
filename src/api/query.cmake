# Query validation (query.h): built on its own so that its tests and fuzz target
# need nothing else of tempo_api. Included from src/api/CMakeLists.txt.
add_library(tempo_api_query ${CMAKE_CURRENT_LIST_DIR}/query.cc
                            ${CMAKE_CURRENT_LIST_DIR}/percent_decode.cc)
target_link_libraries(tempo_api_query PUBLIC tempo_common)
tempo_test(tempo_api_query_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/query_test.cc
           LIBS tempo_api_query simdjson::simdjson)
# libFuzzer target for the query parser (tempo_fuzz: TEMPO_FUZZ=ON only).
tempo_fuzz(tempo_query_fuzz CORPUS ${CMAKE_CURRENT_LIST_DIR}/fuzz_corpus/query
           SOURCES ${CMAKE_CURRENT_LIST_DIR}/query_fuzz.cc ${CMAKE_CURRENT_LIST_DIR}/query.cc
                   ${CMAKE_CURRENT_LIST_DIR}/percent_decode.cc
           LIBS tempo_common)

# Writes the source of version.h's functions (run as `cmake -P` on every build,
# so that the commit follows HEAD; configure_file rewrites the output only when
# its text changes, so an unchanged commit rebuilds nothing).
#
# Inputs (-D): TEMPO_VERSION, SOURCE_DIR (the git checkout), TEMPLATE, OUTPUT,
# and optionally TEMPO_GIT_COMMIT (a commit given at configure time wins).
if(NOT TEMPO_GIT_COMMIT)
  set(TEMPO_GIT_COMMIT unknown)
  find_program(GIT_PROGRAM git)
  if(GIT_PROGRAM)
    # Only the checkout's own commit: a source archive unpacked inside some
    # other repository must not take that repository's.
    execute_process(COMMAND ${GIT_PROGRAM} rev-parse --show-toplevel --short=12 HEAD
                    WORKING_DIRECTORY ${SOURCE_DIR}
                    OUTPUT_VARIABLE out OUTPUT_STRIP_TRAILING_WHITESPACE
                    RESULT_VARIABLE failed ERROR_QUIET)
    string(REPLACE "\n" ";" lines "${out}")
    list(LENGTH lines count)
    if(NOT failed AND count EQUAL 2)
      list(GET lines 0 top)
      list(GET lines 1 commit)
      file(REAL_PATH "${top}" top)
      file(REAL_PATH "${SOURCE_DIR}" source)
      if(top STREQUAL source AND commit MATCHES "^[0-9a-f]+$")
        set(TEMPO_GIT_COMMIT ${commit})
      endif()
    endif()
  endif()
endif()
configure_file(${TEMPLATE} ${OUTPUT} @ONLY)

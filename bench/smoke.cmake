# Runs one benchmark with --smoke: it must exit 0, print its table and write its JSON.
# cmake -DBENCH=path -DJSON=file -DEXPECT=text -P smoke.cmake
file(REMOVE ${JSON})
execute_process(COMMAND ${BENCH} --smoke --json ${JSON}
	RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT rc EQUAL 0)
	message(FATAL_ERROR "${BENCH} --smoke exited with ${rc}")
endif()
string(FIND "${out}" "| ${EXPECT}" at)
if(at EQUAL -1)
	message(FATAL_ERROR "${BENCH} --smoke printed no table row '${EXPECT}'")
endif()
if(NOT EXISTS ${JSON})
	message(FATAL_ERROR "${BENCH} --smoke wrote no ${JSON}")
endif()

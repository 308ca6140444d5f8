# Issue 8: cppcheck and clang-tidy (.clang-tidy, .cppcheck-suppressions) must
# report nothing (tests/lint.sh). clang-tidy reads this build's
# compile_commands.json; the test is skipped (77) when there is none.
add_test(NAME lint
	COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/lint.sh ${CMAKE_BINARY_DIR})
# run-clang-tidy uses two cores; the static analyzer takes minutes.
set_tests_properties(lint PROPERTIES TIMEOUT 900 PROCESSORS 2
	SKIP_RETURN_CODE 77 ENVIRONMENT LINT_JOBS=2)

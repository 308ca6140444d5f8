# bench_srtp: SRTP protect+unprotect per suite, against raw OpenSSL EVP calls
# and libsrtp2 measured in the same run (bench/README.md).
if(TARGET ngv_media)
	add_executable(bench_srtp bench_srtp.c)
	target_link_libraries(bench_srtp PRIVATE ngv_media)

	# libsrtp2 is a reference only, found here since bench builds run
	# without the tests. It exports srtp_init/srtp_protect/srtp_unprotect
	# like lib/media, so it is opened with dlopen() through the tests'
	# reference wrapper rather than linked.
	pkg_check_modules(LIBSRTP2 IMPORTED_TARGET libsrtp2)
	if(LIBSRTP2_FOUND)
		find_library(NGV_LIBSRTP2_SO NAMES srtp2
			HINTS ${LIBSRTP2_LIBRARY_DIRS})
	endif()
	if(LIBSRTP2_FOUND AND NGV_LIBSRTP2_SO)
		target_sources(bench_srtp PRIVATE
			${CMAKE_SOURCE_DIR}/tests/unit/test_srtp_libsrtp_ref.c)
		target_include_directories(bench_srtp PRIVATE
			${LIBSRTP2_INCLUDE_DIRS})
		target_compile_definitions(bench_srtp PRIVATE
			LIBSRTP2_PATH="${NGV_LIBSRTP2_SO}")
		target_link_libraries(bench_srtp PRIVATE ${CMAKE_DL_LIBS})
	else()
		message(STATUS "bench_srtp: libsrtp2 not found, no libsrtp2 column")
	endif()

	if(NGV_TESTS)
		add_test(NAME bench_smoke_srtp
			COMMAND ${CMAKE_COMMAND} -DBENCH=$<TARGET_FILE:bench_srtp>
				-DJSON=${CMAKE_CURRENT_BINARY_DIR}/bench_smoke_srtp.json
				-DEXPECT=AEAD_AES_256_GCM\ |\ 2000\ |\ ngv\ srtp
				-P ${CMAKE_CURRENT_SOURCE_DIR}/smoke.cmake)
		set_tests_properties(bench_smoke_srtp PROPERTIES TIMEOUT 300)
	endif()
endif()

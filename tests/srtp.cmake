# lib/media/srtp: RFC vectors and behaviour, and interop with libsrtp2.
if(TARGET ngv_media)
	ngv_unit(test_srtp unit/test_srtp.c)
	target_link_libraries(test_srtp PRIVATE ngv_media)

	# libsrtp2 is a test-only dependency, the reference peer. It exports
	# srtp_init/srtp_protect/srtp_unprotect like lib/media, so it is not
	# linked but opened with dlopen() (test_srtp_libsrtp_ref.c).
	pkg_check_modules(LIBSRTP2 REQUIRED IMPORTED_TARGET libsrtp2)
	find_library(NGV_LIBSRTP2_SO NAMES srtp2 HINTS ${LIBSRTP2_LIBRARY_DIRS})
	ngv_unit(test_srtp_libsrtp unit/test_srtp_libsrtp.c
		unit/test_srtp_libsrtp_ref.c)
	target_include_directories(test_srtp_libsrtp PRIVATE
		${LIBSRTP2_INCLUDE_DIRS})
	target_compile_definitions(test_srtp_libsrtp PRIVATE
		LIBSRTP2_PATH="${NGV_LIBSRTP2_SO}")
	target_link_libraries(test_srtp_libsrtp PRIVATE ngv_media
		${CMAKE_DL_LIBS})
endif()

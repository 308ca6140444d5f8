# bench_vm: voicemail capacity, N concurrent secure calls (TLS + SRTP
# AEAD_AES_256_GCM) that hear a greeting and leave a message, against the
# floor of SRTP and UDP measured in the same run (bench/README.md).
if(TARGET ngv_media AND TARGET ngv_sdp AND TARGET ngv_voicemail)
	add_executable(loadgen_vm loadgen_vm.c)
	target_link_libraries(loadgen_vm PRIVATE ngv_media ngv_sdp ngv_sip
		ngv_tls m)
	set(_ngv_vm_deps bench_vm.sh loadgen_vm ngvoice)
	if(TARGET bench_srtp)
		list(APPEND _ngv_vm_deps bench_srtp)
	endif()
	if(TARGET ngv_prompts)
		list(APPEND _ngv_vm_deps ngv_prompts)
	endif()
	add_custom_target(bench_vm_files ALL
		COMMAND ${CMAKE_COMMAND} -E copy
			${CMAKE_CURRENT_SOURCE_DIR}/bench_vm.sh
			${CMAKE_CURRENT_BINARY_DIR}/bench_vm
		DEPENDS ${_ngv_vm_deps})
	if(NGV_TESTS)
		# Asserts only that the run completed and printed its table.
		add_test(NAME bench_smoke_vm
			COMMAND ${CMAKE_COMMAND}
				-DBENCH=${CMAKE_CURRENT_BINARY_DIR}/bench_vm
				-DJSON=${CMAKE_CURRENT_BINARY_DIR}/bench_smoke_vm.json
				-DEXPECT=voicemail\ capacity
				-P ${CMAKE_CURRENT_SOURCE_DIR}/smoke.cmake)
		set_tests_properties(bench_smoke_vm PROPERTIES TIMEOUT 180)
	endif()
endif()

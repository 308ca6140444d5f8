# Voicemail server configuration: the guide's example, defaults, errors with file:line.
if(TARGET ngv_voicemail)
	ngv_unit(test_vm_config unit/test_vm_config.c)
	target_link_libraries(test_vm_config PRIVATE ngv_voicemail)
	target_compile_definitions(test_vm_config PRIVATE
		NGV_TEST_DATA="${CMAKE_CURRENT_SOURCE_DIR}/data")
endif()

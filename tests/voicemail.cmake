# The voicemail server with a real phone: baresip through the call manager
# over TLS and SRTP (the guide's verification), once per SRTP Ciphers option.
foreach(opt all gcm gcm256)
	add_test(NAME interop_baresip_voicemail_${opt}
		COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/interop/baresip_vm.sh
			$<TARGET_FILE:ngvoice> $<TARGET_FILE:ngv-wavcorr>
			${CMAKE_BINARY_DIR}/prompts ${opt})
	set_tests_properties(interop_baresip_voicemail_${opt} PROPERTIES TIMEOUT 180)
endforeach()

# sipp straight at the voicemail server: re-INVITE, the port limit.
add_test(NAME interop_sipp_voicemail
	COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/interop/sipp_vm.sh
		$<TARGET_FILE:ngvoice> ${CMAKE_BINARY_DIR}/prompts)
set_tests_properties(interop_sipp_voicemail PROPERTIES TIMEOUT 120)

# A re-INVITE through the call manager (B2BUA) to the voicemail server.
add_test(NAME interop_sipp_callmanager_reinvite
	COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/interop/sipp_cm_reinvite.sh
		$<TARGET_FILE:ngvoice> ${CMAKE_BINARY_DIR}/prompts)
set_tests_properties(interop_sipp_callmanager_reinvite PROPERTIES TIMEOUT 120)

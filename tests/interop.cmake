# Issue 7's interop suite: real third-party clients against the real daemons
# on 127.0.0.1 (tests/interop/; /work/shared/testing/real-clients.md). A
# failing script keeps its logs in $NGV_TEST_LOGS (tests/interop/lib.sh).

# linphonec (linphone-cli) through the call manager to the voicemail server:
# TLS with a verified server certificate, SHA-256 digest, AES_CM SRTP, a
# message left and the lamp; with a GCM-only option a clean 488.
foreach(opt all gcm256)
	add_test(NAME interop_linphone_voicemail_${opt}
		COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/interop/linphone_vm.sh
			$<TARGET_FILE:ngvoice> $<TARGET_FILE:ngv-wavcorr>
			${CMAKE_BINARY_DIR}/prompts ${opt})
endforeach()
set_tests_properties(interop_linphone_voicemail_all PROPERTIES TIMEOUT 180)
set_tests_properties(interop_linphone_voicemail_gcm256 PROPERTIES TIMEOUT 120)

# `ngvoice phone` offers GCM first to stock baresip, which answers
# AEAD_AES_256_GCM; audio both ways.
add_test(NAME interop_phone_baresip_gcm
	COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/interop/phone_baresip_gcm.sh
		$<TARGET_FILE:ngvoice> $<TARGET_FILE:ngv-wavcorr>)
set_tests_properties(interop_phone_baresip_gcm PROPERTIES TIMEOUT 120)

# sipp over TCP into stunnel4 (TLS 1.2, NGE suites, mutual TLS) to the call
# manager, 20 calls to the pilot answered by the voicemail server.
add_test(NAME interop_sipp_tls_voicemail
	COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/interop/sipp_tls_vm.sh
		$<TARGET_FILE:ngvoice> ${CMAKE_BINARY_DIR}/prompts 20)
set_tests_properties(interop_sipp_tls_voicemail PROPERTIES TIMEOUT 150)

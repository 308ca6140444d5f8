# Issue 4's proof with real phones against `ngvoice callmanager` on 127.0.0.1
# (tests/interop/; /work/shared/testing/real-clients.md). A failing script
# keeps its logs in $NGV_TEST_LOGS (tests/interop/lib.sh).

# baresip (1001) and linphonec (1002) register over mutual TLS with MD5
# digest, SRTP mandatory; linphonec calls baresip, then baresip calls
# linphonec: answered, Encrypted, audio both ways, each side hangs up.
add_test(NAME interop_baresip_linphone
	COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/interop/baresip_linphone.sh
		$<TARGET_FILE:ngvoice> $<TARGET_FILE:ngv-wavcorr>)
set_tests_properties(interop_baresip_linphone PROPERTIES TIMEOUT 200)

# A trunk peer (openssl s_client, the voicemail server's tomcat certificate)
# sends unsolicited message-summary NOTIFYs (yes, then no) for line 1001:
# the call manager takes them and relays the lamp to a registered baresip.
add_test(NAME interop_baresip_mwi
	COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/interop/baresip_mwi.sh
		$<TARGET_FILE:ngvoice>)
set_tests_properties(interop_baresip_mwi PROPERTIES TIMEOUT 120)

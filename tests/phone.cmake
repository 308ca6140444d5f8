# `ngvoice phone` against `ngvoice callmanager`: TLS registration with digest,
# a clear failure for a number with no route, MWI, and a line-to-line SRTP call.
add_test(NAME interop_phone_callmanager
	COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/interop/phone_cm.sh $<TARGET_FILE:ngvoice>)
set_tests_properties(interop_phone_callmanager PROPERTIES TIMEOUT 120)

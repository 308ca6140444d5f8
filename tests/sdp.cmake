# lib/sdp: the SDP parser, a=crypto (SDES) and audio offer/answer.
if(TARGET ngv_sdp)
	ngv_unit(test_sdp unit/test_sdp.c)
	target_link_libraries(test_sdp PRIVATE ngv_sdp)
endif()

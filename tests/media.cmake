# lib/media: G.711, WAV, RTP and RFC 4733, the media loop (real UDP on 127.0.0.1).
if(TARGET ngv_media)
	ngv_unit(test_g711 unit/test_g711.c)
	target_link_libraries(test_g711 PRIVATE ngv_media)
	ngv_unit(test_wav unit/test_wav.c)
	target_link_libraries(test_wav PRIVATE ngv_media)
	ngv_unit(test_rtp unit/test_rtp.c)
	target_link_libraries(test_rtp PRIVATE ngv_media)
	ngv_unit(test_stream unit/test_stream.c)
	target_link_libraries(test_stream PRIVATE ngv_media)
	# The spoken prompts are loaded as clips when they have been built.
	if(TARGET ngv_prompts)
		add_dependencies(test_stream ngv_prompts)
		target_compile_definitions(test_stream PRIVATE
			NGV_PROMPTS_DIR="${NGV_PROMPTS_DIR}")
	endif()
endif()

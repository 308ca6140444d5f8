# lib/store: the voicemail message store (SQLite + WAV files), crash recovery.
if(TARGET ngv_store)
	ngv_unit(test_store unit/test_store.c)
	target_link_libraries(test_store PRIVATE ngv_store)
endif()

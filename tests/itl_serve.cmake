# The call manager's TFTP HTTPS service (:6972) and the voicemail server's ITL
# download, in one process.
ngv_unit(test_itl_serve unit/test_itl_serve.c)
target_link_libraries(test_itl_serve PRIVATE ngv_callmgr ngv_voicemail ngv_tls)

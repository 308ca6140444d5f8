# Voicemail prompts, spoken at build time: one WAV per line of
# prompts/prompts.txt (name|text) plus the beep, in ${CMAKE_BINARY_DIR}/prompts/.
set(NGV_PROMPTS_DIR ${CMAKE_BINARY_DIR}/prompts)
set(NGV_PROMPTS_SRC ${CMAKE_SOURCE_DIR}/prompts/prompts.txt)
set(NGV_PROMPTS_GEN ${CMAKE_SOURCE_DIR}/prompts/gen.sh)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${NGV_PROMPTS_SRC})

find_program(NGV_ESPEAK espeak-ng)
find_program(NGV_SOX sox)
if(NOT NGV_ESPEAK OR NOT NGV_SOX)
	message(WARNING "espeak-ng or sox missing (scripts/deps.sh installs them): no voicemail prompts")
else()
	set(NGV_PROMPT_FILES)
	file(STRINGS ${NGV_PROMPTS_SRC} _ngv_prompt_lines ENCODING UTF-8)
	foreach(line IN LISTS _ngv_prompt_lines)
		if(line MATCHES "^[ \t]*(#|$)")
			continue()
		endif()
		if(NOT line MATCHES "^([a-z0-9_]+)\\|(.+)$")
			message(FATAL_ERROR "prompts/prompts.txt: bad line \"${line}\" (want name|text)")
		endif()
		set(_out ${NGV_PROMPTS_DIR}/${CMAKE_MATCH_1}.wav)
		add_custom_command(OUTPUT ${_out}
			COMMAND bash ${NGV_PROMPTS_GEN} speak ${_out} "${CMAKE_MATCH_2}"
			DEPENDS ${NGV_PROMPTS_SRC} ${NGV_PROMPTS_GEN}
			COMMENT "Speaking prompt ${CMAKE_MATCH_1}"
			VERBATIM)
		list(APPEND NGV_PROMPT_FILES ${_out})
	endforeach()
	add_custom_command(OUTPUT ${NGV_PROMPTS_DIR}/beep.wav
		COMMAND bash ${NGV_PROMPTS_GEN} beep ${NGV_PROMPTS_DIR}/beep.wav
		DEPENDS ${NGV_PROMPTS_GEN}
		COMMENT "Making the beep"
		VERBATIM)
	list(APPEND NGV_PROMPT_FILES ${NGV_PROMPTS_DIR}/beep.wav)
	add_custom_target(ngv_prompts ALL DEPENDS ${NGV_PROMPT_FILES})
endif()

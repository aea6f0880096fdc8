# service/: the `spamformer rules` command (wired into the spamformer executable).
# sf_service: `rules test --message` scores the message with the model.
add_library(sf_cmd_rules STATIC cmd_rules.cpp)
target_link_libraries(sf_cmd_rules PUBLIC sf_common sf_rules sf_service nlohmann_json::nlohmann_json)

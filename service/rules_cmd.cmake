# service/: the `spamformer rules` command (wired into the spamformer executable).
add_library(sf_cmd_rules STATIC cmd_rules.cpp)
target_link_libraries(sf_cmd_rules PUBLIC sf_common sf_rules nlohmann_json::nlohmann_json)

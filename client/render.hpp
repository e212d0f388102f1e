// A JSON event as the lines a text client sees, plus the sender's
// transport: "[lobby] alice (ws): hi".
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace chatgate::client {

// Zero or more lines, each safe to print (no control characters). An event
// of an unknown type is shown as its JSON. `self` is our nick: a direct
// message we sent shows as "-> *bob* hi", one we got as "*alice* hi".
std::vector<std::string> render_event(const nlohmann::json& event, const std::string& self = {});

// One `message` object (also an element of a history).
std::string render_message(const nlohmann::json& message, const std::string& self = {});

}  // namespace chatgate::client

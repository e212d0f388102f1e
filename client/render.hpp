// A JSON event as the lines a text client sees, plus the sender's
// transport: "[lobby] alice (ws): hi".
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace chatgate::client {

// Zero or more lines, each safe to print (no control characters). An event
// of an unknown type is shown as its JSON.
std::vector<std::string> render_event(const nlohmann::json& event);

// One `message` object (also an element of a history).
std::string render_message(const nlohmann::json& message);

}  // namespace chatgate::client

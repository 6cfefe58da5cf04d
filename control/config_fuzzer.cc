// Feeds arbitrary bytes to the config validator, parsed both as strict JSON
// and with the comments the file loader accepts. A document is either a
// Config or an error that says something; a Config written back out never
// shows a CHAP secret and reads back to the same settings.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "control/config.h"

namespace {

using isergw::control::ChapCredentials;
using isergw::control::Config;
using isergw::control::config_from_json;
using isergw::control::config_to_json;
using isergw::control::same_target;
using nlohmann::json;

constexpr const char* kChapKeys[] = {"front_chap", "front_mutual_chap", "back_chap",
                                     "back_mutual_chap"};

std::optional<ChapCredentials>* chap_slot(isergw::control::TargetConfig& target, int index) {
  switch (index) {
    case 0:
      return &target.front_chap;
    case 1:
      return &target.front_mutual_chap;
    case 2:
      return &target.back_chap;
    default:
      return &target.back_mutual_chap;
  }
}

// The secrets config_to_json redacted, put back: "***" is too short to be
// a secret, so the redacted document itself cannot be read back.
json with_secrets(json document, Config& config) {
  for (size_t i = 0; i < config.targets.size(); ++i) {
    for (int k = 0; k < 4; ++k) {
      const auto& chap = *chap_slot(config.targets[i], k);
      if (chap) document["targets"][i][kChapKeys[k]]["secret"] = chap->secret;
    }
  }
  return document;
}

void check_valid(Config& config) {
  const json written = config_to_json(config);
  for (const auto& target : written.at("targets")) {
    for (const char* key : kChapKeys) {
      if (target.contains(key) && target.at(key).at("secret") != "***") __builtin_trap();
    }
  }
  // Nothing written may depend on a secret: change every one and the output
  // must stay the same byte for byte, wherever a leak would have put it.
  Config changed = config;
  for (auto& target : changed.targets) {
    for (int k = 0; k < 4; ++k) {
      auto& chap = *chap_slot(target, k);
      if (chap) chap->secret += "~changed";
    }
  }
  if (config_to_json(changed).dump() != written.dump()) __builtin_trap();

  auto reread = config_from_json(with_secrets(written, config));
  if (!reread) __builtin_trap();
  if (config_to_json(*reread) != written) __builtin_trap();
  if (reread->targets.size() != config.targets.size()) __builtin_trap();
  for (size_t i = 0; i < config.targets.size(); ++i) {
    if (!same_target(reread->targets[i], config.targets[i])) __builtin_trap();
  }
}

void check(const json& document) {
  if (document.is_discarded()) return;
  auto config = config_from_json(document);
  if (!config) {
    if (config.error().message.empty()) __builtin_trap();
    return;
  }
  check_valid(*config);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  check(json::parse(text, nullptr, /*allow_exceptions=*/false));
  check(json::parse(text, nullptr, /*allow_exceptions=*/false, /*ignore_comments=*/true));
  return 0;
}

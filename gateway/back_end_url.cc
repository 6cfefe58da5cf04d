#include "gateway/back_end_url.h"

#include "backend_ram/backend_url.h"
#include "iscsi/iscsi_name.h"

namespace isergw::gateway {
namespace {

Expected<BackEndUrl, std::string> parse_storage_url(std::string_view url, BackEndKind kind,
                                                    std::string_view rest) {
  BackEndUrl parsed;
  parsed.kind = kind;
  // The authority ends at the first '/', so a secret holding '/' or '@'
  // cannot be written in a URL; the config file has a field for it.
  const size_t slash = rest.find('/');
  if (slash == std::string_view::npos) {
    return Unexpected{"back-end URL '" + std::string(url) + "' names no target; write " +
                      std::string(url) + "/IQN"};
  }
  std::string_view authority = rest.substr(0, slash);
  const std::string_view target = rest.substr(slash + 1);
  if (const size_t at = authority.rfind('@'); at != std::string_view::npos) {
    const std::string_view credentials = authority.substr(0, at);
    const size_t percent = credentials.find('%');
    if (percent == std::string_view::npos || percent == 0) {
      return Unexpected{std::string("back-end URL credentials must be written user%secret@")};
    }
    parsed.chap_user = std::string(credentials.substr(0, percent));
    parsed.chap_secret = std::string(credentials.substr(percent + 1));
    authority = authority.substr(at + 1);
  }
  auto portal =
      parse_host_port(authority, kind == BackEndKind::kIser ? Transport::kIser : Transport::kTcp);
  if (!portal) return Unexpected{"back-end URL: " + portal.error()};
  parsed.portal = std::move(*portal);
  if (target.find('/') != std::string_view::npos) {
    return Unexpected{"back-end URL '" + parsed.redacted() +
                      "' names a LUN; the gateway relays whole targets, so end the URL "
                      "with the target name"};
  }
  if (auto valid = iscsi::validate_iscsi_name(target); !valid) {
    return Unexpected{"back-end URL target: " + valid.error()};
  }
  parsed.target_name = std::string(target);
  return parsed;
}

}  // namespace

std::string size_text(uint64_t bytes) {
  static constexpr std::pair<char, unsigned> kUnits[] = {
      {'T', 40}, {'G', 30}, {'M', 20}, {'K', 10}};
  for (const auto& [suffix, shift] : kUnits) {
    if (bytes != 0 && bytes % (uint64_t{1} << shift) == 0) {
      return std::to_string(bytes >> shift) + suffix;
    }
  }
  return std::to_string(bytes);
}

std::string BackEndUrl::redacted() const {
  switch (kind) {
    case BackEndKind::kRam:
      return "ram://" + size_text(size_bytes);
    case BackEndKind::kNull:
      return "null://" + size_text(size_bytes);
    case BackEndKind::kIscsi:
    case BackEndKind::kIser:
      break;
  }
  const std::string credentials = chap_user.empty() ? "" : chap_user + "%***@";
  return std::string(kind == BackEndKind::kIser ? "iser://" : "iscsi://") + credentials +
         portal.host_port() + "/" + target_name;
}

Expected<BackEndUrl, std::string> parse_back_end_url(std::string_view url) {
  const size_t scheme_end = url.find("://");
  const std::string_view scheme =
      scheme_end == std::string_view::npos ? std::string_view() : url.substr(0, scheme_end);
  if (scheme == "iscsi") return parse_storage_url(url, BackEndKind::kIscsi, url.substr(8));
  if (scheme == "iser") return parse_storage_url(url, BackEndKind::kIser, url.substr(7));
  if (backend_ram::is_builtin_url(url)) {
    auto built_in = backend_ram::parse_backend_url(url);
    if (!built_in) return Unexpected{built_in.error()};
    BackEndUrl parsed;
    parsed.kind =
        built_in->kind == backend_ram::BackendKind::kRam ? BackEndKind::kRam : BackEndKind::kNull;
    parsed.size_bytes = built_in->size;
    return parsed;
  }
  return Unexpected{"back-end URL '" + std::string(url) +
                    "' must start with iscsi://, iser://, ram:// or null://"};
}

}  // namespace isergw::gateway

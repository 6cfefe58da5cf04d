// The storage a front target is relayed to, as an admin writes it:
//   iscsi://[user%secret@]host[:port]/IQN   iSCSI over TCP (libiscsi's form)
//   iser://[user%secret@]host[:port]/IQN    iSER, over whichever RDMA device
//                                           routes to host (as RDMA CM picks it)
//   ram://SIZE, null://SIZE                 the built-in back ends
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/expected.h"
#include "gateway/portal_address.h"

namespace isergw::gateway {

enum class BackEndKind { kIscsi, kIser, kRam, kNull };

struct BackEndUrl {
  BackEndKind kind = BackEndKind::kIscsi;
  PortalAddress portal;     // kIscsi and kIser
  std::string target_name;  // kIscsi and kIser
  std::string chap_user;    // one-way CHAP toward the storage, if given
  std::string chap_secret;  // never logged: see redacted()
  uint64_t size_bytes = 0;  // kRam and kNull

  // The URL with the CHAP secret masked, for logs, metrics and the API.
  std::string redacted() const;
};

Expected<BackEndUrl, std::string> parse_back_end_url(std::string_view url);

// A size in the largest unit (K, M, G, T: powers of 1024) that says it
// exactly, as an admin writes it: 1G, not 1073741824.
std::string size_text(uint64_t bytes);

}  // namespace isergw::gateway

#include "gateway/portal_admission.h"

namespace isergw::gateway {

std::shared_ptr<PortalAdmission> PortalAdmission::admit(std::shared_ptr<PortalLoad> load,
                                                        const std::string& source,
                                                        size_t max_connections,
                                                        size_t max_logging_in) {
  if (load->connections.load() >= max_connections || load->logging_in.load() >= max_logging_in) {
    ++load->refused;
    return nullptr;
  }
  if (!source.empty()) {
    std::lock_guard lock(load->sources_mutex);
    size_t& from_source = load->logging_in_by_source[source];
    if (from_source >= logins_per_source(max_logging_in)) {
      ++load->refused;
      return nullptr;
    }
    ++from_source;
  }
  ++load->connections;
  ++load->logging_in;
  return std::shared_ptr<PortalAdmission>(new PortalAdmission(std::move(load), source));
}

PortalAdmission::~PortalAdmission() {
  leave_login();
  --load_->connections;
}

void PortalAdmission::logged_in() {
  leave_login();
}

void PortalAdmission::leave_login() {
  if (!logging_in_) return;
  logging_in_ = false;
  --load_->logging_in;
  if (source_.empty()) return;
  std::lock_guard lock(load_->sources_mutex);
  const auto found = load_->logging_in_by_source.find(source_);
  if (found != load_->logging_in_by_source.end() && --found->second == 0) {
    load_->logging_in_by_source.erase(found);
  }
}

}  // namespace isergw::gateway

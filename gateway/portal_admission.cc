#include "gateway/portal_admission.h"

namespace isergw::gateway {

std::shared_ptr<PortalAdmission> PortalAdmission::admit(std::shared_ptr<PortalLoad> load,
                                                        size_t max_connections,
                                                        size_t max_logging_in) {
  if (load->connections.load() >= max_connections || load->logging_in.load() >= max_logging_in) {
    ++load->refused;
    return nullptr;
  }
  ++load->connections;
  ++load->logging_in;
  return std::shared_ptr<PortalAdmission>(new PortalAdmission(std::move(load)));
}

PortalAdmission::~PortalAdmission() {
  if (logging_in_) --load_->logging_in;
  --load_->connections;
}

void PortalAdmission::logged_in() {
  if (!logging_in_) return;
  logging_in_ = false;
  --load_->logging_in;
}

}  // namespace isergw::gateway

#include "control/testing/test_host.h"

#include <exception>
#include <utility>
#include <variant>

#include "tests/support/cdb.h"

namespace isergw::control::testing {

template <typename Step, typename Result>
Result TestHost::guarded(const char* what, Result failed, Step step) {
  if (!initiator_) {
    error_ = "not connected";
    return failed;
  }
  try {
    return step(*initiator_);
  } catch (const std::bad_variant_access&) {
    error_ = std::string("unexpected PDU during ") + what;
  } catch (const std::exception& error) {
    error_ = std::string(what) + ": " + error.what();
  }
  return failed;
}

TestHost::TestHost(uint16_t port) {
  try {
    initiator_.emplace(port);
  } catch (const std::exception& error) {
    error_ = std::string("connect: ") + error.what();
  }
}

bool TestHost::login(const std::string& target, const std::string& initiator) {
  return begin_login(target, initiator) && finish_login();
}

bool TestHost::begin_login(const std::string& target, const std::string& initiator) {
  if (!error_.empty()) return false;
  return guarded("login", false, [&](testing_support::TestInitiator& host) {
    host.use_isid(isid_);
    host.begin_login(target, initiator);
    return true;
  });
}

bool TestHost::finish_login() {
  return guarded("login", false, [&](testing_support::TestInitiator& host) {
    if (host.finish_login()) return true;
    error_ = "login refused";
    return false;
  });
}

std::optional<uint8_t> TestHost::write(uint32_t lba, std::span<const uint8_t> data) {
  return guarded("a write", std::optional<uint8_t>(), [&](testing_support::TestInitiator& host) {
    return std::optional<uint8_t>(host.write(itt_++, lba, data));
  });
}

bool TestHost::begin_write(uint32_t lba, uint32_t length) {
  return guarded("a write", false, [&](testing_support::TestInitiator& host) {
    const auto cdb = testing_support::write10(lba, static_cast<uint16_t>(length / 512));
    // No immediate data and no unsolicited Data-Out: all of it by R2T.
    iscsi::ScsiCommand command = host.command(itt_++, cdb, length, false, true);
    command.final = true;
    host.send(command);
    if (std::holds_alternative<iscsi::R2t>(host.receive().pdu)) return true;
    error_ = "no R2T for a write sent without its data";
    return false;
  });
}

std::optional<uint8_t> TestHost::read(uint32_t lba, uint32_t length, std::vector<uint8_t>& data) {
  return guarded("a read", std::optional<uint8_t>(), [&](testing_support::TestInitiator& host) {
    auto [read, status] = host.read(itt_++, lba, length);
    data = std::move(read);
    return std::optional<uint8_t>(status);
  });
}

bool TestHost::logout() {
  return guarded("logout", false, [&](testing_support::TestInitiator& host) {
    iscsi::LogoutRequest request;
    request.immediate = true;
    request.itt = itt_++;
    request.cmd_sn = host.cmd_sn();
    host.send(request);
    return std::holds_alternative<iscsi::LogoutResponse>(host.receive().pdu);
  });
}

bool TestHost::closed_by_gateway() {
  return initiator_ && initiator_->closed_by_peer();
}

}  // namespace isergw::control::testing

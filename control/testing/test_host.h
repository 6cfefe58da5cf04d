// A host for the control plane's tests: the shared TestInitiator with its
// failures turned into values, never exceptions or test assertions, so that
// it can run on a thread of its own and a refused login or a closed
// connection is something a test can expect.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "iscsi/login_initiator.h"
#include "tests/support/test_initiator.h"

namespace isergw::control::testing {

class TestHost {
 public:
  explicit TestHost(uint16_t port);

  // False when the login is refused or the connection fails; `error` says why.
  bool login(const std::string& target,
             const std::string& initiator = "iqn.1993-08.org.debian:01:control-test");
  // login() in two parts, to act while a login is under way: the first
  // request and its response, then the rest.
  bool begin_login(const std::string& target,
                   const std::string& initiator = "iqn.1993-08.org.debian:01:control-test");
  bool finish_login();
  bool login_under_way() const { return initiator_ && initiator_->login_under_way(); }
  // WRITE(10) of data.size() bytes (a multiple of 512) at `lba`; the SCSI
  // status, or nullopt when the connection failed.
  std::optional<uint8_t> write(uint32_t lba, std::span<const uint8_t> data);
  // A WRITE(10) of `length` bytes sent without its data, left waiting: true
  // once the gateway has asked for the data (its first R2T), which the host
  // then never sends.
  bool begin_write(uint32_t lba, uint32_t length);
  // READ(10) of `length` bytes at `lba` into `data`.
  std::optional<uint8_t> read(uint32_t lba, uint32_t length, std::vector<uint8_t>& data);
  bool logout();
  // True when the gateway has closed the connection.
  bool closed_by_gateway();

  const std::string& error() const { return error_; }
  // The ISID of this connection's session; give another host's before
  // login() to reinstate that host's session (RFC 7143 §6.3.5).
  const iscsi::Isid& isid() const { return isid_; }
  void use_isid(const iscsi::Isid& isid) { isid_ = isid; }

 private:
  // Runs `step` on the connection: its result, or `failed` with error()
  // saying why when the connection is gone or the gateway answered out of
  // turn (TestInitiator throws for both).
  template <typename Step, typename Result>
  Result guarded(const char* what, Result failed, Step step);

  std::optional<testing_support::TestInitiator> initiator_;
  uint32_t itt_ = 1;
  iscsi::Isid isid_ = iscsi::random_isid();
  std::string error_;
};

}  // namespace isergw::control::testing

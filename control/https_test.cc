// The control API's HTTPS, against a CA the test makes with the openssl
// command line (control/testing/make_test_ca.sh): a client that verifies
// against that CA is served; one that trusts another CA, or reaches a
// certificate for another name, stops at the handshake; plain HTTP to the
// HTTPS port is answered 400 and reaches no handler; and the server refuses
// to start with a key that others may read or that is not the
// certificate's.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <cstdlib>
#include <string>

#include "control/http_client.h"
#include "control/http_server.h"

namespace isergw::control {
namespace {

std::string pki() {
  return std::string(getenv("TEST_TMPDIR")) + "/pki";
}

class HttpsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string command = "bash control/testing/make_test_ca.sh " + pki();
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
  }

  // Starts a server with the named certificate and key of the test PKI.
  Expected<void, std::string> start(const std::string& cert, const std::string& key) {
    return server_.start({.transport = gateway::Transport::kTcp, .host = "127.0.0.1", .port = 0},
                         TlsFiles{pki() + "/" + cert, pki() + "/" + key});
  }

  Expected<HttpReply, std::string> get(std::optional<TlsVerification> tls) {
    return HttpClient("127.0.0.1", server_.bound_port(), std::nullopt, std::move(tls))
        .request("GET", "/anything");
  }

  std::atomic<int> served_{0};
  HttpServer server_{[this](const HttpRequest& request) {
    ++served_;
    HttpResponse response(boost::beast::http::status::ok, request.version());
    response.body() = "served over TLS";
    response.prepare_payload();
    return response;
  }};
};

TEST_F(HttpsTest, AClientThatVerifiesAgainstTheCaIsServed) {
  ASSERT_TRUE(start("server.crt", "server.key"));
  EXPECT_TRUE(server_.serves_tls());
  for (int i = 0; i < 3; ++i) {
    auto reply = get(TlsVerification{pki() + "/ca.crt"});
    ASSERT_TRUE(reply) << reply.error();
    EXPECT_EQ(reply->status, 200U);
    EXPECT_EQ(reply->body, "served over TLS");
  }
  EXPECT_EQ(served_, 3);
}

TEST_F(HttpsTest, PlainHttpToTheHttpsPortIsRefusedAndReachesNoHandler) {
  ASSERT_TRUE(start("server.crt", "server.key"));
  auto reply = get(std::nullopt);
  ASSERT_TRUE(reply) << reply.error();
  EXPECT_EQ(reply->status, 400U);
  EXPECT_NE(reply->body.find("speaks HTTPS only"), std::string::npos) << reply->body;
  EXPECT_EQ(served_, 0);
  // The server still serves TLS clients afterwards.
  EXPECT_TRUE(get(TlsVerification{pki() + "/ca.crt"}));
}

TEST_F(HttpsTest, AnotherCaOrAnotherNameFailsVerification) {
  ASSERT_TRUE(start("server.crt", "server.key"));
  auto reply = get(TlsVerification{pki() + "/other-ca.crt"});
  ASSERT_FALSE(reply);
  EXPECT_NE(reply.error().find("certificate does not verify"), std::string::npos) << reply.error();
  auto missing = get(TlsVerification{pki() + "/no-such-ca.crt"});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().find("no-such-ca.crt"), std::string::npos) << missing.error();
  EXPECT_EQ(served_, 0);

  // Signed by the right CA, but for DNS:elsewhere.example, not 127.0.0.1.
  HttpServer elsewhere([](const HttpRequest& request) {
    return HttpResponse(boost::beast::http::status::ok, request.version());
  });
  ASSERT_TRUE(
      elsewhere.start({.transport = gateway::Transport::kTcp, .host = "127.0.0.1", .port = 0},
                      TlsFiles{pki() + "/elsewhere.crt", pki() + "/elsewhere.key"}));
  auto wrong_name = HttpClient("127.0.0.1", elsewhere.bound_port(), std::nullopt,
                               TlsVerification{pki() + "/ca.crt"})
                        .request("GET", "/");
  ASSERT_FALSE(wrong_name);
  EXPECT_NE(wrong_name.error().find("TLS handshake with 127.0.0.1"), std::string::npos)
      << wrong_name.error();
}

TEST_F(HttpsTest, TheServerRefusesAKeyOthersMayReadOrThatIsNotTheCertificates) {
  auto mismatched = start("server.crt", "elsewhere.key");
  ASSERT_FALSE(mismatched);
  EXPECT_NE(mismatched.error().find("does not belong to the certificate"), std::string::npos)
      << mismatched.error();

  auto missing = start("no-such.crt", "server.key");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().find("no-such.crt"), std::string::npos) << missing.error();

  const std::string key = pki() + "/server.key";
  ASSERT_EQ(::chmod(key.c_str(), 0644), 0);
  auto readable = start("server.crt", "server.key");
  ::chmod(key.c_str(), 0600);
  ASSERT_FALSE(readable);
  EXPECT_NE(readable.error().find("chmod o-rwx"), std::string::npos) << readable.error();
}

}  // namespace
}  // namespace isergw::control

// docs/openapi.yaml and the REST API agree: the router and the document
// list the same paths and methods, and what the API answers has the shape
// the document's schemas give it, no field more and none fewer.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "control/api_json.h"
#include "control/rest_api.h"
#include "control/testing/running_gateway.h"
#include "control/testing/test_host.h"

namespace isergw::control {
namespace {

// "METHOD /path" for each operation under `paths:`. The document's layout
// is fixed: paths indented by two spaces, methods by four.
std::set<std::string> documented_operations(const std::string& file) {
  std::ifstream yaml(file);
  EXPECT_TRUE(yaml) << "cannot read " << file;
  const std::regex path_line(R"(^  (/\S*):\s*$)");
  const std::regex method_line(R"(^    (get|put|post|delete|patch|head|options):.*$)");
  std::set<std::string> operations;
  std::string line;
  std::string path;
  bool in_paths = false;
  std::smatch match;
  while (std::getline(yaml, line)) {
    if (!line.empty() && line[0] != ' ') {
      in_paths = line.rfind("paths:", 0) == 0;
      continue;
    }
    if (!in_paths) continue;
    if (std::regex_match(line, match, path_line)) {
      path = match[1];
    } else if (std::regex_match(line, match, method_line)) {
      std::string method = match[1];
      for (char& c : method)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      operations.insert(method + " " + path);
    }
  }
  return operations;
}

TEST(OpenApiTest, EveryRouteIsDocumentedAndEveryDocumentedPathIsRouted) {
  std::set<std::string> routed;
  for (const Route& route : RestApi::routes())
    routed.insert(route.method + " " + route.pattern);
  const std::set<std::string> documented = documented_operations("docs/openapi.yaml");
  EXPECT_GE(routed.size(), 17U);
  for (const auto& operation : routed) {
    EXPECT_EQ(documented.count(operation), 1U) << operation << " is not in docs/openapi.yaml";
  }
  for (const auto& operation : documented) {
    EXPECT_EQ(routed.count(operation), 1U) << operation << " is documented but not routed";
  }
}

using nlohmann::json;
using testing::RunningGateway;
using testing::TestHost;

// The document as JSON (docs:openapi_json converts it at build time).
const json& document() {
  static const json parsed = [] {
    std::ifstream file("docs/openapi.json");
    EXPECT_TRUE(file) << "cannot read docs/openapi.json";
    return json::parse(file, nullptr, false);
  }();
  return parsed;
}

const json& resolve(const json& schema) {
  if (!schema.contains("$ref")) return schema;
  const std::string prefix = "#/components/schemas/";
  const std::string ref = schema["$ref"];
  EXPECT_EQ(ref.rfind(prefix, 0), 0U) << "unexpected $ref " << ref;
  return document()["components"]["schemas"][ref.substr(prefix.size())];
}

// What a schema allows, its $ref resolved and its allOf parts merged: the
// properties it documents and whether it allows others, nulls, its type.
struct SchemaShape {
  std::map<std::string, json> properties;
  bool open = false;
  bool nullable = false;
  std::string type;
};

SchemaShape shape_of(const json& reference) {
  const json& schema = resolve(reference);
  SchemaShape shape;
  shape.nullable = schema.value("nullable", false) || reference.value("nullable", false);
  shape.type = schema.value("type", "");
  shape.open = schema.value("additionalProperties", false);
  if (schema.contains("properties")) {
    for (const auto& [name, property] : schema["properties"].items())
      shape.properties[name] = property;
  }
  for (const json& part : schema.value("allOf", json::array())) {
    SchemaShape inner = shape_of(part);
    shape.properties.merge(inner.properties);
    shape.open = shape.open || inner.open;
    if (shape.type.empty()) shape.type = inner.type;
  }
  return shape;
}

bool has_type(const json& value, const std::string& type) {
  if (type == "integer") return value.is_number_integer();
  if (type == "number") return value.is_number();
  if (type == "string") return value.is_string();
  if (type == "boolean") return value.is_boolean();
  if (type == "object") return value.is_object();
  if (type == "array") return value.is_array();
  return type.empty();
}

// Every mismatch between value and schema, each named by its path.
void check(const json& value, const json& schema, const std::string& path,
           std::vector<std::string>& problems) {
  const SchemaShape shape = shape_of(schema);
  if (value.is_null()) {
    if (!shape.nullable) problems.push_back(path + " is null, and the document does not allow it");
    return;
  }
  if (!has_type(value, shape.type)) {
    problems.push_back(path + " is " + value.type_name() + ", documented as " + shape.type);
    return;
  }
  const json& resolved = resolve(schema);
  if (resolved.contains("enum") && std::find(resolved["enum"].begin(), resolved["enum"].end(),
                                             value) == resolved["enum"].end()) {
    problems.push_back(path + " is " + value.dump() + ", not one of " + resolved["enum"].dump());
  }
  if (value.is_array() && resolved.contains("items")) {
    for (size_t i = 0; i < value.size(); ++i) {
      check(value[i], resolved["items"], path + "[" + std::to_string(i) + "]", problems);
    }
  }
  if (!value.is_object() || shape.open) return;
  for (const auto& [name, field] : value.items()) {
    const auto documented = shape.properties.find(name);
    if (documented == shape.properties.end()) {
      problems.push_back(path + "." + name + " is answered but not documented");
    } else {
      check(field, documented->second, path + "." + name, problems);
    }
  }
  for (const auto& [name, property] : shape.properties) {
    if (!value.contains(name)) problems.push_back(path + "." + name + " is documented but absent");
  }
}

std::vector<std::string> problems_of(const json& value, const std::string& schema) {
  std::vector<std::string> problems;
  check(value, json{{"$ref", "#/components/schemas/" + schema}}, schema, problems);
  return problems;
}

TEST(OpenApiTest, ALiveGatewaysSessionsAndPortalsMatchTheirSchemas) {
  RunningGateway gateway;
  TestHost host(gateway.portal_port());
  ASSERT_TRUE(host.login(testing::kTargetA, "iqn.1993-08.org.debian:01:schemas")) << host.error();
  ASSERT_EQ(host.write(0, std::vector<uint8_t>(4096, 0x5a)), 0);
  const json sessions = gateway.get_json("/api/v1/sessions");
  ASSERT_EQ(sessions.size(), 1U);
  EXPECT_EQ(problems_of(sessions[0], "Session"), std::vector<std::string>{});
  const json portals = gateway.get_json("/api/v1/portals");
  ASSERT_FALSE(portals.empty());
  for (const json& portal : portals) {
    EXPECT_EQ(problems_of(portal, "Portal"), std::vector<std::string>{});
  }
}

// What a relayed session's back leg adds (a connection to the storage and
// the parameters negotiated there), and a discovery session's null back leg.
TEST(OpenApiTest, RelayedAndDiscoverySessionsMatchTheSchema) {
  gateway::SessionInfo relayed;
  relayed.fabric = "iser";
  relayed.logged_in = true;
  relayed.parameters = iscsi::NegotiatedParameters{};
  relayed.back = gateway::BackLegInfo{.back_end = "iscsi://storage/iqn.2026-11.com.example:db",
                                      .state = "logged in",
                                      .parameters = iscsi::NegotiatedParameters{},
                                      .connection = gateway::ConnectionStatistics{}};
  EXPECT_EQ(problems_of(session_to_json(relayed), "Session"), std::vector<std::string>{});

  gateway::SessionInfo discovery;
  discovery.discovery = true;
  discovery.fabric = "tcp";
  EXPECT_EQ(problems_of(session_to_json(discovery), "Session"), std::vector<std::string>{});
}

TEST(OpenApiTest, ACommandInFlightMatchesTheTaskSchema) {
  for (const bool read : {false, true}) {
    gateway::TaskInfo task;
    task.read = read;
    task.write = !read;
    task.state = read ? gateway::TaskState::kAtStorage : gateway::TaskState::kWaitingForBuffers;
    EXPECT_EQ(problems_of(task_to_json(task), "Task"), std::vector<std::string>{});
  }
}

TEST(OpenApiTest, TheCheckFindsAnUndocumentedField) {
  gateway::SessionInfo session;
  session.fabric = "tcp";
  json answered = session_to_json(session);
  answered["front"]["statistics"]["surprise"] = 1;
  answered["fabric"] = "fc";
  const std::vector<std::string> problems = problems_of(answered, "Session");
  EXPECT_THAT(problems, ::testing::Contains(
                            "Session.front.statistics.surprise is answered but not documented"));
  EXPECT_THAT(problems,
              ::testing::Contains(R"(Session.fabric is "fc", not one of ["tcp","iser"])"));
}

}  // namespace
}  // namespace isergw::control

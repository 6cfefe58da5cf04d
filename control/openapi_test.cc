// docs/openapi.yaml and the REST API's router list the same paths and
// methods: a route added to one and not the other fails here.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <string>

#include "control/rest_api.h"

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

}  // namespace
}  // namespace isergw::control

// isergwctl: the gateway's REST API from a shell. Tables for people, --json
// for scripts (the API's own JSON, unchanged).
#include <boost/program_options.hpp>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "control/http_client.h"

namespace {

namespace po = boost::program_options;
using isergw::control::HttpClient;
using isergw::control::HttpReply;
using nlohmann::json;

constexpr const char* kUsage =
    "Usage: isergwctl [--control [https://]ADDR:PORT] [--ca-file F] [--token-file F] [--json] "
    "COMMAND\n\n"
    "Commands:\n"
    "  sessions                 the sessions, both legs of each\n"
    "  tasks SESSION_ID         a session's commands in flight: where each waits, how long\n"
    "  targets                  the target map\n"
    "  portals                  the portals hosts log in to\n"
    "  backends                 whether each target's back end answers\n"
    "  stats                    per-target counters from /metrics\n"
    "  reload                   re-read the gateway's config file\n"
    "  map FRONT_IQN=URL        add a target, or replace it\n"
    "  unmap FRONT_IQN          remove a target (its sessions are closed)\n"
    "  logout SESSION_ID        close a session\n\n"
    "The token comes from --token-file, else from the environment's ISERGW_TOKEN.\n\n"
    "Options";

// Prints rows as aligned columns; the first row is the header.
void print_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (size_t i = 0; i < row.size(); ++i)
      widths[i] = std::max(widths[i], row[i].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    std::cout << line << "\n";
  }
}

std::string text(const json& value) {
  if (value.is_null()) return "-";
  if (value.is_string()) return value.get<std::string>();
  return value.dump();
}

std::string bytes(double count) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  while (count >= 1024 && unit < 4) {
    count /= 1024;
    ++unit;
  }
  std::ostringstream out;
  out << std::fixed << std::setprecision(unit == 0 ? 0 : 1) << count << " " << units[unit];
  return out.str();
}

// Samples of the Prometheus text format: name, labels, value.
struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

std::vector<Sample> parse_metrics(const std::string& body) {
  std::vector<Sample> samples;
  std::istringstream lines(body);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    Sample sample;
    const size_t brace = line.find('{');
    const size_t space = line.rfind(' ');
    if (space == std::string::npos) continue;
    if (brace != std::string::npos && brace < space) {
      sample.name = line.substr(0, brace);
      const size_t close = line.rfind('}');
      std::string labels = line.substr(brace + 1, close - brace - 1);
      size_t at = 0;
      while (at < labels.size()) {
        const size_t equals = labels.find('=', at);
        const size_t end = labels.find('"', equals + 2);
        if (equals == std::string::npos || end == std::string::npos) break;
        sample.labels[labels.substr(at, equals - at)] = labels.substr(equals + 2, end - equals - 2);
        at = end + 2;
      }
    } else {
      sample.name = line.substr(0, space);
    }
    sample.value = std::strtod(line.c_str() + space + 1, nullptr);
    samples.push_back(std::move(sample));
  }
  return samples;
}

int show_stats(const HttpReply& reply, bool as_json) {
  const auto samples = parse_metrics(reply.body);
  if (as_json) {
    json list = json::array();
    for (const auto& sample : samples)
      list.push_back({{"name", sample.name}, {"labels", sample.labels}, {"value", sample.value}});
    std::cout << list.dump(2) << "\n";
    return 0;
  }
  struct Row {
    double commands = 0, read = 0, written = 0, sessions = 0, errors = 0, logins = 0, failed = 0;
  };
  std::map<std::string, Row> targets;
  for (const auto& sample : samples) {
    const auto found = sample.labels.find("target");
    if (found == sample.labels.end()) continue;
    const std::string key =
        sample.labels.at("fabric") + " " + (found->second.empty() ? "(no target)" : found->second);
    Row& row = targets[key];
    if (sample.name == "isergw_commands_total") row.commands += sample.value;
    if (sample.name == "isergw_read_bytes_total") row.read += sample.value;
    if (sample.name == "isergw_written_bytes_total") row.written += sample.value;
    if (sample.name == "isergw_sessions") row.sessions += sample.value;
    if (sample.name == "isergw_errors_total") row.errors += sample.value;
    if (sample.name == "isergw_logins_total") {
      (sample.labels.at("result") == "success" ? row.logins : row.failed) += sample.value;
    }
  }
  std::vector<std::vector<std::string>> rows{{"FABRIC", "TARGET", "SESSIONS", "COMMANDS", "READ",
                                              "WRITTEN", "ERRORS", "LOGINS", "FAILED"}};
  for (const auto& [key, row] : targets) {
    const size_t space = key.find(' ');
    rows.push_back({key.substr(0, space), key.substr(space + 1),
                    std::to_string(static_cast<uint64_t>(row.sessions)),
                    std::to_string(static_cast<uint64_t>(row.commands)), bytes(row.read),
                    bytes(row.written), std::to_string(static_cast<uint64_t>(row.errors)),
                    std::to_string(static_cast<uint64_t>(row.logins)),
                    std::to_string(static_cast<uint64_t>(row.failed))});
  }
  print_table(rows);
  return 0;
}

void show_table(const std::string& command, const json& body) {
  std::vector<std::vector<std::string>> rows;
  if (command == "sessions") {
    rows.push_back({"ID", "PEER", "INITIATOR", "TARGET", "TSIH", "AGE", "COMMANDS", "READ",
                    "WRITTEN", "BACK END", "BACK STATE"});
    for (const auto& session : body) {
      const json& front = session["front"];
      const json& back = session["back"];
      rows.push_back(
          {text(session["id"]), text(front["peer"]), text(front["initiator"]),
           front["type"] == "discovery" ? "(discovery)" : text(front["target"]),
           text(front["tsih"]),
           std::to_string(static_cast<uint64_t>(front["age_seconds"].get<double>())) + "s",
           text(front["statistics"]["commands"]),
           bytes(front["statistics"]["read_bytes"].get<double>()),
           bytes(front["statistics"]["written_bytes"].get<double>()),
           back.is_null() ? "-" : text(back["back_end"]),
           back.is_null() ? "-" : text(back["state"])});
    }
  } else if (command == "tasks") {
    rows.push_back(
        {"ID", "ITT", "LUN", "OPCODE", "DIRECTION", "LENGTH", "STATE", "IN STATE", "AGE"});
    for (const auto& task : body) {
      char opcode[8];
      std::snprintf(opcode, sizeof opcode, "0x%02x", task["operation_code"].get<unsigned>());
      char itt[16];
      std::snprintf(itt, sizeof itt, "0x%08x", task["itt"].get<unsigned>());
      const auto seconds = [](const json& value) {
        char formatted[32];
        std::snprintf(formatted, sizeof formatted, "%.1fs", value.get<double>());
        return std::string(formatted);
      };
      rows.push_back({text(task["id"]), itt, text(task["lun"]), opcode, text(task["direction"]),
                      bytes(task["expected_data_transfer_length"].get<double>()),
                      text(task["state"]), seconds(task["in_state_seconds"]),
                      seconds(task["age_seconds"])});
    }
  } else if (command == "targets") {
    rows.push_back({"TARGET", "BACK END", "IDENTITY", "CHAP", "ALLOWED INITIATORS"});
    for (const auto& target : body) {
      std::string allowed = "all";
      if (target.contains("allowed_initiators")) {
        allowed.clear();
        for (const auto& name : target["allowed_initiators"])
          allowed += (allowed.empty() ? "" : ",") + name.get<std::string>();
      }
      rows.push_back({text(target["name"]), text(target["back_end"]),
                      target.contains("identity") ? text(target["identity"]) : "-",
                      target.contains("front_chap") ? "yes" : "no", allowed});
    }
  } else if (command == "portals") {
    rows.push_back({"PORTAL", "PORT", "LISTENING"});
    for (const auto& portal : body) {
      rows.push_back({text(portal["url"]), text(portal["bound_port"]),
                      portal["listening"].get<bool>() ? "yes" : "no"});
    }
  } else if (command == "backends") {
    rows.push_back({"TARGET", "BACK END", "HEALTHY", "DETAIL"});
    for (const auto& health : body) {
      rows.push_back({text(health["target"]), text(health["back_end"]),
                      health["healthy"].get<bool>() ? "yes" : "NO", text(health["detail"])});
    }
  } else {
    std::cout << body.dump(2) << "\n";
    return;
  }
  print_table(rows);
}

// Prints the API's error and returns the exit status for it.
int report_error(const HttpReply& reply) {
  const json body = json::parse(reply.body, nullptr, false);
  if (body.is_object() && body.contains("error")) {
    const json& error = body["error"];
    std::string where;
    if (error.contains("field")) where = error["field"].get<std::string>() + ": ";
    std::cerr << "isergwctl: " << where << error.value("message", "") << " (HTTP " << reply.status
              << ")\n";
  } else {
    std::cerr << "isergwctl: HTTP " << reply.status << ": " << reply.body << "\n";
  }
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  po::options_description options(kUsage);
  options.add_options()             //
      ("help,h", "show this help")  //
      ("control", po::value<std::string>()->default_value("127.0.0.1:9860"),
       "the gateway's control API: ADDR:PORT or http://ADDR:PORT for plain HTTP, "
       "https://ADDR:PORT for HTTPS")  //
      ("ca-file", po::value<std::string>(),
       "PEM file of the CA that signed the gateway's certificate; implies HTTPS (without it, "
       "https:// trusts the system's CAs)")  //
      ("token-file", po::value<std::string>(),
       "file holding the bearer token (one token, on the first line)")  //
      ("json", "print the API's JSON instead of a table");
  po::options_description hidden;
  hidden.add_options()("args", po::value<std::vector<std::string>>());
  po::options_description all;
  all.add(options).add(hidden);
  po::positional_options_description positional;
  positional.add("args", -1);
  po::variables_map values;
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(),
              values);
    po::notify(values);
  } catch (const po::error& error) {
    std::cerr << "isergwctl: " << error.what() << " (try --help)\n";
    return 2;
  }
  const auto args = values.count("args") ? values["args"].as<std::vector<std::string>>()
                                         : std::vector<std::string>{};
  if (values.count("help") || args.empty()) {
    std::cout << options;
    return args.empty() && !values.count("help") ? 2 : 0;
  }
  std::string control = values["control"].as<std::string>();
  bool https = values.count("ca-file") > 0;
  if (control.starts_with("https://")) {
    https = true;
    control.erase(0, 8);
  } else if (control.starts_with("http://")) {
    if (https) {
      std::cerr << "isergwctl: --ca-file is for HTTPS, but --control says http://\n";
      return 2;
    }
    control.erase(0, 7);
  }
  if (!control.empty() && control.back() == '/') control.pop_back();
  const size_t colon = control.rfind(':');
  if (colon == std::string::npos || control.find('/') != std::string::npos) {
    std::cerr << "isergwctl: --control wants [https://]ADDR:PORT, got '"
              << values["control"].as<std::string>() << "'\n";
    return 2;
  }
  std::string host = control.substr(0, colon);
  if (host.size() > 1 && host.front() == '[') host = host.substr(1, host.size() - 2);
  const int port = std::atoi(control.c_str() + colon + 1);
  if (port <= 0 || port > 65535) {
    std::cerr << "isergwctl: bad port in --control '" << control << "'\n";
    return 2;
  }
  std::optional<std::string> token;
  if (values.count("token-file")) {
    const std::string path = values["token-file"].as<std::string>();
    std::ifstream file(path);
    std::string line;
    if (!file || !std::getline(file, line)) {
      std::cerr << "isergwctl: cannot read the token from " << path << "\n";
      return 2;
    }
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back())))
      line.pop_back();
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.front())))
      line.erase(0, 1);
    // The gateway's file of named tokens is no token: sent whole, it would
    // put every token of the file on the wire.
    if (line.find_first_of(" \t") != std::string::npos || line.starts_with("#")) {
      std::cerr << "isergwctl: " << path
                << " holds NAME ROLE TOKEN lines (the gateway's file); give a file that holds "
                   "one token, or set ISERGW_TOKEN\n";
      return 2;
    }
    token = line;
  } else if (const char* from_environment = std::getenv("ISERGW_TOKEN");
             from_environment != nullptr && *from_environment != '\0') {
    token = from_environment;
  }
  std::optional<isergw::control::TlsVerification> tls;
  if (https) {
    tls = isergw::control::TlsVerification{
        values.count("ca-file") ? values["ca-file"].as<std::string>() : std::string()};
  }
  const HttpClient client(host, static_cast<uint16_t>(port), token, tls);
  const bool as_json = values.count("json") > 0;
  const std::string& command = args[0];
  const auto want_args = [&](size_t count) {
    if (args.size() == count + 1) return true;
    std::cerr << "isergwctl: " << command << " takes " << count << " argument(s) (try --help)\n";
    return false;
  };

  std::string method = "GET";
  std::string path;
  std::string body;
  if (command == "sessions" || command == "targets" || command == "portals" ||
      command == "backends") {
    if (!want_args(0)) return 2;
    path = "/api/v1/" + command;
  } else if (command == "stats") {
    if (!want_args(0)) return 2;
    path = "/metrics";
  } else if (command == "reload") {
    if (!want_args(0)) return 2;
    method = "POST";
    path = "/api/v1/config/reload";
  } else if (command == "map") {
    if (!want_args(1)) return 2;
    const size_t equals = args[1].find('=');
    if (equals == std::string::npos) {
      std::cerr << "isergwctl: map wants FRONT_IQN=URL, got '" << args[1] << "'\n";
      return 2;
    }
    method = "PUT";
    path = "/api/v1/targets/" + HttpClient::encode_segment(args[1].substr(0, equals));
    body = json{{"back_end", args[1].substr(equals + 1)}}.dump();
  } else if (command == "unmap") {
    if (!want_args(1)) return 2;
    method = "DELETE";
    path = "/api/v1/targets/" + HttpClient::encode_segment(args[1]);
  } else if (command == "tasks") {
    if (!want_args(1)) return 2;
    path = "/api/v1/sessions/" + HttpClient::encode_segment(args[1]) + "/tasks";
  } else if (command == "logout") {
    if (!want_args(1)) return 2;
    method = "DELETE";
    path = "/api/v1/sessions/" + HttpClient::encode_segment(args[1]);
  } else {
    std::cerr << "isergwctl: unknown command '" << command << "' (try --help)\n";
    return 2;
  }

  auto reply = client.request(method, path, body);
  if (!reply) {
    std::cerr << "isergwctl: " << reply.error() << "\n";
    return 2;
  }
  if (reply->status >= 300) return report_error(*reply);
  if (command == "stats") return show_stats(*reply, as_json);
  if (reply->status == 204) {
    if (as_json) std::cout << "{}\n";
    return 0;
  }
  const json parsed = json::parse(reply->body, nullptr, false);
  if (as_json || command == "map" || command == "reload") {
    std::cout << (parsed.is_discarded() ? reply->body : parsed.dump(2) + "\n");
    return 0;
  }
  show_table(command, parsed);
  return 0;
}

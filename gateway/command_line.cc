#include "gateway/command_line.h"

#include <boost/program_options.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "iscsi/iscsi_name.h"
#include "rdma/device.h"

namespace isergw::gateway {

namespace po = boost::program_options;

namespace {

// The embedded default also serves iSER where this machine has an RDMA
// device, on every address the devices have. Not on iWARP: its devices
// share TCP's port space, where the TCP portal already holds 3260.
std::optional<PortalAddress> embedded_iser_portal() {
  const std::vector<std::string> names = rdma::Device::list_names();
  if (names.empty()) return std::nullopt;
  for (const std::string& name : names) {
    auto device = rdma::Device::open(name);
    if (!device || (*device)->is_iwarp()) return std::nullopt;
  }
  return parse_listen_url("iser://0.0.0.0:3260").value();
}

po::options_description describe_options() {
  po::options_description options(
      "Usage: isergw [--config FILE | --listen URL... --map IQN=URL...] [options]\n\n"
      "Relays iSCSI sessions between hosts (front) and storage (back). With no\n"
      "--config and no --map it runs the embedded default: tcp://127.0.0.1:3260\n"
      "(and iser://0.0.0.0:3260 where an InfiniBand or RoCE device exists)\n"
      "exporting iqn.2026-11.io.isergw:ram0 on ram://1G.\n\nOptions");
  options.add_options()                                                                     //
      ("help,h", "print this help")                                                         //
      ("version", "print the version")                                                      //
      ("config,c", po::value<std::string>(), "JSON config file (docs/CONFIG.md)")           //
      ("check-config", po::value<std::string>(), "validate FILE, print the verdict, exit")  //
      ("listen,l", po::value<std::vector<std::string>>(),
       "portal to listen on: tcp://ADDR[:PORT] or iser://ADDR[:PORT]; repeatable")  //
      ("map,m", po::value<std::vector<std::string>>(),
       "FRONT_IQN=URL, URL being iscsi://[user%secret@]host[:port]/IQN, "
       "iser://host[:port]/IQN, ram://SIZE or null://SIZE; repeatable")                 //
      ("control", po::value<std::string>(), "REST API and /metrics address ADDR:PORT")  //
      ("workers", po::value<unsigned>(), "worker threads (default: one per core)")      //
      ("rdma-posting", po::value<std::string>(),
       "how workers post RDMA send lists: auto (a thread of their own on soft devices, "
       "rxe and siw), thread or inline")  //
      ("log-level", po::value<std::string>()->default_value("info"),
       "trace, debug, info, warn or error");
  return options;
}

}  // namespace

void ConfigOverrides::apply(control::Config& config) const {
  if (!listen.empty()) config.listen = listen;
  if (control) config.control = *control;
  if (workers != 0) config.workers = workers;
  if (rdma_posting) config.rdma.posting = *rdma_posting;
}

Expected<CommandLine, std::string> parse_command_line(const std::vector<std::string>& args) {
  const po::options_description options = describe_options();
  CommandLine parsed;
  std::ostringstream help;
  help << options;
  parsed.help = help.str();

  po::variables_map values;
  try {
    po::store(po::command_line_parser(args).options(options).run(), values);
    po::notify(values);
  } catch (const po::error& error) {
    return Unexpected{std::string(error.what()) + " (try --help)"};
  }
  if (values.count("help")) {
    parsed.action = CommandLine::Action::kHelp;
    return parsed;
  }
  if (values.count("version")) {
    parsed.action = CommandLine::Action::kVersion;
    return parsed;
  }
  parsed.log_level = values["log-level"].as<std::string>();

  if (values.count("check-config")) {
    parsed.action = CommandLine::Action::kCheckConfig;
    parsed.config_path = values["check-config"].as<std::string>();
  } else if (values.count("config")) {
    parsed.config_path = values["config"].as<std::string>();
  }
  if (!parsed.config_path.empty()) {
    if (values.count("map"))
      return Unexpected{
          std::string("--map and a config file exclude each other; put the targets in the file")};
    auto config = control::load_config_file(parsed.config_path);
    if (!config) return Unexpected{config.error().describe()};
    parsed.config = std::move(*config);
  } else {
    parsed.config = control::default_config();
    if (values.count("map")) {
      parsed.config.targets.clear();
      for (const std::string& map : values["map"].as<std::vector<std::string>>()) {
        const size_t equals = map.find('=');
        if (equals == std::string::npos) {
          return Unexpected{"--map wants FRONT_IQN=URL, got '" + map + "'"};
        }
        control::TargetConfig target;
        target.name = map.substr(0, equals);
        if (auto valid = iscsi::validate_iscsi_name(target.name); !valid) {
          return Unexpected{"--map: " + valid.error()};
        }
        auto url = parse_back_end_url(map.substr(equals + 1));
        if (!url) return Unexpected{"--map " + target.name + ": " + url.error()};
        target.back_end = std::move(*url);
        control::take_url_credentials(target);  // a fresh target has no back_chap yet
        if (parsed.config.find_target(target.name) != nullptr) {
          return Unexpected{"--map names " + target.name + " twice"};
        }
        parsed.config.targets.push_back(std::move(target));
      }
    }
  }
  if (values.count("listen")) {
    for (const std::string& url : values["listen"].as<std::vector<std::string>>()) {
      auto portal = parse_listen_url(url);
      if (!portal) return Unexpected{"--listen: " + portal.error()};
      parsed.overrides.listen.push_back(std::move(*portal));
    }
  }
  if (values.count("control")) {
    auto control = parse_host_port(values["control"].as<std::string>(), Transport::kTcp);
    if (!control) return Unexpected{"--control: " + control.error()};
    parsed.overrides.control = std::move(*control);
  }
  if (values.count("workers")) {
    const unsigned workers = values["workers"].as<unsigned>();
    if (workers == 0 || workers > 256) return Unexpected{std::string("--workers must be 1 to 256")};
    parsed.overrides.workers = workers;
  }
  if (values.count("rdma-posting")) {
    const std::string text = values["rdma-posting"].as<std::string>();
    auto mode = rdma::parse_posting_mode(text);
    if (!mode)
      return Unexpected{"--rdma-posting must be auto, thread or inline, not '" + text + "'"};
    parsed.overrides.rdma_posting = *mode;
  }
  parsed.overrides.apply(parsed.config);
  if (parsed.config_path.empty() && !values.count("listen")) {
    if (auto portal = embedded_iser_portal()) parsed.config.listen.push_back(std::move(*portal));
  }
  return parsed;
}

}  // namespace isergw::gateway

// Delivers RDMA CM events from an Asio loop: waits for the event channel's fd
// to become readable, then hands over every pending event.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <functional>
#include <memory>

#include "rdma/cm_id.h"
#include "rdma/verbs_error.h"

namespace isergw::rdma {

class CmEventWatcher {
 public:
  using Handler = std::function<void(CmEvent&&)>;
  using ErrorHandler = std::function<void(const VerbsError&)>;

  // The channel must outlive the watcher, which never closes its fd. The
  // handler may destroy CM ids, but not the watcher itself.
  CmEventWatcher(boost::asio::io_context& io, EventChannel& channel, Handler on_event,
                 ErrorHandler on_error);
  ~CmEventWatcher();
  CmEventWatcher(const CmEventWatcher&) = delete;
  CmEventWatcher& operator=(const CmEventWatcher&) = delete;

  void start();
  void stop();

 private:
  void wait();

  boost::asio::posix::stream_descriptor descriptor_;
  EventChannel& channel_;
  Handler on_event_;
  ErrorHandler on_error_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  bool running_ = false;
};

}  // namespace isergw::rdma

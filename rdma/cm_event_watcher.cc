#include "rdma/cm_event_watcher.h"

namespace isergw::rdma {

CmEventWatcher::CmEventWatcher(boost::asio::io_context& io, EventChannel& channel, Handler on_event,
                               ErrorHandler on_error)
    : descriptor_(io, channel.fd()),
      channel_(channel),
      on_event_(std::move(on_event)),
      on_error_(std::move(on_error)) {}

CmEventWatcher::~CmEventWatcher() {
  *alive_ = false;
  descriptor_.release();
}

void CmEventWatcher::start() {
  if (running_) return;
  running_ = true;
  wait();
}

void CmEventWatcher::stop() {
  running_ = false;
  boost::system::error_code ignored;
  descriptor_.cancel(ignored);
}

void CmEventWatcher::wait() {
  descriptor_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                         [this, alive = std::weak_ptr<bool>(alive_)](boost::system::error_code ec) {
                           auto flag = alive.lock();
                           if (!flag || !*flag || ec || !running_) return;
                           for (;;) {
                             auto event = channel_.next();
                             if (!event) {
                               running_ = false;
                               if (on_error_) on_error_(event.error());
                               return;
                             }
                             if (!*event) break;
                             on_event_(std::move(**event));
                             if (!*flag || !running_) return;
                           }
                           wait();
                         });
}

}  // namespace isergw::rdma

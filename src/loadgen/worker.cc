// Worker: a thread's connections, connected and run on its own io_context.
#include "loadgen/worker.h"

#include "loadgen/connection.h"

namespace tempo::loadgen {

Worker::Worker(const LoadOptions& options, const boost::asio::ip::tcp::endpoint& endpoint,
               const std::vector<std::string>* requests, size_t first_request, int first, int count)
    : options_(options), first_(first) {
  state_.endpoint = endpoint;
  state_.timeout = options.timeout;
  state_.requests = requests;
  state_.next_request = first_request % requests->size();
  connections_.reserve(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) connections_.push_back(std::make_unique<Connection>(&state_));
}

Worker::~Worker() = default;

int Worker::Connect(std::string* error) {
  for (auto& connection : connections_) connection->Open();
  state_.io.run();
  state_.io.restart();
  int made = 0;
  for (auto& connection : connections_) {
    if (connection->open()) {
      ++made;
    } else if (error != nullptr && error->empty()) {
      *error = connection->open_error();
    }
  }
  return made;
}

void Worker::Run(Clock::time_point start, Clock::time_point measure_start, Clock::time_point end) {
  state_.measure_start = measure_start;
  state_.end = end;
  for (size_t i = 0; i < connections_.size(); ++i) {
    connections_[i]->Start(SendSchedule(start, options_.rate_per_s, options_.connections,
                                        first_ + static_cast<int>(i)));
  }
  state_.io.run();
}

}  // namespace tempo::loadgen

// DiscardBody: a Beast body type that reads an answer's body and keeps only its length, so
// that a load generator reading thousands of answers a second allocates nothing for them.
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/optional.hpp>
#include <boost/system/error_code.hpp>
#include <cstdint>

namespace tempo::loadgen {

struct DiscardBody {
  struct value_type {
    uint64_t bytes = 0;  // the body's length
  };

  // Beast's BodyReader: takes each piece of the body and drops it.
  class reader {
   public:
    template <bool kIsRequest, class Fields>
    reader(boost::beast::http::header<kIsRequest, Fields>&, value_type& body) : body_(body) {}

    void init(const boost::optional<uint64_t>&, boost::system::error_code& ec) {
      body_.bytes = 0;
      ec = {};
    }
    template <class ConstBufferSequence>
    size_t put(const ConstBufferSequence& buffers, boost::system::error_code& ec) {
      const size_t n = boost::asio::buffer_size(buffers);
      body_.bytes += n;
      ec = {};
      return n;
    }
    void finish(boost::system::error_code& ec) { ec = {}; }

   private:
    value_type& body_;
  };
};

}  // namespace tempo::loadgen

// Tests of Status: codes, messages and WithMessage.
#include "common/status.h"

#include <gtest/gtest.h>

namespace tempo {
namespace {

TEST(Status, WithMessageKeepsTheCode) {
  const Status s = Status::Unavailable("origin down");
  const Status wrapped = s.WithMessage("store: " + s.message());
  EXPECT_EQ(wrapped.code(), Status::Code::kUnavailable);
  EXPECT_EQ(wrapped.message(), "store: origin down");
  EXPECT_EQ(Status::Corruption("x").WithMessage("y").ToString(),
            Status::Corruption("y").ToString());
  EXPECT_EQ(Status::Internal("x").WithMessage("y").code(), Status::Code::kInternal);
}

TEST(Status, WithMessageLeavesOkAlone) {
  const Status ok = Status::OK().WithMessage("ignored");
  EXPECT_TRUE(ok.ok());
  EXPECT_EQ(ok.message(), "");
}

}  // namespace
}  // namespace tempo

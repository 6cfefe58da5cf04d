#include "gateway/write_batch.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace isergw::gateway {
namespace {

// Records when it is told to write, and whether it could join a batch then.
struct RecordingWriter : BatchedWriter {
  RecordingWriter(std::string name, std::vector<std::string>& log)
      : name(std::move(name)), log(log) {}
  void write_held() override {
    log.push_back(name);
    if (hold_again) could_hold_again = WriteBatch::is_open();
  }
  std::string name;
  std::vector<std::string>& log;
  bool hold_again = false;
  bool could_hold_again = true;
};

TEST(WriteBatchTest, IsOpenOnlyWhileABatchLives) {
  EXPECT_FALSE(WriteBatch::is_open());
  {
    WriteBatch batch;
    EXPECT_TRUE(WriteBatch::is_open());
  }
  EXPECT_FALSE(WriteBatch::is_open());
}

TEST(WriteBatchTest, WritersWriteWhenTheBatchEndsInTheOrderTheyHeld) {
  std::vector<std::string> log;
  {
    WriteBatch batch;
    ASSERT_TRUE(WriteBatch::is_open());
    WriteBatch::hold(std::make_shared<RecordingWriter>("b", log));
    WriteBatch::hold(std::make_shared<RecordingWriter>("a", log));
    EXPECT_TRUE(log.empty());
  }
  EXPECT_EQ(log, (std::vector<std::string>{"b", "a"}));
  // Ended means ended: the next writer is on its own again.
  EXPECT_FALSE(WriteBatch::is_open());
}

TEST(WriteBatchTest, AnInnerBatchLeavesTheWritesToTheOuterOne) {
  std::vector<std::string> log;
  {
    WriteBatch outer;
    {
      WriteBatch inner;
      ASSERT_TRUE(WriteBatch::is_open());
      WriteBatch::hold(std::make_shared<RecordingWriter>("a", log));
    }
    EXPECT_TRUE(log.empty());
  }
  EXPECT_EQ(log, (std::vector<std::string>{"a"}));
}

TEST(WriteBatchTest, AWriterCannotJoinABatchThatIsEnding) {
  std::vector<std::string> log;
  auto writer = std::make_shared<RecordingWriter>("a", log);
  writer->hold_again = true;
  {
    WriteBatch batch;
    WriteBatch::hold(writer);
  }
  EXPECT_FALSE(writer->could_hold_again);
  EXPECT_EQ(log, (std::vector<std::string>{"a"}));
}

}  // namespace
}  // namespace isergw::gateway

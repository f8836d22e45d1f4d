#include "l2/key.h"

#include <gtest/gtest.h>

#include <set>

namespace tempo::l2 {
namespace {

origin::SliceKey Slice(std::string tenant, std::string channel, std::string page_type,
                       std::string scope) {
  return origin::SliceKey{{std::move(tenant), std::move(channel), std::move(page_type)},
                          std::move(scope)};
}

TEST(L2KeyTest, Layout) {
  EXPECT_EQ(L2Key("gen7", 3, Slice("WM_GLASS", "web", "home", "*")),
            "tempo:gen7:3:WM_GLASS:web:home:*");
}

TEST(L2KeyTest, SeparatorsInsideComponentsDoNotCollide) {
  EXPECT_NE(L2Key("ns", 1, Slice("a:b", "c", "t", "*")),
            L2Key("ns", 1, Slice("a", "b:c", "t", "*")));
  EXPECT_EQ(L2Key("ns", 1, Slice("a:b", "c", "t", "*")), "tempo:ns:1:a%3Ab:c:t:*");
  EXPECT_NE(L2Key("a:1", 1, Slice("t", "c", "p", "*")), L2Key("a", 1, Slice("t", "c", "p", "*")));
  // An escape sequence written literally is escaped again.
  EXPECT_NE(L2Key("ns", 1, Slice("%3A", "c", "t", "*")), L2Key("ns", 1, Slice(":", "c", "t", "*")));
  EXPECT_NE(L2Key("ns", 1, Slice("", "c", "t", "*")), L2Key("ns", 1, Slice("c", "", "t", "*")));
}

TEST(L2KeyTest, EscapesSpacesControlAndNonAscii) {
  std::string key = L2Key("ns", 1, Slice("a b", std::string("\0\n", 2), "\xc3\xa9", "x%#"));
  EXPECT_EQ(key, "tempo:ns:1:a%20b:%00%0A:%C3%A9:x%25%23");
  for (char ch : key) {
    EXPECT_GT(static_cast<unsigned char>(ch), 0x20);
    EXPECT_LT(static_cast<unsigned char>(ch), 0x7f);
  }
}

TEST(L2KeyTest, LongKeysEndInAHashAndStayDistinct) {
  std::string long_scope(300, 'p');
  std::string a = L2Key("ns", 1, Slice("t", "c", "p", long_scope));
  std::string b = L2Key("ns", 1, Slice("t", "c", "p", long_scope + "q"));
  EXPECT_EQ(a.size(), kMaxKeyBytes);
  EXPECT_EQ(b.size(), kMaxKeyBytes);
  EXPECT_NE(a, b);
  EXPECT_EQ(a[kMaxKeyBytes - 17], '#');
  EXPECT_EQ(a, L2Key("ns", 1, Slice("t", "c", "p", long_scope)));  // deterministic
  // A component of escapes (3 bytes each) crosses the limit sooner.
  std::string escaped = L2Key("ns", 1, Slice("t", "c", "p", std::string(100, ' ')));
  EXPECT_EQ(escaped.size(), kMaxKeyBytes);

  // Right at the limit the key is kept whole.
  std::string prefix = "tempo:ns:1:t:c:p:";
  std::string exact = L2Key("ns", 1, Slice("t", "c", "p", std::string(250 - prefix.size(), 'x')));
  EXPECT_EQ(exact.size(), kMaxKeyBytes);
  EXPECT_EQ(exact.find('#'), std::string::npos);
}

TEST(L2KeyTest, ManyDistinctSlicesGiveDistinctKeys) {
  std::set<std::string> keys;
  const std::string parts[] = {"", "a", "b", ":", "a:b", "%", "%3A", " ", "#"};
  int slices = 0;
  for (const auto& t : parts) {
    for (const auto& c : parts) {
      for (const auto& s : parts) {
        keys.insert(L2Key("ns", 1, Slice(t, c, "p", s)));
        ++slices;
      }
    }
  }
  EXPECT_EQ(keys.size(), static_cast<size_t>(slices));
}

}  // namespace
}  // namespace tempo::l2

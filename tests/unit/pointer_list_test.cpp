#include "gateway/hub/pointer_list.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace chatgate {
namespace {

std::vector<int*> items(const pointer_list<int>& l) { return {l.begin(), l.end()}; }

TEST(pointer_list, one_pointer_is_kept_inline) {
  int a = 0;
  pointer_list<int> l;
  EXPECT_TRUE(l.empty());
  l.push_back(&a);
  EXPECT_EQ(l.size(), 1u);
  EXPECT_EQ(l.front(), &a);
  EXPECT_EQ(l.back(), &a);
  // 16 bytes in the client record, no block of its own.
  EXPECT_EQ(sizeof(l), 16u);
}

TEST(pointer_list, grows_and_shrinks_keeping_the_order) {
  int v[10] = {};
  pointer_list<int> l;
  for (int& x : v) l.push_back(&x);
  ASSERT_EQ(l.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(l.begin()[i], &v[i]);
  l.erase(std::find(l.begin(), l.end(), &v[3]));
  EXPECT_EQ(l.size(), 9u);
  EXPECT_EQ(l.begin()[3], &v[4]);
  EXPECT_EQ(l.back(), &v[9]);
  while (l.size() > 1) l.erase(l.end() - 1);  // back to one: inline again
  EXPECT_EQ(items(l), std::vector<int*>{&v[0]});
  l.push_back(&v[5]);
  EXPECT_EQ(items(l), (std::vector<int*>{&v[0], &v[5]}));
  l.erase(l.begin());
  l.erase(l.begin());
  EXPECT_TRUE(l.empty());
}

}  // namespace
}  // namespace chatgate

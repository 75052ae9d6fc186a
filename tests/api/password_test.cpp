#include <gtest/gtest.h>

#include "api/auth/password.hpp"

using namespace hotline::auth;

TEST(Password, HashVerifiesOnlyTheRightPassword) {
  auto h = hash_password("correct horse battery", 1000);
  EXPECT_TRUE(h.rfind("pbkdf2-sha256$1000$", 0) == 0) << h;
  EXPECT_TRUE(verify_password("correct horse battery", h));
  EXPECT_FALSE(verify_password("correct horse batterY", h));
  EXPECT_FALSE(verify_password("", h));
}

TEST(Password, SaltMakesEveryHashDifferent) {
  EXPECT_NE(hash_password("same", 1000), hash_password("same", 1000));
}

TEST(Password, MalformedStoredHashesNeverVerify) {
  for (const char* bad : {"", "pbkdf2-sha256", "pbkdf2-sha256$x$AAAA$AAAA", "md5$1000$AAAA$AAAA",
                          "pbkdf2-sha256$1000$!!!!$AAAA", "pbkdf2-sha256$0$AAAA$AAAA"})
    EXPECT_FALSE(verify_password("x", bad)) << bad;
}

TEST(Password, RehashWhenIterationsRise) {
  auto h = hash_password("pw", 1000);
  EXPECT_FALSE(needs_rehash(h, 1000));
  EXPECT_TRUE(needs_rehash(h, 600000));
}

TEST(Password, DefaultCostIsAtLeastOwaspMinimum) {
  // The embedded default: PBKDF2-SHA256 with >= 600k iterations (issue: foundation).
  auto h = hash_password("pw", 600000);
  EXPECT_TRUE(h.rfind("pbkdf2-sha256$600000$", 0) == 0);
  EXPECT_TRUE(verify_password("pw", h));
}

TEST(Password, TokensAreUrlSafeAndDistinct) {
  auto a = random_token(32), b = random_token(32);
  EXPECT_EQ(a.size(), 43u);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.find_first_of("+/="), std::string::npos);
  EXPECT_EQ(sha256("abc").size(), 32u);
}

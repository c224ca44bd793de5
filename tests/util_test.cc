// Copyright 2026 The runnel Authors.
//
// util/: the one home of the small helpers every layer uses.

#include <gtest/gtest.h>
#include <leveldb/env.h>

#include <set>
#include <string>

#include "cdc/env_util.h"
#include "runnel/db.h"
#include "tests/testutil.h"
#include "util/clock.h"
#include "util/encoding.h"
#include "util/numbers.h"
#include "util/random.h"
#include "util/time.h"
#include "util/utf8.h"

namespace runnel {
namespace {

// --- clock -----------------------------------------------------------------

// A clock that stands still at a time the test chooses.
class FixedClockEnv : public leveldb::EnvWrapper {
 public:
  explicit FixedClockEnv(uint64_t micros)
      : leveldb::EnvWrapper(leveldb::Env::Default()), micros_(micros) {}
  uint64_t NowMicros() override { return micros_; }

 private:
  uint64_t micros_;
};

TEST(Clock, ReadsTheEnvsClock) {
  FixedClockEnv env(1234567890123456);
  EXPECT_EQ(NowMicros(&env), 1234567890123456);
  const int64_t real = NowMicros(leveldb::Env::Default());
  EXPECT_GT(real, 1767225600000000);  // after 2026-01-01: the wall clock, not uptime
}

TEST(Clock, TheDbTakesItsTimeFromOptionsEnv) {
  test::TempDir dir;
  FixedClockEnv env(1700000000123456);  // 2023-11-14T22:13:20.123456Z
  LevelDBEnvAdapter env_handle(&env);
  Options options;
  options.env = &env_handle;
  std::unique_ptr<DB> db;
  ASSERT_OK(DB::Open(options, dir.Sub("db"), &db));
  ASSERT_OK(db->CreateTable("clock", test::Stream(StreamViewType::kNewImage)));
  TableDescription d;
  ASSERT_OK(db->DescribeTable("clock", &d));
  EXPECT_EQ(d.creation_time_micros, 1700000000123456);
  EXPECT_EQ(d.latest_stream_label, "2023-11-14T22:13:20.123");
  ASSERT_OK(db->Close());
}

// --- UTF-8 -----------------------------------------------------------------

TEST(Utf8, AcceptsWellFormedText) {
  EXPECT_TRUE(ValidUtf8(""));
  EXPECT_TRUE(ValidUtf8("plain ascii"));
  EXPECT_TRUE(ValidUtf8(std::string("nul\0inside", 10)));
  EXPECT_TRUE(ValidUtf8("\xC2\x80"));          // U+0080, the first 2-byte form
  EXPECT_TRUE(ValidUtf8("\xDF\xBF"));          // U+07FF
  EXPECT_TRUE(ValidUtf8("\xE0\xA0\x80"));      // U+0800, the first 3-byte form
  EXPECT_TRUE(ValidUtf8("\xED\x9F\xBF"));      // U+D7FF, just below the surrogates
  EXPECT_TRUE(ValidUtf8("\xEE\x80\x80"));      // U+E000, just above them
  EXPECT_TRUE(ValidUtf8("\xEF\xBF\xBD"));      // U+FFFD
  EXPECT_TRUE(ValidUtf8("\xF0\x90\x80\x80"));  // U+10000, the first 4-byte form
  EXPECT_TRUE(ValidUtf8("\xF4\x8F\xBF\xBF"));  // U+10FFFF, the last code point
  EXPECT_TRUE(
      ValidUtf8("Gr\xC3\xBC\xC3\x9F"
                "e \xF0\x9F\x8E\xB5"));
}

TEST(Utf8, RejectsMalformedBytes) {
  EXPECT_FALSE(ValidUtf8("\x80"));  // a continuation byte first
  EXPECT_FALSE(ValidUtf8("\xBF"));
  EXPECT_FALSE(ValidUtf8("\xC0\x80"));          // overlong NUL
  EXPECT_FALSE(ValidUtf8("\xC1\xBF"));          // overlong U+007F
  EXPECT_FALSE(ValidUtf8("\xE0\x9F\xBF"));      // overlong U+07FF
  EXPECT_FALSE(ValidUtf8("\xF0\x8F\xBF\xBF"));  // overlong U+FFFF
  EXPECT_FALSE(ValidUtf8("\xED\xA0\x80"));      // U+D800, a surrogate
  EXPECT_FALSE(ValidUtf8("\xED\xBF\xBF"));      // U+DFFF
  EXPECT_FALSE(ValidUtf8("\xF4\x90\x80\x80"));  // U+110000, past the last
  EXPECT_FALSE(ValidUtf8("\xF5\x80\x80\x80"));
  EXPECT_FALSE(ValidUtf8("\xF8\x88\x80\x80\x80"));  // 5-byte forms are gone
  EXPECT_FALSE(ValidUtf8("\xFF"));
  EXPECT_FALSE(ValidUtf8("\xC3"));  // cut short at the end
  EXPECT_FALSE(ValidUtf8("ok\xE2\x82"));
  EXPECT_FALSE(ValidUtf8("\xF0\x9F\x8E"));
  EXPECT_FALSE(ValidUtf8("\xC3(x"));  // continuation missing in the middle
  EXPECT_FALSE(ValidUtf8("\xE2\x28\xA1"));
}

// --- base64 and hex --------------------------------------------------------

TEST(Encoding, Base64RoundTripsEveryLength) {
  std::string bytes;
  for (int n = 0; n < 70; ++n) {
    std::string back = "stale";
    ASSERT_TRUE(DecodeBase64(EncodeBase64(bytes), &back)) << n;
    EXPECT_EQ(back, bytes);
    bytes.push_back(static_cast<char>(n * 37 + 200));
  }
  EXPECT_EQ(EncodeBase64(""), "");
  EXPECT_EQ(EncodeBase64("f"), "Zg==");
  EXPECT_EQ(EncodeBase64("fo"), "Zm8=");
  EXPECT_EQ(EncodeBase64("foobar"), "Zm9vYmFy");
  EXPECT_EQ(EncodeBase64("\xFF\xFE"), "//4=");
}

TEST(Encoding, Base64RejectsGarbageAndLeavesTheOutputAlone) {
  std::string out = "unchanged";
  EXPECT_FALSE(DecodeBase64("not base64!", &out));
  EXPECT_FALSE(DecodeBase64("Zm9v*mFy", &out));
  EXPECT_FALSE(DecodeBase64("Zg=x", &out));
  EXPECT_EQ(out, "unchanged");
}

TEST(Encoding, HexRoundTripsAndRejects) {
  EXPECT_EQ(EncodeHex(std::string("\x00\x01\xAB\xFF", 4)), "0001abff");
  std::string out;
  ASSERT_TRUE(DecodeHex("0001abff", &out));
  EXPECT_EQ(out, std::string("\x00\x01\xAB\xFF", 4));
  ASSERT_TRUE(DecodeHex("ABFF", &out));  // hex is case-insensitive
  EXPECT_EQ(out, "\xAB\xFF");
  ASSERT_TRUE(DecodeHex("", &out));
  EXPECT_EQ(out, "");
  out = "unchanged";
  EXPECT_FALSE(DecodeHex("abc", &out));  // odd length
  EXPECT_FALSE(DecodeHex("zz", &out));
  EXPECT_FALSE(DecodeHex("0x12", &out));
  EXPECT_FALSE(DecodeHex("12 4", &out));
  EXPECT_EQ(out, "unchanged");
  EXPECT_EQ(HexU64(0), "0000000000000000");
  EXPECT_EQ(HexU64(0x0123456789abcdefull), "0123456789abcdef");
  EXPECT_EQ(HexU64(~0ull), "ffffffffffffffff");
}

// --- ISO-8601 time ---------------------------------------------------------

TEST(Time, FormatsTheThreeShapes) {
  const int64_t t = 1764258466123456;  // 2025-11-27T15:47:46.123456Z
  EXPECT_EQ(IsoMicros(t), "2025-11-27T15:47:46.123456Z");
  EXPECT_EQ(IsoTime(t), "2025-11-27T15:47:46.123456+00:00");
  EXPECT_EQ(IsoMillis(t), "2025-11-27T15:47:46.123");
  EXPECT_EQ(IsoMicros(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(IsoMicros(-1), "1969-12-31T23:59:59.999999Z");  // no negative fraction
}

TEST(Time, ParsesWhatItFormats) {
  for (int64_t t : {int64_t{0}, int64_t{1}, int64_t{951782400000000} /* 2000-02-29 */,
                    int64_t{1764258466123456}, int64_t{4102444799999999}, int64_t{-1}}) {
    int64_t back = 42;
    ASSERT_TRUE(ParseIsoTime(IsoMicros(t), &back)) << IsoMicros(t);
    EXPECT_EQ(back, t);
    ASSERT_TRUE(ParseIsoTime(IsoTime(t), &back)) << IsoTime(t);
    EXPECT_EQ(back, t);
  }
}

TEST(Time, ParsesTheAcceptedVariants) {
  int64_t t = 0;
  ASSERT_TRUE(ParseIsoTime("2026-11-27T15:00:00Z", &t));
  EXPECT_EQ(t, 1795791600000000);
  ASSERT_TRUE(ParseIsoTime("2026-11-27T15:00:00", &t));
  EXPECT_EQ(t, 1795791600000000);
  ASSERT_TRUE(ParseIsoTime("2026-11-27T15:00:00.5+00:00", &t));
  EXPECT_EQ(t, 1795791600500000);
  ASSERT_TRUE(ParseIsoTime("2026-11-27T15:00:00.1234567Z", &t));  // past micros: dropped
  EXPECT_EQ(t, 1795791600123456);
  ASSERT_TRUE(ParseIsoTime("2026-1-2T3:4:5", &t));  // strptime's short fields
  EXPECT_EQ(t, 1767323045000000);
  ASSERT_TRUE(ParseIsoTime("2024-02-29T00:00:00Z", &t));  // a leap day
}

TEST(Time, RejectsWhatIsNotATime) {
  int64_t t = 7;
  for (const char* bad :
       {"", "2026", "2026-11-27", "2026-11-27 15:00:00", "2026-11-27T15:00", "2026-13-01T00:00:00",
        "2026-00-01T00:00:00", "2026-02-30T00:00:00", "2025-02-29T00:00:00", "2026-11-27T24:00:00",
        "2026-11-27T15:60:00", "2026-11-27T15:00:61", "2026-11-27T15:00:00.",
        "2026-11-27T15:00:00+01:00", "2026-11-27T15:00:00Zjunk", "2026-11-27T15:00:00 ",
        " 2026-11-27T15:00:00", "20266-11-27T15:00:00", "2026-11-27T15:00:00.12a"}) {
    EXPECT_FALSE(ParseIsoTime(bad, &t)) << bad;
  }
  EXPECT_EQ(t, 7);
}

// --- numbers ---------------------------------------------------------------

TEST(Numbers, ParsesDecimals) {
  uint64_t v = 1;
  ASSERT_TRUE(ParseUint64("0", &v));
  EXPECT_EQ(v, 0u);
  ASSERT_TRUE(ParseUint64("42", &v));
  EXPECT_EQ(v, 42u);
  ASSERT_TRUE(ParseUint64("007", &v));
  EXPECT_EQ(v, 7u);
  ASSERT_TRUE(ParseUint64("18446744073709551615", &v));
  EXPECT_EQ(v, UINT64_MAX);
}

TEST(Numbers, GarbageIsAnErrorNotZero) {
  // strtoull made "abc" 0, "12abc" 12 and "-1" UINT64_MAX: all errors now.
  uint64_t v = 99;
  for (const char* bad : {"", "abc", "12abc", "-1", "+1", " 1", "1 ", "1.5", "1e3", "0x10",
                          "18446744073709551616", "99999999999999999999999"}) {
    EXPECT_FALSE(ParseUint64(bad, &v)) << bad;
  }
  EXPECT_EQ(v, 99u);
}

// --- random identifiers ----------------------------------------------------

TEST(Random, FillsAnyLengthAndDiffers) {
  std::string a(1000, '\0'), b(1000, '\0');  // over getrandom's 256-byte atomic size
  RandomBytes(a.data(), a.size());
  RandomBytes(b.data(), b.size());
  EXPECT_NE(a, b);
  EXPECT_NE(a, std::string(1000, '\0'));
  EXPECT_NE(RandomU64(), RandomU64());
  RandomBytes(nullptr, 0);  // nothing asked, nothing done
}

TEST(Random, UuidsAreVersion4AndUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string u = NewUuid();
    ASSERT_EQ(u.size(), 36u) << u;
    for (size_t k = 0; k < u.size(); ++k) {
      if (k == 8 || k == 13 || k == 18 || k == 23) {
        ASSERT_EQ(u[k], '-') << u;
      } else {
        ASSERT_TRUE((u[k] >= '0' && u[k] <= '9') || (u[k] >= 'a' && u[k] <= 'f')) << u;
      }
    }
    EXPECT_EQ(u[14], '4') << u;
    EXPECT_NE(std::string("89ab").find(u[19]), std::string::npos) << u;
    EXPECT_TRUE(seen.insert(u).second) << u;
  }
}

}  // namespace
}  // namespace runnel

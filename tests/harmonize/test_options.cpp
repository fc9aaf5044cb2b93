// The typed sampling options and end noise (harmonize/options.hpp).
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "harmonize/options.hpp"

using namespace harmonize;

TEST(EndNoise, ParsesPrintsAndResolves) {
  EXPECT_EQ(EndNoise::parse("none").kind, EndNoise::Kind::None);
  EXPECT_EQ(EndNoise::parse("auto").kind, EndNoise::Kind::Auto);
  const EndNoise e = EndNoise::parse("0.02");
  EXPECT_EQ(e.kind, EndNoise::Kind::Sd);
  EXPECT_DOUBLE_EQ(e.sd, 0.02);
  for (const char* s : {"none", "auto", "0.02", "0", "0.125"})
    EXPECT_EQ(EndNoise::parse(EndNoise::parse(s).to_string()), EndNoise::parse(s)) << s;
  EXPECT_EQ(e.to_string(), "0.02");
  for (const char* bad : {"", "0.5", "-0.1", "0.02x", "nan", "loud"})
    EXPECT_THROW(EndNoise::parse(bad), UsageError) << bad;
  EXPECT_THROW(EndNoise::of(0.7), UsageError);
  EXPECT_DOUBLE_EQ(EndNoise{}.resolve(0.04, "m.pt"), 0.0);
  EXPECT_DOUBLE_EQ(EndNoise::parse("auto").resolve(0.04, "m.pt"), 0.04);
  EXPECT_DOUBLE_EQ(e.resolve(0.04, "m.pt"), 0.02);
  try {
    EndNoise::parse("auto").resolve(-1, "old.pt");
    FAIL() << "a model without a recorded level must be refused";
  } catch (const InputError& err) {
    EXPECT_NE(std::string(err.what()).find("old.pt"), std::string::npos);
  }
}

TEST(SamplingOptions, JsonRoundTripAndValidation) {
  SamplingOptions s;
  s.sampler = Sampler::Ddim;
  s.steps = 8;
  s.eta = 0.5;
  s.spacing = StepSpacing::Quadratic;
  s.batch = 16;
  const nlohmann::json j = s;
  EXPECT_EQ(j.at("sampler"), "ddim");
  EXPECT_EQ(j.at("step_spacing"), "quadratic");
  EXPECT_EQ(j.get<SamplingOptions>(), s);
  EXPECT_NO_THROW(s.validate(1000));
  s.steps = 1001;
  EXPECT_THROW(s.validate(1000), UsageError);
  s.steps = 8;
  s.batch = 0;
  EXPECT_THROW(s.validate(1000), UsageError);
  EXPECT_THROW(sampler_from_string("euler"), UsageError);
  EXPECT_THROW(step_spacing_from_string("log"), UsageError);
  EXPECT_THROW(nlohmann::json({{"sampler", "ddim"}}).get<SamplingOptions>(), Error);
}

TEST(SamplingOptions, TimestepsGivenOneByOne) {
  SamplingOptions s;
  s.sampler = Sampler::Ddim;
  EXPECT_FALSE(nlohmann::json(s).contains("timesteps"));  // files of before keep their shape
  EXPECT_EQ(s.spacing_text(), "uniform spacing");
  s.timesteps = {8, 999};
  s.steps = 2;
  EXPECT_NO_THROW(s.validate(1000));
  EXPECT_EQ(s.spacing_text(), "timesteps 8,999");
  const nlohmann::json j = s;
  EXPECT_EQ(j.at("timesteps"), nlohmann::json({8, 999}));
  EXPECT_EQ(j.get<SamplingOptions>(), s);
  s.steps = 3;  // a count that disagrees with the list
  EXPECT_THROW(s.validate(1000), UsageError);
  s.steps = 2;
  EXPECT_THROW(s.validate(999), UsageError);  // 999 is past a 999-step model's last timestep
  s.timesteps = {999, 8};                     // not ascending
  EXPECT_THROW(s.validate(1000), UsageError);
  s.timesteps = {-1, 999};
  EXPECT_THROW(s.validate(1000), UsageError);
  s.timesteps = {8, 8};
  EXPECT_THROW(s.validate(1000), UsageError);
}

// The start noise: absent from the JSON at its default (files of before keep
// their shape and read as slice), kept when volume, refused when unknown.
TEST(SamplingOptions, StartNoiseRoundTrip) {
  SamplingOptions s;
  EXPECT_FALSE(nlohmann::json(s).contains("start_noise"));
  EXPECT_EQ(nlohmann::json(s).get<SamplingOptions>().start_noise, StartNoise::Slice);
  s.start_noise = StartNoise::Volume;
  const nlohmann::json j = s;
  EXPECT_EQ(j.at("start_noise"), "volume");
  EXPECT_EQ(j.get<SamplingOptions>(), s);
  EXPECT_EQ(start_noise_from_string("slice"), StartNoise::Slice);
  EXPECT_THROW(start_noise_from_string("3d"), UsageError);
  nlohmann::json bad = j;
  bad["start_noise"] = "3d";
  EXPECT_THROW(bad.get<SamplingOptions>(), UsageError);
}

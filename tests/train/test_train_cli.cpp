// harmonize train end to end on the tiny network (no LibTorch in this file).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli/run_cli.hpp"
#include "core/files.hpp"
#include "model/checkpoint.hpp"
#include "synthetic_data.hpp"

using namespace harmonize;
namespace fs = std::filesystem;

namespace {

using Result = harmonize::test::CliResult;
Result run(const std::string& args) { return harmonize::test::run_cli(args); }

std::size_t count_lines(const std::string& text) { return std::count(text.begin(), text.end(), '\n'); }

}  // namespace

TEST(TrainCli, TrainsResumesAndRefusesAnExistingRun) {
  const auto dir = fs::temp_directory_path() / ("harmonize_train_cli_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const std::string data = test::make_synthetic_data((dir / "data").string(), {3, 4, 16, 3});
  const std::string out = (dir / "run").string();
  const std::string common = " --preset tiny --batch 2 --log-every 1 --validate-every 3 --threads 1 --quiet";

  const Result help = run("train --help");
  EXPECT_EQ(help.status, 0);
  for (const char* opt : {"--direction", "--out", "--resume", "--preset", "--lr", "--batch", "--ema", "--max-steps",
                          "--max-minutes", "--save-every", "--val-fraction", "--flip", "--device", "--seed"})
    EXPECT_NE(help.output.find(opt), std::string::npos) << opt;

  // More sampling steps than the model's chain: refused before the run folder exists.
  Result r = run("train " + data + " --direction 1p5T-to-3T --out " + out + " --max-steps 6 --steps 5000" + common);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("sampling steps must be in 1..1000"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(out));

  r = run("train " + data + " --direction 1p5T-to-3T --out " + out +
          " --max-steps 6 --save-every 3 --seed 5 --sampler ddim --steps 4 --end-noise auto" + common);
  ASSERT_EQ(r.status, 0) << r.output;
  for (const char* f : {"config.json", "train_log.csv", "checkpoints/last.pt", "checkpoints/previous.pt", "model.pt",
                        "harmonize_train.json", "harmonize_train.log"})
    EXPECT_TRUE(fs::exists(out + "/" + f)) << f;
  EXPECT_EQ(count_lines(read_text_file(out + "/train_log.csv")), 7u);
  auto config = nlohmann::json::parse(read_text_file(out + "/config.json"));
  EXPECT_EQ(config["direction"], "1p5T-to-3T");
  EXPECT_EQ(config["preset"], "tiny");
  EXPECT_EQ(config["seed"], 5);
  EXPECT_EQ(config["lr"], 1e-4);
  EXPECT_EQ(config["ema_rate"], 0.9999);
  EXPECT_EQ(config["diffusion"]["loss"], "hybrid");
  const auto record = nlohmann::json::parse(read_text_file(out + "/harmonize_train.json"));
  EXPECT_EQ(record["status"], "complete");
  EXPECT_EQ(record["steps"]["last"], 6);
  // The model carries its recipe: the sampler given here, the end noise
  // resolved to the noise level measured on the training targets.
  const ModelHeader header = read_model_header(out + "/model.pt");
  ASSERT_TRUE(header.recipe.is_object());
  EXPECT_EQ(header.recipe, config["recipe"]);
  EXPECT_EQ(header.recipe["sampling"]["sampler"], "ddim");
  EXPECT_EQ(header.recipe["sampling"]["steps"], 4);
  EXPECT_EQ(header.recipe["seed"], 5);
  EXPECT_GT(header.target_noise_sd, 0.0);
  EXPECT_DOUBLE_EQ(header.recipe["end_noise_sd"].get<double>(), header.target_noise_sd);
  EXPECT_NE(header.recipe["made_by"].get<std::string>().find(out), std::string::npos);

  r = run("train --resume " + out + " --max-steps 9 --threads 1 --quiet");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(count_lines(read_text_file(out + "/train_log.csv")), 10u);
  config = nlohmann::json::parse(read_text_file(out + "/config.json"));
  EXPECT_EQ(config["max_steps"], 9);
  EXPECT_EQ(read_model_header(out + "/model.pt").recipe, header.recipe);  // a resumed run keeps it
  EXPECT_TRUE(fs::exists(out + "/harmonize_train_resume-step6.json"));

  r = run("train " + data + " --direction 1p5T-to-3T --out " + out + " --max-steps 2" + common);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("already exists"), std::string::npos) << r.output;
  r = run("train --resume " + out + " --lr 0.1 --max-steps 12");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("--lr"), std::string::npos) << r.output;
  r = run("train --resume " + out + " --steps 8 --max-steps 12");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("--steps"), std::string::npos) << r.output;
  r = run("train " + data + " --direction 3T-to-7T --out " + (dir / "bad").string() + common);
  EXPECT_NE(r.status, 0);
  EXPECT_FALSE(fs::exists(dir / "bad"));
  r = run("train " + (dir / "nodata").string() + " --direction 1p5T-to-3T --out " + (dir / "bad").string() + common);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("dataset.json"), std::string::npos) << r.output;
  fs::remove_all(dir);
}

// harmonize train end to end on the tiny network (no LibTorch in this file).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

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
                          "--max-minutes", "--save-every", "--val-fraction", "--flip", "--device", "--seed",
                          "--loss-norm", "--spread", "--context-slices", "--histogram-loss"})
    EXPECT_NE(help.output.find(opt), std::string::npos) << opt;

  // A spread on a model that predicts eps: refused before the run folder exists.
  Result bad_spread =
      run("train " + data + " --direction 1p5T-to-3T --out " + out + " --max-steps 6 --spread gaussian" + common);
  EXPECT_NE(bad_spread.status, 0);
  EXPECT_NE(bad_spread.output.find("spread gaussian needs prediction x0"), std::string::npos) << bad_spread.output;
  EXPECT_FALSE(fs::exists(out));

  // A negative histogram weight: refused, naming the option.
  Result bad_weight =
      run("train " + data + " --direction 1p5T-to-3T --out " + out + " --max-steps 6 --histogram-loss -1" + common);
  EXPECT_NE(bad_weight.status, 0);
  EXPECT_NE(bad_weight.output.find("--histogram-loss"), std::string::npos) << bad_weight.output;
  EXPECT_FALSE(fs::exists(out));

  // More sampling steps than the model's chain: refused before the run folder exists.
  Result r = run("train " + data + " --direction 1p5T-to-3T --out " + out + " --max-steps 6 --steps 5000" + common);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("sampling steps must be in 1..1000"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(out));

  r = run("train " + data + " --direction 1p5T-to-3T --out " + out +
          " --max-steps 6 --save-every 3 --seed 5 --sampler ddim --steps 4 --end-noise auto --loss-norm l1"
          " --histogram-loss 1.5" +
          common);
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
  EXPECT_EQ(config["diffusion"]["loss_norm"], "l1");
  EXPECT_EQ(config["diffusion"]["histogram_weight"], 1.5);
  const auto record = nlohmann::json::parse(read_text_file(out + "/harmonize_train.json"));
  EXPECT_EQ(record["status"], "complete");
  EXPECT_EQ(record["steps"]["last"], 6);
  // The model carries its recipe: the sampler given here, the end noise
  // resolved to the noise level measured on the training targets.
  const ModelHeader header = read_model_header(out + "/model.pt");
  ASSERT_TRUE(header.recipe.is_object());
  EXPECT_EQ(header.recipe, config["recipe"]);
  EXPECT_EQ(header.diffusion.loss_norm, "l1");
  EXPECT_EQ(header.diffusion.histogram_weight, 1.5);
  EXPECT_EQ(header.diffusion.spread, "none");
  EXPECT_EQ(header.unet.out_channels, 2);
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

// The baselines' runs (issue 17) survive a kill like the diffusion model's: a
// `train` process killed (SIGKILL) after its first checkpoint, then `train
// --resume`, ends with the training log and the weights of a run that was
// never killed. For the gan objective that needs the discriminator and its
// optimizer restored too.
TEST(TrainCli, KilledBaselineRunsResumeExactly) {
  const auto dir = fs::temp_directory_path() / ("harmonize_train_kill_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const std::string data = test::make_synthetic_data((dir / "data").string(), {3, 4, 16, 3});
  for (const std::string objective : {"regression", "gan"}) {
    const std::string straight = (dir / (objective + "_straight")).string();
    const std::string killed = (dir / (objective + "_killed")).string();
    const std::string args = " --direction 1p5T-to-3T --objective " + objective +
                             " --preset tiny --batch 2 --lr 1e-3 --discriminator-channels 8 --max-steps 400 "
                             "--save-every 20 --log-every 1 --validate-every 0 --threads 1 --quiet";
    Result r = run("train " + data + " --out " + straight + args);
    ASSERT_EQ(r.status, 0) << r.output;

    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      const std::string cmd =
          "exec " + std::string(HARMONIZE_BINARY) + " train " + data + " --out " + killed + args + " > /dev/null 2>&1";
      ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    // Killed as soon as its first checkpoint is there (or after 60 s).
    for (int i = 0; i < 6000 && !fs::exists(killed + "/checkpoints/last.pt"); ++i) ::usleep(10000);
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << objective << ": the run ended before it was killed";
    ASSERT_FALSE(fs::exists(killed + "/model.pt")) << objective;

    r = run("train --resume " + killed + " --threads 1 --quiet");
    ASSERT_EQ(r.status, 0) << r.output;
    auto without_seconds = [](const std::string& path) {
      std::vector<std::string> rows;
      std::istringstream in(read_text_file(path));
      for (std::string line; std::getline(in, line);) {
        // step,loss,mse,vb,seconds,...: drop the seconds (5th field)
        std::size_t p = 0;
        for (int k = 0; k < 4 && p != std::string::npos; ++k) p = line.find(',', p + 1);
        const std::size_t q = p == std::string::npos ? p : line.find(',', p + 1);
        rows.push_back(p == std::string::npos || q == std::string::npos ? line : line.substr(0, p) + line.substr(q));
      }
      return rows;
    };
    const auto a = without_seconds(straight + "/train_log.csv"), b = without_seconds(killed + "/train_log.csv");
    EXPECT_EQ(a.size(), 401u) << objective;
    EXPECT_EQ(a, b) << objective;
    const ModelHeader ha = read_model_header(straight + "/model.pt"), hb = read_model_header(killed + "/model.pt");
    EXPECT_EQ(hb.step, 400) << objective;
    EXPECT_EQ(ha.weights_crc32, hb.weights_crc32) << objective << ": the resumed weights differ";
    EXPECT_EQ(hb.objective, objective);
    if (objective == "gan") {
      EXPECT_EQ(read_model_header(straight + "/checkpoints/last.pt").weights_crc32.at("discriminator"),
                read_model_header(killed + "/checkpoints/last.pt").weights_crc32.at("discriminator"));
    }
  }
  fs::remove_all(dir);
}

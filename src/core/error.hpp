#pragma once
// One error path: library code throws these; the CLI catches them once in main,
// prints the message and returns a non-zero exit status.
#include <stdexcept>
#include <string>

namespace harmonize {

// Base of every error harmonize reports to a user.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A file a user gave is missing, unreadable, malformed or unsuitable.
// The message always starts with the file name.
class InputError : public Error {
 public:
  InputError(const std::string& path, const std::string& problem) : Error(path + ": " + problem), path_(path) {}
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// An output could not be written.
class OutputError : public Error {
 public:
  OutputError(const std::string& path, const std::string& problem) : Error(path + ": " + problem) {}
};

// Invalid option values or combinations.
class UsageError : public Error {
 public:
  using Error::Error;
};

}  // namespace harmonize

#pragma once

#include <string>
#include <utility>
#include <variant>

namespace lbg {

// An error that can point at a place in a text input (policy file, catalogue, request).
// line and column are 1-based; 0 means "not tied to a position".
struct Error {
  std::string message;
  std::string file;
  int line = 0;
  int column = 0;

  // "file:line:column: message" (parts that are unknown are left out).
  std::string toString() const {
    std::string out;
    if (!file.empty()) out += file + ":";
    if (line > 0) out += std::to_string(line) + ":" + std::to_string(column) + ":";
    if (!out.empty()) out += " ";
    return out + message;
  }
};

// Minimal std::expected stand-in (C++20): create() functions return it instead of throwing
// across module edges.
template <class T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error error) : v_(std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// For operations that succeed with no value.
struct Ok {};

}  // namespace lbg

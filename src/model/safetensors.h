#pragma once
// Reading and writing the safetensors format: u64 header length, JSON header
// {name: {dtype, shape, data_offsets}, "__metadata__": {..}}, then raw little-endian data.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace nmt::model {

// Bytes per element of a safetensors dtype ("F32" 4, "BF16" 2, "BOOL" 1, ...); 0 when unknown.
std::size_t dtype_size(const std::string& dtype);

struct TensorView {
  std::string dtype;  // "F32", "I32", ...
  std::vector<std::int64_t> shape;
  std::size_t begin = 0, end = 0;  // byte range in the data section
};

class SafeTensors {
 public:
  // Loads and validates a whole file; every problem is an nmt::Error naming the file.
  static SafeTensors load(const std::string& path);
  bool has(const std::string& name) const { return tensors_.count(name) != 0; }
  const TensorView& info(const std::string& name) const;
  // Throws unless tensor `name` exists with dtype F32 and the expected shape.
  void check_f32(const std::string& name, const std::vector<std::int64_t>& shape) const;
  // Copies tensor `name` into out, checking dtype F32 and the expected shape.
  void read_f32(const std::string& name, const std::vector<std::int64_t>& shape, float* out) const;
  std::vector<float> f32(const std::string& name) const;
  std::vector<std::int32_t> i32(const std::string& name) const;
  const std::map<std::string, TensorView>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::vector<char> data_;
  std::map<std::string, TensorView> tensors_;
  std::map<std::string, std::string> metadata_;
};

struct TensorOut {
  std::string name;
  std::string dtype;  // "F32" or "I32"
  std::vector<std::int64_t> shape;
  const void* data;
};

// Writes atomically (PATH.tmp, fsync, rename): a crash never leaves a half-written PATH.
void save_safetensors(const std::string& path, const std::vector<TensorOut>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

}  // namespace nmt::model

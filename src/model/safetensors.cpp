#include "model/safetensors.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "common/atomic_file.h"
#include "common/error.h"

namespace nmt::model {

std::size_t dtype_size(const std::string& dtype) {
  if (dtype == "F32" || dtype == "I32" || dtype == "U32") return 4;
  if (dtype == "F64" || dtype == "I64" || dtype == "U64") return 8;
  if (dtype == "F16" || dtype == "BF16" || dtype == "I16" || dtype == "U16") return 2;
  if (dtype == "I8" || dtype == "U8" || dtype == "BOOL") return 1;
  return 0;
}

static std::string shape_str(const std::vector<std::int64_t>& s) {
  std::string r = "[";
  for (std::size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

SafeTensors SafeTensors::load(const std::string& path) {
  SafeTensors st;
  st.path_ = path;
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  if (!f) throw Error(path + ": cannot open (" + std::strerror(errno) + ")");
  const std::streamoff size = f.tellg();
  f.seekg(0);
  if (size < 8) throw Error(path + ": not a safetensors file (" + std::to_string(size) + " bytes)");
  unsigned char len_bytes[8];
  f.read(reinterpret_cast<char*>(len_bytes), 8);
  std::uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | len_bytes[i];
  if (header_len > (std::uint64_t)size - 8 || header_len > (100u << 20))
    throw Error(path + ": corrupt safetensors header (claims " + std::to_string(header_len) +
                " header bytes, file has " + std::to_string(size) + ")");
  std::string header(header_len, '\0');
  f.read(header.data(), (std::streamsize)header_len);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(header);
  } catch (const std::exception&) {
    throw Error(path + ": corrupt safetensors header (invalid JSON)");
  }
  if (!j.is_object()) throw Error(path + ": corrupt safetensors header (not an object)");
  const std::uint64_t data_size = (std::uint64_t)size - 8 - header_len;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (!it->is_object()) throw Error(path + ": __metadata__ is not an object");
      for (auto m = it->begin(); m != it->end(); ++m)
        if (m->is_string()) st.metadata_[m.key()] = m->get<std::string>();
      continue;
    }
    const auto& t = *it;
    const std::string where = path + ": tensor '" + it.key() + "'";
    if (!t.is_object() || !t.contains("dtype") || !t["dtype"].is_string() || !t.contains("shape") ||
        !t["shape"].is_array() || !t.contains("data_offsets") || !t["data_offsets"].is_array() ||
        t["data_offsets"].size() != 2)
      throw Error(where + ": malformed header entry");
    TensorView v;
    v.dtype = t["dtype"].get<std::string>();
    const std::size_t es = dtype_size(v.dtype);
    if (!es) throw Error(where + ": unknown dtype " + v.dtype);
    std::uint64_t count = 1;
    for (const auto& d : t["shape"]) {
      if (!d.is_number_unsigned() || d.get<std::uint64_t>() > (1ull << 40))
        throw Error(where + ": bad shape");
      v.shape.push_back(d.get<std::int64_t>());
      const std::uint64_t dim = d.get<std::uint64_t>();
      if (dim != 0 && count > (1ull << 40) / dim) throw Error(where + ": bad shape");  // no wrap
      count *= dim;
    }
    for (const auto& o : t["data_offsets"])
      if (!o.is_number_unsigned()) throw Error(where + ": bad data_offsets");
    const std::uint64_t b = t["data_offsets"][0].get<std::uint64_t>();
    const std::uint64_t e = t["data_offsets"][1].get<std::uint64_t>();
    if (b > e || e > data_size)
      throw Error(where + ": data [" + std::to_string(b) + ", " + std::to_string(e) +
                  ") lies beyond the file's " + std::to_string(data_size) +
                  " data bytes (truncated file?)");
    if (e - b != count * es)
      throw Error(where + ": " + std::to_string(e - b) + " bytes do not match shape " +
                  shape_str(v.shape) + " of " + v.dtype);
    v.begin = b;
    v.end = e;
    st.tensors_[it.key()] = v;
  }
  // The spec: the data section is entirely indexed, without holes or overlapping tensors (so a
  // file cannot carry hidden bytes or two tensors share storage).
  std::vector<std::pair<const std::string*, const TensorView*>> by_offset;
  for (const auto& [name, v] : st.tensors_) by_offset.push_back({&name, &v});
  std::sort(by_offset.begin(), by_offset.end(), [](const auto& a, const auto& b) {
    return a.second->begin != b.second->begin ? a.second->begin < b.second->begin
                                              : a.second->end < b.second->end;
  });
  std::uint64_t covered = 0;
  const std::string* prev = nullptr;
  for (const auto& [name, v] : by_offset) {
    if (v->begin < covered)
      throw Error(path + ": tensor '" + *name + "' overlaps tensor '" + *prev + "' (data bytes [" +
                  std::to_string(v->begin) + ", " + std::to_string(covered) + "))");
    if (v->begin > covered)
      throw Error(path + ": data bytes [" + std::to_string(covered) + ", " +
                  std::to_string(v->begin) + ") belong to no tensor (a hole before tensor '" +
                  *name + "')");
    covered = v->end;
    prev = name;
  }
  if (covered != data_size)
    throw Error(path + ": data bytes [" + std::to_string(covered) + ", " +
                std::to_string(data_size) + ") belong to no tensor");
  st.data_.resize(data_size);
  f.read(st.data_.data(), (std::streamsize)data_size);
  if (!f) throw Error(path + ": read error (truncated file?)");
  return st;
}

const TensorView& SafeTensors::info(const std::string& name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) throw Error(path_ + ": missing tensor '" + name + "'");
  return it->second;
}

void SafeTensors::check_f32(const std::string& name, const std::vector<std::int64_t>& shape) const {
  const auto& v = info(name);
  if (v.dtype != "F32")
    throw Error(path_ + ": tensor '" + name + "' has dtype " + v.dtype + ", expected F32");
  if (v.shape != shape)
    throw Error(path_ + ": tensor '" + name + "' has shape " + shape_str(v.shape) + ", expected " +
                shape_str(shape));
}

void SafeTensors::read_f32(const std::string& name, const std::vector<std::int64_t>& shape,
                           float* out) const {
  check_f32(name, shape);
  const auto& v = info(name);
  if (v.end > v.begin) std::memcpy(out, data_.data() + v.begin, v.end - v.begin);
}

std::vector<float> SafeTensors::f32(const std::string& name) const {
  const auto& v = info(name);
  if (v.dtype != "F32")
    throw Error(path_ + ": tensor '" + name + "' has dtype " + v.dtype + ", expected F32");
  std::vector<float> r((v.end - v.begin) / 4);
  if (!r.empty()) std::memcpy(r.data(), data_.data() + v.begin, v.end - v.begin);
  return r;
}

std::vector<std::int32_t> SafeTensors::i32(const std::string& name) const {
  const auto& v = info(name);
  if (v.dtype != "I32")
    throw Error(path_ + ": tensor '" + name + "' has dtype " + v.dtype + ", expected I32");
  std::vector<std::int32_t> r((v.end - v.begin) / 4);
  if (!r.empty()) std::memcpy(r.data(), data_.data() + v.begin, v.end - v.begin);
  return r;
}

void save_safetensors(const std::string& path, const std::vector<TensorOut>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  std::vector<const TensorOut*> sorted;
  for (const auto& t : tensors) sorted.push_back(&t);
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->name < b->name; });
  nlohmann::ordered_json header;
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::size_t offset = 0;
  std::vector<std::pair<const char*, std::size_t>> pieces;
  for (const auto* t : sorted) {
    std::size_t bytes = dtype_size(t->dtype);
    if (!bytes) throw Error("save_safetensors: unknown dtype " + t->dtype);
    for (auto d : t->shape) bytes *= (std::size_t)d;
    header[t->name] = {
        {"dtype", t->dtype}, {"shape", t->shape}, {"data_offsets", {offset, offset + bytes}}};
    pieces.push_back({static_cast<const char*>(t->data), bytes});
    offset += bytes;
  }
  std::string h = header.dump();
  while ((h.size() + 8) % 8) h.push_back(' ');
  unsigned char len[8];
  std::uint64_t n = h.size();
  for (int i = 0; i < 8; ++i) len[i] = (unsigned char)(n >> (8 * i));
  pieces.insert(pieces.begin(), {h.data(), h.size()});
  pieces.insert(pieces.begin(), {reinterpret_cast<const char*>(len), 8});
  write_pieces_atomic(path, pieces);
}

}  // namespace nmt::model

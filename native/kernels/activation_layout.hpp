// Where the private transformer keeps its activations in the slots of a ciphertext.
//
// Feature-major blocks: a ciphertext holds `width` feature blocks of `rows` consecutive slots
// (width * rows = N/2), so a rotation by a multiple of `rows` moves whole blocks cyclically and a
// plaintext weight applies block by block. Row r = s * tokens + t is token t of sequence s; the
// rows past sequences * tokens are filler (a copy of real rows, never read as keys). The features
// of the attention heads are interleaved: feature j of head h sits in block j * heads + h, so summing
// one parity class of blocks (rotations by heads, 2 heads, ... blocks) leaves each head's sum
// replicated over that head's blocks.
#pragma once
#include <cstddef>
#include <vector>

namespace cipherlm::kernels {

struct ActivationLayout {
  std::size_t slots = 0;      // N / 2
  std::size_t width = 0;      // feature blocks per ciphertext (the model dimension)
  std::size_t rows = 0;       // slots / width
  std::size_t tokens = 0;     // token rows per sequence
  std::size_t sequences = 0;  // sequences per ciphertext
  std::size_t heads = 1;

  // Checks the shape (powers of two, sequences fit) and fills rows and sequences.
  static ActivationLayout create(std::size_t slots, std::size_t width, std::size_t tokens, std::size_t heads);

  std::size_t slot(std::size_t block, std::size_t row) const { return block * rows + row; }
  // Block of model feature f of the model dimension (interleaved heads).
  std::size_t model_block(std::size_t feature) const;
  // Rows holding real token positions (the rest are filler).
  std::size_t used_rows() const { return sequences * tokens; }

  // A 0/1 vector over all slots that is 1 on the rows where `row_test(r)` holds (every block).
  template <typename F>
  std::vector<double> row_mask(F&& row_test, double value = 1.0) const {
    std::vector<double> mask(slots, 0.0);
    for (std::size_t r = 0; r < rows; ++r)
      if (row_test(r))
        for (std::size_t b = 0; b < width; ++b) mask[slot(b, r)] = value;
    return mask;
  }
  // `value` on the blocks in [first, first + count) (all rows), 0 elsewhere.
  std::vector<double> block_mask(std::size_t first, std::size_t count, double value = 1.0) const;
};

}  // namespace cipherlm::kernels

// The slot-space factorization of CKKS decoding used by bootstrapping. In the power-of-5 slot order,
// the slots of a polynomial with coefficients t_0..t_{N-1} are V w with w_k = t_k + i t_{k+N/2} and
// V_{jk} = zeta^(5^j k): a "special FFT" of log2(N/2) butterfly stages, each with three diagonals.
// Groups of consecutive stages are merged so that each group costs one level.
#pragma once
#include <cstddef>
#include <vector>

#include "circuits/diagonal_matrix.hpp"

namespace cipherlm {

// SlotsToCoeffs: maps slots holding bit-reversed w to slots V w. `levels` groups, applied in order.
std::vector<DiagonalMatrix> slots_to_coeffs_groups(std::size_t slots, std::size_t levels);
// CoeffsToSlots: maps slots V w to bit-reversed w (the inverse of the above), applied in order.
std::vector<DiagonalMatrix> coeffs_to_slots_groups(std::size_t slots, std::size_t levels);

}  // namespace cipherlm

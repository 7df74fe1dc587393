// Native per-operation benchmark: the operations and parameters of `npm run bench:ops`, timed in C++
// on cipherlm's engine (impl "cipherlm-native") and, when built against it, Microsoft SEAL
// ("seal-native"), one thread each, same primes.
//
//   bench_native                 tables
//   bench_native --json          one JSON object: { rows: [{ op, N, impl, threads, medianMs }], params, machine, totalSeconds }
//   bench_native --n 16384 --reps 5 --rounds 3
// Each round times cipherlm, then SEAL (median of `reps` per op); a row is the median over rounds,
// so that a slow spell of a shared machine falls on both implementations alike.
// `npm run bench:native -- [--seal /path/to/seal/install] [options]` builds and runs it (run.js).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "implementations.hpp"
#include "ring/cpu_features.hpp"
#include "ring/primes.hpp"

namespace {

using cipherlm::bench::BenchParameters;
using cipherlm::bench::Row;

struct Options {
  bool json = false;
  std::vector<std::size_t> ring_degrees;  // empty: all
  int reps = 0;                           // 0: each ring degree's own count
  int rounds = 3;                         // alternations of the two implementations
};

Options parse_options(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--json") {
      options.json = true;
    } else if (arg == "--n" && has_value) {
      std::stringstream list(argv[++i]);
      for (std::string item; std::getline(list, item, ',');) options.ring_degrees.push_back(std::stoul(item));
    } else if (arg == "--reps" && has_value) {
      options.reps = std::max(1, std::stoi(argv[++i]));
    } else if (arg == "--rounds" && has_value) {
      options.rounds = std::max(1, std::stoi(argv[++i]));
    } else {
      throw std::invalid_argument("unknown option " + arg +
                                  " (options: --json, --n 8192,16384,32768, --reps R, --rounds R)");
    }
  }
  return options;
}

int reps_for(const Options& options, const BenchParameters& parameters) {
  return options.reps > 0 ? options.reps : parameters.reps;
}

std::vector<BenchParameters> chosen_parameters(const Options& options) {
  const auto& all = cipherlm::bench::all_bench_parameters();
  if (options.ring_degrees.empty()) return all;
  std::vector<BenchParameters> chosen;
  for (std::size_t n : options.ring_degrees) {
    const auto found = std::find_if(all.begin(), all.end(), [n](const BenchParameters& p) { return p.ring_degree == n; });
    if (found == all.end()) throw std::invalid_argument("--n must be among 8192, 16384, 32768");
    chosen.push_back(*found);
  }
  return chosen;
}

std::string cpu_model() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

// Numbers and strings as JSON; the strings written here never need escaping beyond quotes.
std::string quoted(const std::string& text) { return '"' + text + '"'; }
std::string number(double value) {
  std::ostringstream out;
  out << std::setprecision(6) << value;
  return out.str();
}

double log2_product(const std::vector<std::uint64_t>& primes) {
  double bits = 0;
  for (std::uint64_t q : primes) bits += std::log2(static_cast<double>(q));
  return bits;
}

std::string primes_json(std::vector<std::uint64_t>::const_iterator first, std::vector<std::uint64_t>::const_iterator last) {
  std::string out = "[";
  for (auto it = first; it != last; ++it) out += (it == first ? "" : ",") + quoted(std::to_string(*it));
  return out + "]";
}

std::string milliseconds(const Row* row) {
  if (!row) return "-";
  const double ms = row->median_ms;
  std::ostringstream out;
  out << std::fixed << std::setprecision(ms >= 100 ? 1 : ms >= 1 ? 2 : 3) << ms;
  return out.str();
}

// One row per (implementation, op): the median of its rounds' medians.
std::vector<Row> median_over_rounds(const std::vector<std::vector<Row>>& rounds) {
  std::vector<Row> merged = rounds.front();
  for (Row& row : merged) {
    std::vector<double> values;
    for (const std::vector<Row>& round : rounds) {
      for (const Row& other : round) {
        if (other.op == row.op && other.impl == row.impl) values.push_back(other.median_ms);
      }
    }
    std::sort(values.begin(), values.end());
    row.median_ms = values[values.size() / 2];
  }
  return merged;
}

void print_table(const std::vector<Row>& rows, const std::vector<BenchParameters>& chosen, const Options& options) {
  const auto find = [&rows](const char* op, std::size_t n, const char* impl) -> const Row* {
    for (const Row& row : rows) {
      if (row.op == op && row.ring_degree == n && row.impl == impl) return &row;
    }
    return nullptr;
  };
  for (const BenchParameters& p : chosen) {
    std::cout << "\nN = " << p.ring_degree << " (1 thread, median of " << options.rounds << " interleaved rounds of "
              << reps_for(options, p) << ")\n";
    std::cout << std::left << std::setw(22) << "op" << std::right << std::setw(20) << "cipherlm-native ms" << std::setw(16)
              << "seal-native ms" << std::setw(16) << "seal/cipherlm" << '\n'
              << std::string(74, '-') << '\n';
    for (const char* op : cipherlm::bench::kOps) {
      const Row* ours = find(op, p.ring_degree, "cipherlm-native");
      const Row* seal = find(op, p.ring_degree, "seal-native");
      std::ostringstream ratio;
      if (ours && seal) ratio << std::fixed << std::setprecision(2) << seal->median_ms / ours->median_ms << 'x';
      std::cout << std::left << std::setw(22) << op << std::right << std::setw(20) << milliseconds(ours) << std::setw(16)
                << milliseconds(seal) << std::setw(16) << (ours && seal ? ratio.str() : "-") << '\n';
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options options = parse_options(argc, argv);
    const std::vector<BenchParameters> chosen = chosen_parameters(options);
    std::ostream& log = options.json ? std::cerr : std::cout;
    const auto started = std::chrono::steady_clock::now();
    std::string seal = "null";
#ifdef CIPHERLM_BENCH_WITH_SEAL
    seal = quoted(cipherlm::bench::seal_description());
#else
    log << "seal-native: this build found no Microsoft SEAL. Point it at an install with\n"
        << "  npm run bench:native -- --seal /path/to/seal/install   (or SEAL_ROOT=/path/to/seal/install)\n";
#endif
    log << "native ops benchmark: " << cpu_model() << ", SIMD path " << cipherlm::simd_path_name(cipherlm::best_simd_path())
        << ", 1 thread\n";

    std::vector<Row> rows;
    std::vector<std::string> params;
    for (const BenchParameters& p : chosen) {
      const int reps = reps_for(options, p);
      const std::vector<std::uint64_t> primes = cipherlm::ntt_primes_from_bit_sizes(p.ring_degree, p.all_bits());
      const double log_qp = log2_product(primes);
      if (log_qp > p.bound_128) {
        throw std::runtime_error("N=" + std::to_string(p.ring_degree) + ": log2(QP) exceeds the 128-bit bound");
      }
      std::vector<std::vector<Row>> ours, theirs;
      for (int round = 0; round < options.rounds; ++round) {
        ours.push_back(cipherlm::bench::time_cipherlm(p, primes, reps, log));
#ifdef CIPHERLM_BENCH_WITH_SEAL
        theirs.push_back(cipherlm::bench::time_seal(p, primes, reps, log));
#endif
      }
      for (Row& row : median_over_rounds(ours)) rows.push_back(std::move(row));
      if (!theirs.empty()) {
        for (Row& row : median_over_rounds(theirs)) rows.push_back(std::move(row));
      }
      const auto special = primes.begin() + p.data_bits.size();
      params.push_back("{\"N\":" + std::to_string(p.ring_degree) + ",\"dataPrimes\":" + primes_json(primes.begin(), special) +
                       ",\"specialPrimes\":" + primes_json(special, primes.end()) + ",\"logQP\":" + number(std::round(log_qp * 100) / 100) +
                       ",\"bound128\":" + std::to_string(p.bound_128) + ",\"reps\":" + std::to_string(reps) +
                       ",\"rounds\":" + std::to_string(options.rounds) + "}");
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

    if (!options.json) {
      print_table(rows, chosen, options);
      std::cout << "\ntotal " << std::fixed << std::setprecision(1) << seconds << " s\n";
      return 0;
    }
    std::string out = "{\"rows\":[";
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const Row& r = rows[i];
      out += (i ? "," : "") + std::string("{\"op\":") + quoted(r.op) + ",\"N\":" + std::to_string(r.ring_degree) +
             ",\"impl\":" + quoted(r.impl) + ",\"threads\":" + std::to_string(r.threads) + ",\"medianMs\":" + number(r.median_ms) + "}";
    }
    out += "],\"params\":[";
    for (std::size_t i = 0; i < params.size(); ++i) out += (i ? "," : "") + params[i];
    out += "],\"machine\":{\"cpu\":" + quoted(cpu_model()) + ",\"simdPath\":" +
           quoted(cipherlm::simd_path_name(cipherlm::best_simd_path())) + ",\"seal\":" + seal + "},\"totalSeconds\":" +
           number(std::round(seconds * 10) / 10) + "}";
    std::cout << out << '\n';
    return 0;
  } catch (const std::exception& error) {
    std::cerr << "bench_native failed: " << error.what() << '\n';
    return 1;
  }
}

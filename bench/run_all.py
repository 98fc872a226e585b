"""Run every benchmark (W1 MLP step, W2 MLP Adam step, W3 10M-parameter Adam step, W4 op chain,
W5 time to 97% test accuracy on digits) in one process and print their tables.

    python bench/run_all.py [--quick]      # --quick: a smoke run of a few seconds
"""

from __future__ import annotations

import sys

import common  # noqa: I001  (first: pins the BLAS/OpenMP threads before NumPy/torch load)
import w1_mlp_step
import w2_mlp_adam
import w3_adam_step
import w4_chain
import w5_time_to_accuracy


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    common.parse_quick(argv)  # validates the arguments
    for bench in (w1_mlp_step, w2_mlp_adam, w3_adam_step, w4_chain, w5_time_to_accuracy):
        bench.main(argv)


if __name__ == "__main__":
    main()

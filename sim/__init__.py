"""sim: cocotb regressions proving generated RTL bit-exact against hgq_hw.reference."""

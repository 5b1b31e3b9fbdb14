"""hgq flow: one run from data to verified Verilog (and bitstream), with a report and plots."""

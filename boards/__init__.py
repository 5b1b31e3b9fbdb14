"""The network on open FPGA boards: targets, top wrappers, build, program, host client.

* :mod:`boards.target`, :mod:`boards.icebreaker`, :mod:`boards.ulx3s`, :mod:`boards.registry`:
  boards as data (platform class, capacity, clock, LEDs, UART, openFPGALoader name).
* :mod:`boards.protocol`: the UART frames (a stream design's image requests too) and the exact
  argmax (pure Python).
* :mod:`boards.uart`, :mod:`boards.argmax`, :mod:`boards.uart_top`, :mod:`boards.selftest_top`,
  :mod:`boards.board_top`, :mod:`boards.tops`: the Amaranth side; stream-mode networks
  (``hgq build --io stream``): :mod:`boards.stream_core` (the stream Verilog as a black box),
  :mod:`boards.stream_uart_top`, the stream ``SelfTestTop``, :mod:`boards.uart_reply` (the
  response both UART tops send).
* :mod:`boards.build`, :mod:`boards.program`, :mod:`boards.host`: ``hgq build``,
  ``hgq program``, ``hgq board-run``.
* :mod:`boards.simulate`, :mod:`boards.tb_uart_top`, :mod:`boards.tb_selftest_top`,
  :mod:`boards.uart_model`: cocotb verification of the tops.

Nothing here imports TensorFlow, Keras or ``hgq_train``; importing a module never builds or
programs anything.
"""

"""Stream designs on the boards without a simulator: the image frames, the pixel order, the
output conversion to the reference's type, the self-test images, the host side, the fit check
and what stream mode refuses."""

from __future__ import annotations

import numpy as np
import pytest

import boards.build
import boards.host
from boards.build import DoesNotFit, build_board, check_fit, estimate_resources
from boards.host import request_frames, run_samples
from boards.protocol import (
    NAK,
    REQUEST_HEADER,
    ProtocolError,
    argmax_exact,
    decode_image_request,
    encode_image_request,
    encode_response,
    image_pixel_words,
    image_request_length,
    stream_pixel_layout,
)
from boards.registry import BOARDS, get_board
from boards.selftest_top import SelfTestVectors, selftest_vectors, stream_selftest_vectors
from boards.stream_core import to_reference_raw
from hgq_hw.layout import BusLayout
from hgq_hw.reference import evaluate, infer_types, input_bounds
from hgq_hw.spec import ModelSpec, SpecError
from hgq_hw.stream import plan_stream_network
from tests.boards.conftest import stream_border_spec, stream_cnn_spec, stream_tiny_spec, tiny_spec

SEED = 7


def random_images(spec: ModelSpec, n: int, seed: int = SEED) -> np.ndarray:
    from hgq_hw.inputs import random_raw

    lo, hi = input_bounds(spec)
    print(f"seed {seed}")
    return random_raw(np.asarray(lo), np.asarray(hi), n, np.random.default_rng(seed))


@pytest.mark.parametrize("width", [0, 1, 7, 8, 9, 17])
def test_image_request_is_header_pixels_little_endian_and_xor(width: int) -> None:
    rng = np.random.default_rng(width)
    words = [int(rng.integers(0, 1 << 62)) % (1 << width) if width else 0 for _ in range(6)]
    frame = encode_image_request(words, width)
    step = (width + 7) // 8
    assert len(frame) == image_request_length(6, width) == 6 * step + 2
    assert frame[0] == REQUEST_HEADER
    payload = b"".join(w.to_bytes(step, "little") for w in words)
    assert frame[1:-1] == payload
    check = 0
    for byte in payload:
        check ^= byte
    assert frame[-1] == check
    assert decode_image_request(frame, 6, width) == words
    if width:
        bad = bytearray(frame)
        bad[-1] ^= 0x10
        with pytest.raises(ProtocolError, match="checksum"):
            decode_image_request(bytes(bad), 6, width)
    with pytest.raises(ProtocolError, match=f"{6 * step + 2} bytes for 6 pixels"):
        decode_image_request(frame[:-1], 6, width)
    with pytest.raises(ValueError, match="does not fit"):
        encode_image_request([1 << width], width)


def test_pixels_go_in_c_order_of_the_positions_channel_0_low() -> None:
    spec = stream_tiny_spec()
    layout = stream_pixel_layout(spec)
    assert layout.describe() == plan_stream_network(spec).pixel_layout.describe()
    (image,) = random_images(spec, 1)
    h, w, c = image.shape
    fields = layout.fields
    want = []
    for row in range(h):
        for col in range(w):
            word = 0
            for ch in range(c):
                raw = int(image[row, col, ch]) & ((1 << fields[ch].width) - 1)
                word |= raw << fields[ch].offset
            want.append(word)
    assert image_pixel_words(image, layout) == want
    transposed = image_pixel_words(np.transpose(image, (1, 0, 2)), layout)
    assert transposed != want  # the test image tells the two orders apart


@pytest.mark.parametrize("make_spec", [stream_tiny_spec, stream_cnn_spec, stream_border_spec])
def test_outputs_converted_to_the_reference_type_equal_the_reference(make_spec) -> None:
    """The stream plan's raw outputs (hardware types) through the core's conversion are the
    reference's output words, bit for bit; for the border spec the types do differ."""
    spec = make_spec()
    plan = plan_stream_network(spec)
    ref_type = infer_types(spec)[spec.output.name]
    ref_layout = BusLayout.of(ref_type)
    x = random_images(spec, 12)
    hw = plan.evaluate(x)
    want = ref_layout.pack(np.asarray(evaluate(spec, x), dtype=object))
    f_hw, f_ref = plan.out_type.f.ravel(), ref_type.f.ravel()
    differ = int(np.sum((f_hw != f_ref) & (ref_type.width.ravel() > 0)))
    print(f"{spec.name}: {differ} output elements with another f in hardware")
    if make_spec is stream_border_spec:
        assert differ > 0
    for b in range(len(x)):
        word = 0
        for e, field in enumerate(ref_layout.fields):
            if field.width:
                bits = to_reference_raw(int(hw[b][e]), int(f_hw[e]), int(f_ref[e]), field.width)
                word |= bits << field.offset
        assert word == want[b], f"image {b}: {word:#x} != reference {want[b]:#x} (seed {SEED})"


def test_stream_selftest_images_corners_first_then_random() -> None:
    spec = stream_tiny_spec()
    plan = plan_stream_network(spec)
    vectors = stream_selftest_vectors(spec, 12, seed=SEED, plan=plan)
    assert len(vectors) == 12 and vectors.words_per_sample == plan.n_pixels == 16
    assert len(vectors.inputs) == 12 * 16
    assert vectors.sources[:3] == ["corner:min", "corner:max", "corner:zero"]
    assert vectors.sources[3:6] == ["border:max", "border:min", "border:max-around-min"]
    assert vectors.sources[6:] == [f"random:{n}" for n in range(6)]
    lo, hi = input_bounds(spec)
    assert vectors.inputs[:16] == image_pixel_words(np.asarray(lo), plan.pixel_layout)
    assert vectors.inputs[16:32] == image_pixel_words(np.asarray(hi), plan.pixel_layout)
    out_layout = BusLayout.of(infer_types(spec)[spec.output.name])
    assert vectors.expected[:2] == out_layout.pack(
        np.asarray(evaluate(spec, np.stack([lo, hi]).astype(object)), dtype=object)
    )
    with pytest.raises(ValueError, match="17 input words for 1 samples of 16 words"):
        SelfTestVectors([0] * 17, [0], ["x"], 16)


def test_a_stream_top_refuses_parallel_vectors() -> None:
    from boards.tops import make_top

    spec = stream_tiny_spec()
    with pytest.raises(ValueError, match="takes 16 input words per sample, the vectors have 1"):
        make_top(
            "selftest",
            spec,
            divisor=4,
            report_period=100,
            vectors=selftest_vectors(spec, 4),
            io="stream",
        )
    with pytest.raises(ValueError, match="io must be one of parallel, stream"):
        make_top("uart", spec, divisor=4, report_period=100, io="auto")


class FakeStreamBoard:
    """The stream uart top's protocol in Python: image requests in, reference answers out;
    ``order`` reads the pixels as a board with that pixel order would."""

    def __init__(self, spec: ModelSpec, order: str = "C") -> None:
        self.spec = spec
        self.layout = stream_pixel_layout(spec)
        self.out_type = infer_types(spec)[spec.output.name]
        self.out_layout = BusLayout.of(self.out_type)
        self.order = order
        self.pending = b""

    def write(self, frame: bytes) -> None:
        shape = self.spec.input_shape
        n = int(np.prod(shape[:-1]))
        try:
            words = decode_image_request(frame, n, self.layout.width)
        except ProtocolError:
            self.pending += bytes([NAK])
            return
        pixels = self.layout.unpack(words)
        if self.order == "C":
            image = pixels.reshape(shape)
        else:  # column-major: a board that fills columns first
            image = pixels.reshape(shape[1], shape[0], shape[2]).transpose(1, 0, 2)
        y = evaluate(self.spec, image[None])
        arg = argmax_exact(y[0], self.out_type)
        self.pending += encode_response(self.out_layout.pack(y)[0], arg, self.out_layout.width)

    def read(self, size: int) -> bytes:
        data, self.pending = self.pending[:size], self.pending[size:]
        return data

    def __enter__(self) -> FakeStreamBoard:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def test_host_sends_images_pixel_by_pixel_and_checks_the_answers() -> None:
    spec = stream_tiny_spec()
    x = random_images(spec, 10)
    frames = request_frames(spec, x, "stream")
    assert len(frames) == 10 and all(len(f) == image_request_length(16, 3) == 18 for f in frames)
    result = run_samples(FakeStreamBoard(spec), spec, x, io="stream")
    assert result.passed, result.summary()
    assert result.outputs_agree == 10
    wrong = run_samples(FakeStreamBoard(spec, order="F"), spec, x, io="stream")
    assert not wrong.passed and wrong.outputs_agree < 10, wrong.summary()
    assert any("outputs" in p for p in wrong.problems)
    with pytest.raises(ValueError, match="io must be 'parallel' or 'stream'"):
        request_frames(spec, x, "auto")


def test_board_run_cli_with_io_stream(tmp_path, monkeypatch, capsys) -> None:
    from hgq_hw.spec import save
    from hgqflow.cli import main

    spec = stream_tiny_spec()
    path = save(spec, tmp_path / "spec.json")
    board = FakeStreamBoard(spec)
    monkeypatch.setattr(boards.host, "open_serial", lambda port, baud, timeout: board)
    argv = ["board-run", "--port", "/dev/fake", "--spec", str(path), "--random", "6"]
    assert main([*argv, "--io", "stream"]) == 0
    assert "outputs agree:  6/6" in capsys.readouterr().out
    assert main(argv) == 1  # parallel frames to a stream board: refused frames, no answers


def test_stream_estimate_counts_the_rom_of_every_pixel_and_fits_both_boards() -> None:
    spec = stream_tiny_spec()
    plan = plan_stream_network(spec, pipeline_levels=2)
    for target in BOARDS.values():
        uart = estimate_resources(plan, "uart", target.family, 40)
        selftest = estimate_resources(plan, "selftest", target.family, 40)
        check_fit(uart, target)
        check_fit(selftest, target)
        assert uart.ffs >= plan.registers and selftest.ffs >= plan.registers
        # 40 images x 16 pixels x 3 bits: 1920 bits, block RAM on both families
        assert selftest.brams == (3 if target.family == "ice40" else 2), target.name


def test_a_stream_design_too_big_for_the_ice40_fails_before_any_tool_runs(
    tmp_path, monkeypatch
) -> None:
    def no_tools(*args, **kwargs):
        raise AssertionError("a tool ran although the design cannot fit")

    monkeypatch.setattr(boards.build, "run_tool", no_tools)
    lines: list[str] = []
    with pytest.raises(DoesNotFit) as info:
        build_board(
            stream_tiny_spec(),
            get_board("icebreaker"),
            "selftest",
            tmp_path,
            io="stream",
            n_vectors=4096,
            say=lines.append,
        )
    message = str(info.value)
    assert "does not fit the iCEBreaker" in message and "block RAMs" in message
    assert "capacity 5280 LUTs" in message
    assert any("stream mode (--io stream): one pixel per cycle, 16 pixels" in ln for ln in lines)


def test_a_spec_stream_mode_cannot_take_is_refused_by_name(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(boards.build, "run_tool", lambda *a, **k: None)
    with pytest.raises(SpecError, match="stream mode needs an N-d") as info:
        build_board(tiny_spec(), get_board("icebreaker"), "uart", tmp_path, io="stream")
    assert "'x'" in str(info.value) or "x" in str(info.value)


def test_hgq_build_io_stream_errors_name_the_problem(tmp_path, capsys) -> None:
    from hgq_hw.spec import save
    from hgqflow.cli import main

    flat = save(tiny_spec(), tmp_path / "tiny.json")
    argv = ["build", "--board", "icebreaker", "--io", "stream", "-o", str(tmp_path / "a")]
    assert main([*argv, str(flat)]) == 1
    assert "stream mode needs an N-d (channels-last) input" in capsys.readouterr().err
    cnn = save(stream_tiny_spec(), tmp_path / "cnn.json")
    argv = [*argv[:-1], str(tmp_path / "b"), "--top", "selftest", "--vectors", "4096"]
    assert main([*argv, str(cnn)]) == 1
    err = capsys.readouterr().err
    assert "does not fit the iCEBreaker" in err and "block RAMs" in err and "> 30" in err


def test_the_flow_builds_the_board_in_gen_s_mode(tmp_path, monkeypatch) -> None:
    """``hgq flow --io stream``: the board stage reads gen's report and builds the stream tops."""
    from hgq_hw.emit import generate
    from hgq_hw.spec import save
    from hgqflow.flow.pipeline import FlowOptions, _board

    spec = stream_tiny_spec()
    save(spec, tmp_path / "spec.json")
    seen: dict[str, str] = {}

    def fake_build(spec, target, top, out, *, io="parallel", **options):
        seen["io"] = io
        raise RuntimeError("stop here")

    monkeypatch.setattr(boards.build, "build_board", fake_build)
    opts = FlowOptions(out=tmp_path, board="icebreaker", io="stream")
    for io in ("stream", "parallel"):
        generate(spec, tmp_path / "gen", io=io)
        with pytest.raises(RuntimeError, match="stop here"):
            _board(opts, tmp_path)
        assert seen["io"] == io

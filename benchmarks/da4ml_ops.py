"""Adders and adder depth of a da4ml 0.6 CMVM solution (benchmark helper, not a dependency).

Counts the add/sub and constant-add operations of every stage of ``da4ml.cmvm.solve``'s
pipeline and follows each value's adder depth through the stages.
"""

from __future__ import annotations

__all__ = ["count_adders"]


def count_adders(pipe: object, n_inputs: int) -> tuple[int, int]:
    """``(adders, adder depth)`` of a da4ml pipeline whose first stage reads ``n_inputs``."""
    adders = 0
    in_depth = [0] * n_inputs
    for sol in pipe.solutions:  # type: ignore[attr-defined]
        depth: list[int] = []
        for op in sol.ops:
            if op.opcode in (0, 1):  # add / sub of two buffers
                adders += 1
                depth.append(max(depth[op.id0], depth[op.id1]) + 1)
            elif op.opcode == -1:  # copy of an input
                depth.append(in_depth[op.id0])
            elif op.opcode == 4:  # constant addition
                adders += 1
                depth.append(depth[op.id0] + 1)
            elif op.opcode == 5:  # constant definition
                depth.append(0)
            else:  # negation / quantization of one operand
                depth.append(depth[op.id0])
        in_depth = [depth[i] if i >= 0 else 0 for i in sol.out_idxs]
    return adders, max(in_depth, default=0)

"""Type stubs for the compiled extension ``steepest._core`` (hand-written).

The nine kernels (``scores`` .. ``softmax_grid``) implement the kernel contract written in
``steepest._backends.contract`` (``Kernels``): its docstrings are their documentation. The rest is
specific to the C++ core (SIMD dispatch, the thread pool, the measured multiply-add rate).
"""

from typing import Final

import numpy as np
import numpy.typing as npt

_Float = np.float32 | np.float64
_FloatArray = npt.NDArray[np.float32] | npt.NDArray[np.float64]
_F64 = npt.NDArray[np.float64]
_I64 = npt.NDArray[np.int64]

block_size: Final[int]

def scores(W: _FloatArray, X: _FloatArray, idx: _I64 | None, n_threads: int) -> _FloatArray: ...
def svm_loss_grad(
    W: _FloatArray,
    X: _FloatArray,
    y: _I64,
    idx: _I64 | None,
    reg: float,
    delta: float,
    want_grad: bool,
    n_threads: int,
) -> tuple[float, _FloatArray | None]: ...
def softmax_loss_grad(
    W: _FloatArray,
    X: _FloatArray,
    y: _I64,
    idx: _I64 | None,
    reg: float,
    want_grad: bool,
    n_threads: int,
) -> tuple[float, _FloatArray | None]: ...
def svm_stacked_loss_grad(
    W: _FloatArray,
    X: _FloatArray,
    y: _I64,
    idx: _I64 | None,
    regs: _F64,
    delta: float,
    n_threads: int,
    step_sizes: _F64 | None = None,
    out: _FloatArray | None = None,
) -> tuple[_F64, _FloatArray | None]: ...
def softmax_stacked_loss_grad(
    W: _FloatArray,
    X: _FloatArray,
    y: _I64,
    idx: _I64 | None,
    regs: _F64,
    n_threads: int,
    step_sizes: _F64 | None = None,
    out: _FloatArray | None = None,
) -> tuple[_F64, _FloatArray | None]: ...
def svm_stacked_train(
    W: _FloatArray,
    X: _FloatArray,
    y: _I64,
    batches: _I64,
    regs: _F64,
    delta: float,
    step_sizes: _F64,
    out: _FloatArray,
    n_threads: int,
) -> _F64: ...
def softmax_stacked_train(
    W: _FloatArray,
    X: _FloatArray,
    y: _I64,
    batches: _I64,
    regs: _F64,
    step_sizes: _F64,
    out: _FloatArray,
    n_threads: int,
) -> _F64: ...
def svm_stacked_losses(
    W: _FloatArray, X: _FloatArray, y: _I64, idx: _I64 | None, regs: _F64, delta: float, n_threads: int
) -> _F64: ...
def softmax_stacked_losses(
    W: _FloatArray, X: _FloatArray, y: _I64, idx: _I64 | None, regs: _F64, n_threads: int
) -> _F64: ...
def svm_fd(
    W: _F64, X: _F64, y: _I64, reg: float, delta: float, h: float, n_threads: int
) -> tuple[_F64, _F64, _I64]: ...
def softmax_fd(W: _F64, X: _F64, y: _I64, reg: float, h: float, n_threads: int) -> tuple[_F64, _F64]: ...
def svm_grid(
    S0: _F64, S1: _F64, S2: _F64 | None, y: _I64, alphas: _F64, betas: _F64, delta: float, n_threads: int
) -> _F64: ...
def softmax_grid(S0: _F64, S1: _F64, S2: _F64 | None, y: _I64, alphas: _F64, betas: _F64, n_threads: int) -> _F64: ...
def cpu_features() -> dict[str, bool]: ...
def simd_path() -> str: ...
def supported_simd_paths() -> list[str]: ...
def multiply_add_rate(n_threads: int, seconds: float = 0.2) -> float: ...
def pool_size() -> int: ...

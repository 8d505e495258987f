"""Forward mode on par with PyTorch: complex values (real tangents entering ops with
complex outputs, non-holomorphic ops) against ``torch.func.jvp``, and custom
Functions with PyTorch's ``jvp`` / ``setup_context`` / ``save_for_forward``."""

import numpy as np
import pytest

import xgrad
import xgrad.autograd.forward_ad as fwAD
import xgrad.func as xfunc
from xgrad.testing import assert_close

torch = pytest.importorskip("torch")
from torch.func import jvp as torch_jvp  # noqa: E402


def _program(lib, name):
    """The same program written for PyTorch (``lib is torch``) and for xgrad."""
    real, imag = (torch.real, torch.imag) if lib is torch else (xgrad.real, xgrad.imag)
    const = (torch.tensor([1 + 1j, 2 - 1j], dtype=torch.complex128) if lib is torch else
             None)
    return {
        "x*x.real": lambda x: x * real(x),
        "x.real*x": lambda x: real(x) * x,
        "x*(1+2j)": lambda x: x * (1 + 2j),
        "exp(1j*x)": lambda x: lib.exp(x * 1j),
        "x/x.real": lambda x: x / real(x),
        "abs": lambda x: lib.abs(x),
        "abs2": lambda x: lib.abs(x) ** 2 * x,
        "sin*imag": lambda x: lib.sin(x) * imag(x),
        "conj*x": lambda x: lib.conj(x) * x,
        "x*const": lambda x: x * (const if const is not None else
                                  xgrad.asarray(np.array([1 + 1j, 2 - 1j]), device=x.device)),
        "sqrt(x*x+1)": lambda x: lib.sqrt(x * x + 1),
        "tanh(x.real)*x": lambda x: lib.tanh(real(x)) * x,
    }[name]


NAMES = ["x*x.real", "x.real*x", "x*(1+2j)", "exp(1j*x)", "x/x.real", "abs", "abs2", "sin*imag",
         "conj*x", "x*const", "sqrt(x*x+1)", "tanh(x.real)*x"]
REAL_OK = {"x*x.real", "x.real*x", "x*(1+2j)", "exp(1j*x)", "x/x.real", "abs", "abs2", "x*const",
           "sqrt(x*x+1)", "tanh(x.real)*x"}


@pytest.mark.parametrize("kind", ["complex", "real"])
@pytest.mark.parametrize("name", NAMES)
def test_jvp_matches_torch_func_jvp(device, name, kind):
    if kind == "real" and name not in REAL_OK:
        pytest.skip("needs a complex input")
    if kind == "complex":
        x, t = np.array([1 + 2j, 0.5 - 1j]), np.array([0.3 - 0.1j, 1j])
    else:
        x, t = np.array([1.5, -2.0]), np.array([0.3, 0.7])
    expected_out, expected = torch_jvp(_program(torch, name), (torch.tensor(x),), (torch.tensor(t),))
    out, tangent = xfunc.jvp(_program(xgrad, name),
                             (xgrad.asarray(x, device=device),), (xgrad.asarray(t, device=device),))
    assert_close(out, expected_out.numpy())
    assert tangent.dtype.name == str(expected.dtype).removeprefix("torch.")
    assert_close(tangent, expected.numpy())


def test_dual_tensors_with_complex_values(device):
    x = xgrad.asarray(np.array([1.5, -2.0]), device=device)
    with fwAD.dual_level():
        d = fwAD.make_dual(x, xgrad.ones_like(x))
        y = d * (2 - 3j) + xgrad.exp(d * 1j)
        tangent = fwAD.unpack_dual(y).tangent
    tx = torch.tensor([1.5, -2.0], dtype=torch.float64)
    _, expected = torch_jvp(lambda v: v * (2 - 3j) + torch.exp(v * 1j), (tx,), (torch.ones_like(tx),))
    assert_close(tangent, expected.numpy())


# -- custom Functions ------------------------------------------------------------------------
def _new_style(lib):
    class MulExp(lib.autograd.Function):
        """forward(x, y) = (x * exp(y), x + y), PyTorch's newer style."""

        @staticmethod
        def forward(x, y):
            return x * y.exp(), x + y

        @staticmethod
        def setup_context(ctx, inputs, output):
            x, y = inputs
            ctx.save_for_forward(x, y)
            ctx.save_for_backward(x, y)

        @staticmethod
        def jvp(ctx, tx, ty):
            x, y = ctx.saved_tensors
            return tx * y.exp() + x * y.exp() * ty, tx + ty

        @staticmethod
        def backward(ctx, g1, g2):
            x, y = ctx.saved_tensors
            return g1 * y.exp() + g2, g1 * x * y.exp() + g2
    return MulExp


def _old_style(lib):
    class Scale(lib.autograd.Function):
        """forward(ctx, x, k) = sin(x) * k with a Python-number k, the classic style."""

        @staticmethod
        def forward(ctx, x, k):
            ctx.save_for_forward(x)
            ctx.k = k
            return x.sin() * k

        @staticmethod
        def jvp(ctx, tx, tk):
            assert tk is None  # a non-tensor input has no tangent
            (x,) = ctx.saved_tensors
            return tx * x.cos() * ctx.k

        @staticmethod
        def backward(ctx, g):
            raise AssertionError("not used")
    return Scale


def _tangents_of(lib, fn, primals, tangents):
    fad = torch.autograd.forward_ad if lib is torch else fwAD
    with fad.dual_level():
        duals = [fad.make_dual(p, t) if t is not None else p for p, t in zip(primals, tangents)]
        outs = fn(*duals)
        outs = outs if isinstance(outs, tuple) else (outs,)
        return [fad.unpack_dual(o).tangent for o in outs]


@pytest.mark.parametrize("which", ["x", "y", "both"])
def test_function_jvp_with_setup_context(device, which):
    x, y = np.array([1.0, 2.0]), np.array([0.5, -1.0])
    tx, ty = np.array([1.0, -0.5]), np.array([0.25, 2.0])
    pick = {"x": (tx, None), "y": (None, ty), "both": (tx, ty)}[which]
    expected = _tangents_of(torch, _new_style(torch).apply, [torch.tensor(x), torch.tensor(y)],
                            [None if t is None else torch.tensor(t) for t in pick])
    got = _tangents_of(xgrad, _new_style(xgrad).apply,
                       [xgrad.asarray(x, device=device), xgrad.asarray(y, device=device)],
                       [None if t is None else xgrad.asarray(t, device=device) for t in pick])
    for g, e in zip(got, expected):
        assert_close(g, e.numpy())


def test_function_new_style_backward(device):
    x = xgrad.asarray(np.array([1.0, 2.0]), device=device, requires_grad=True)
    y = xgrad.asarray(np.array([0.5, -1.0]), device=device, requires_grad=True)
    a, b = _new_style(xgrad).apply(x, y)
    (a.sum() + 2 * b.sum()).backward()
    tx = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    ty = torch.tensor([0.5, -1.0], dtype=torch.float64, requires_grad=True)
    ta, tb = _new_style(torch).apply(tx, ty)
    (ta.sum() + 2 * tb.sum()).backward()
    assert_close(x.grad, tx.grad.numpy())
    assert_close(y.grad, ty.grad.numpy())


def test_function_jvp_classic_style_and_non_tensor_inputs(device):
    x, t = np.array([0.3, -1.2]), np.array([1.0, 2.0])
    (expected,) = _tangents_of(torch, lambda v: _old_style(torch).apply(v, 3.0),
                               [torch.tensor(x)], [torch.tensor(t)])
    (got,) = _tangents_of(xgrad, lambda v: _old_style(xgrad).apply(v, 3.0),
                          [xgrad.asarray(x, device=device)], [xgrad.asarray(t, device=device)])
    assert_close(got, expected.numpy())


def test_function_jvp_is_used_not_the_forward_ops(device):
    """A jvp that differs from the true derivative shows which one ran."""
    class Wrong(xgrad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * x

        @staticmethod
        def jvp(ctx, tx):
            return tx * 100.0

        @staticmethod
        def backward(ctx, g):
            return g

    x = xgrad.asarray(np.array([1.0, 2.0]), device=device)
    (got,) = _tangents_of(xgrad, Wrong.apply, [x], [xgrad.ones_like(x)])
    assert_close(got, [100.0, 100.0])


def test_function_without_jvp_propagates_through_forward(device):
    """PyTorch raises here ("You must implement the jvp function"); xgrad differentiates
    the xgrad operations forward ran (documented as better than PyTorch)."""
    class Plain(xgrad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.sin() * x

        @staticmethod
        def backward(ctx, g):
            raise AssertionError("not used")

    class TorchPlain(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.sin() * x

        @staticmethod
        def backward(ctx, g):
            raise AssertionError("not used")

    tx = torch.tensor([0.5, 1.5], dtype=torch.float64)
    with pytest.raises(NotImplementedError):
        _tangents_of(torch, TorchPlain.apply, [tx], [torch.ones_like(tx)])
    _, expected = torch_jvp(lambda v: v.sin() * v, (tx,), (torch.ones_like(tx),))
    x = xgrad.asarray(np.array([0.5, 1.5]), device=device)
    (got,) = _tangents_of(xgrad, Plain.apply, [x], [xgrad.ones_like(x)])
    assert_close(got, expected.numpy())


def test_saved_tensors_in_jvp_needs_save_for_forward(device):
    class NoSave(xgrad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * 2

        @staticmethod
        def jvp(ctx, tx):
            (x,) = ctx.saved_tensors
            return tx * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    x = xgrad.asarray(np.array([1.0]), device=device)
    with pytest.raises(RuntimeError, match="save_for_forward"):
        _tangents_of(xgrad, NoSave.apply, [x], [xgrad.ones_like(x)])


def test_function_vmap_is_a_clear_error():
    with pytest.raises(NotImplementedError, match="vmap"):
        xgrad.autograd.Function.vmap(None, (0,), None)

"""Errors as PyTorch raises them (issue 12 part 7): a table of bad inputs.

Each row is a snippet that uses only the name ``torch``. It runs on PyTorch (it
must raise: the table itself is checked) and on xgrad (``import xgrad as torch``,
on the device under test), and xgrad must raise the same exception type as
PyTorch: the first built-in class in the MRO of PyTorch's exception (PyTorch's
``LinAlgError`` is a ``RuntimeError``, its ``NotImplementedError`` is one too). Where
PyTorch's message names the shapes or sizes, xgrad's must name them as well
(``shapes``).

``OTHER`` in a snippet is a second device: ``'meta'`` for PyTorch (a CPU-only
wheel has no second real device), and for xgrad another device than the one
under test (``strict:1`` beside ``strict``, ``strict`` beside ``cpu``).

Rows in ``PENDING`` are cases whose fix belongs to another part of xgrad (the
owner is named): for them the test asserts only that xgrad raises *some*
exception where PyTorch raises, and prints the row with what xgrad raised, so
that the row can be promoted to ``ROWS`` once the owner's fix lands. A pending row
marked ``silent`` (xgrad raises nothing yet) is an expected failure (xfail, with
the reason) until then.
"""

from __future__ import annotations

import builtins
import re
import warnings
from dataclasses import dataclass

import pytest

torch = pytest.importorskip("torch")

import xgrad  # noqa: E402


@dataclass(frozen=True)
class Row:
    name: str
    code: str
    expected: type                      # PyTorch's exception type (checked against PyTorch)
    shapes: tuple = ()                  # shapes/sizes xgrad's message must mention
    owner: str = ""                     # for PENDING rows: whose fix it is
    silent: bool = False                # PENDING rows where xgrad raises nothing yet (xfail)

    def __str__(self):
        return self.name


X = "x = torch.ones(2, requires_grad=True); "

ROWS = [
    # -- shapes --------------------------------------------------------------------------
    Row("broadcast_mismatch", "torch.ones(2, 3) + torch.ones(4)", RuntimeError, (3, 4)),
    Row("compare_broadcast_mismatch", "torch.ones(2) == torch.ones(3)", RuntimeError, (2, 3)),
    Row("matmul_mismatch", "torch.ones(2, 3) @ torch.ones(4, 5)", RuntimeError, ((2, 3), (4, 5))),
    Row("matmul_0d", "torch.ones(()) @ torch.ones(3)", RuntimeError),
    Row("reshape_wrong_size", "torch.ones(6).reshape(4, 2)", RuntimeError, ((4, 2), 6)),
    Row("reshape_two_inferred", "torch.ones(2, 3).reshape(-1, -1)", RuntimeError),
    Row("cat_mismatch", "torch.cat([torch.ones(2, 3), torch.ones(3, 4)])", RuntimeError),
    Row("stack_mismatch", "torch.stack([torch.ones(2), torch.ones(3)])", RuntimeError),
    Row("expand_invalid", "torch.ones(2, 3).expand(4, 3)", RuntimeError, (4, 2)),
    Row("solve_incompatible", "torch.linalg.solve(torch.eye(3), torch.ones(4))", RuntimeError),
    Row("where_mismatch", "torch.where(torch.tensor([True, False]), torch.ones(3), torch.ones(3))",
        RuntimeError, (2, 3)),
    Row("mse_loss_mismatch", "torch.nn.functional.mse_loss(torch.ones(2), torch.ones(3))", RuntimeError),
    Row("cholesky_not_pd", "torch.linalg.cholesky(-torch.eye(2))", RuntimeError),
    Row("inv_singular", "torch.linalg.inv(torch.zeros(2, 2))", RuntimeError),
    # -- dims ------------------------------------------------------------------------------
    Row("sum_dim_out_of_range", "torch.ones(2, 3).sum(2)", IndexError),
    Row("transpose_dim_out_of_range", "torch.ones(2).transpose(0, 1)", IndexError),
    Row("unsqueeze_dim_out_of_range", "torch.ones(2).unsqueeze(3)", IndexError),
    Row("squeeze_dim_out_of_range", "torch.ones(2, 3).squeeze(5)", IndexError),
    Row("cat_dim_out_of_range", "torch.cat([torch.ones(2)], dim=1)", IndexError),
    Row("unbind_dim_out_of_range", "torch.ones(2).unbind(1)", IndexError),
    Row("sum_repeated_dim", "torch.ones(2, 3).sum((0, 0))", RuntimeError),
    Row("permute_wrong_length", "torch.ones(2, 3).permute(0)", RuntimeError),
    Row("max_of_empty", "torch.ones(0).max()", RuntimeError),
    Row("amax_of_empty", "torch.ones(0).amax()", RuntimeError),
    # -- dtypes ----------------------------------------------------------------------------
    Row("requires_grad_int_tensor", "torch.tensor([1, 2], requires_grad=True)", RuntimeError),
    Row("requires_grad_int_method", "torch.arange(3).requires_grad_()", RuntimeError),
    Row("mean_of_int", "torch.arange(3).mean()", RuntimeError),
    Row("int_floor_div_by_zero", "torch.tensor([1]) // torch.tensor([0])", RuntimeError),
    Row("int_remainder_by_zero", "torch.tensor([1]) % torch.tensor([0])", RuntimeError),
    Row("int_overflow_literal", "torch.tensor([2**63])", ValueError),
    Row("cat_with_none", "torch.cat([torch.ones(2), None])", TypeError),
    Row("index_with_float_tensor", "torch.ones(3)[torch.tensor([0.5])]", IndexError),
    Row("int_negative_power", "torch.tensor([2]) ** -1", RuntimeError),
    Row("inplace_float_into_int", "a = torch.arange(3); a += 0.5", RuntimeError),  # (promoted 17:50)
    Row("matmul_mixed_float", "torch.ones(2, 2) @ torch.ones(2, 2, dtype=torch.float64)",
        RuntimeError),  # (promoted 18:15)
    # -- devices ---------------------------------------------------------------------------
    Row("add_across_devices", "torch.ones(2) + torch.ones(2, device=OTHER)", RuntimeError),
    # -- indices ---------------------------------------------------------------------------
    Row("index_out_of_range", "torch.ones(3)[5]", IndexError, (5, 3)),
    Row("int_array_out_of_range", "torch.ones(3)[torch.tensor([0, 5])]", IndexError),
    Row("int_list_out_of_range", "torch.ones(3)[[0, 5]]", IndexError),
    Row("too_many_indices", "torch.ones(3)[0, 0]", IndexError),
    Row("mask_wrong_shape", "torch.ones(3)[torch.tensor([True, False])]", IndexError, (2, 3)),
    Row("setitem_out_of_range", "a = torch.zeros(3); a[3] = 1.0", IndexError, (3,)),
    # -- autograd misuse -------------------------------------------------------------------
    Row("backward_twice", X + "y = (x * x).sum(); y.backward(); y.backward()", RuntimeError),
    Row("grad_twice", X + "y = (x * x).sum(); torch.autograd.grad(y, [x]); torch.autograd.grad(y, [x])",
        RuntimeError),
    Row("backward_non_scalar", X + "(x * 2).backward()", RuntimeError),
    Row("backward_no_grad_tensor", "torch.ones(2).sum().backward()", RuntimeError),
    Row("backward_under_no_grad", X + "\nwith torch.no_grad():\n    y = (x * 2).sum()\ny.backward()",
        RuntimeError),
    Row("grad_of_unused_input", X + "z = torch.ones(2, requires_grad=True); "
        "torch.autograd.grad((x * 2).sum(), [z])", RuntimeError),
    Row("grad_wrt_no_grad_tensor", X + "torch.autograd.grad((x * 2).sum(), [torch.ones(2)])", RuntimeError),
    Row("inplace_on_leaf", X + "x.add_(1)", RuntimeError),
    Row("setitem_on_leaf_view", X + "x[0] = 1.0", RuntimeError),
    Row("numpy_of_requires_grad", X + "x.numpy()", RuntimeError),
    Row("gradient_shape_mismatch", X + "(x * 2).backward(torch.ones(3))", RuntimeError, (3, 2)),
    Row("requires_grad_false_on_non_leaf", X + "y = x * 2; y.requires_grad = False", RuntimeError),
    Row("retain_grad_without_grad", "torch.ones(2).retain_grad()", RuntimeError),
    # -- conversions -------------------------------------------------------------------------
    Row("item_of_many", "torch.ones(2).item()", RuntimeError),
    Row("bool_of_many", "bool(torch.ones(2))", RuntimeError),
    Row("float_of_many", "float(torch.ones(2))", ValueError),
    Row("len_of_0d", "len(torch.tensor(1.0))", TypeError),
    Row("iter_of_0d", "list(torch.tensor(1.0))", TypeError),
    # -- creation ----------------------------------------------------------------------------
    Row("zeros_negative_size", "torch.zeros(-1)", RuntimeError),
    Row("arange_zero_step", "torch.arange(0, 3, 0)", RuntimeError),
    Row("ragged_nested_list", "torch.tensor([[1, 2], [3]])", ValueError),
    Row("det_1d", "torch.linalg.det(torch.ones(3))", RuntimeError, shapes=((3,),)),
    Row("inv_not_square", "torch.linalg.inv(torch.ones(2, 3))", RuntimeError, shapes=((2, 3),)),
    Row("inplace_broadcast_grows", "a = torch.ones(3); a.add_(torch.ones(2, 3))", RuntimeError),
    Row("setitem_value_shape", "a = torch.zeros(3); a[:2] = torch.ones(3)", RuntimeError),
]


def test_negative_slice_steps_are_accepted_on_purpose(device):
    """PyTorch refuses ``x[::-1]`` (ValueError); the array API standard requires negative
    steps and SciPy's and scikit-learn's array-API code uses them, so xgrad accepts them
    (docs/indexing.md), with gradients."""
    import numpy as np
    import xgrad
    x = xgrad.asarray(np.arange(4.0), device=device, requires_grad=True)
    y = x[::-2]
    np.testing.assert_array_equal(y.detach().numpy(), [3.0, 1.0])
    (y * xgrad.asarray(np.array([10.0, 1.0]), device=device)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0, 0.0, 10.0])

# Rows whose fix belongs to another part of xgrad (owner named). Promote a row to ROWS
# once xgrad raises PyTorch's type for it.
PENDING: list[Row] = []

_FUNCTION_ROWS = [  # PyTorch functions being added now: in the table when xgrad has them
    ("narrow", Row("narrow_out_of_range", "torch.ones(3).narrow(0, 2, 3)", RuntimeError)),
    ("index_select", Row("index_select_out_of_range",
                         "torch.index_select(torch.ones(3), 0, torch.tensor([5]))", IndexError)),
    ("topk", Row("topk_k_too_large", "torch.topk(torch.ones(3), 5)", RuntimeError)),
    ("chunk", Row("chunk_zero", "torch.ones(3).chunk(0)", RuntimeError)),
    ("split", Row("split_sizes_wrong_sum", "torch.ones(3).split([1, 1])", RuntimeError)),
    ("softmax", Row("softmax_dim_out_of_range", "torch.softmax(torch.ones(2), 1)", IndexError)),
    ("einsum", Row("einsum_mismatch", "torch.einsum('ij,jk->ik', torch.ones(2, 3), torch.ones(4, 5))",
                   RuntimeError)),
    ("diag", Row("diag_3d", "torch.diag(torch.ones(2, 2, 2))", RuntimeError)),
    ("mv", Row("mv_mismatch", "torch.mv(torch.ones(2, 3), torch.ones(4))", RuntimeError)),
    ("gather", Row("gather_index_out_of_range", "torch.gather(torch.ones(3), 0, torch.tensor([5]))",
                   RuntimeError, (5, 3))),
]
_PENDING_FUNCTION_ROWS: list = []
ROWS += [row for name, row in _FUNCTION_ROWS if hasattr(xgrad, name) or hasattr(xgrad.Tensor, name)]
PENDING += [row for name, row in _PENDING_FUNCTION_ROWS if hasattr(xgrad, name)]


def _other_device(device) -> str:
    name = str(device)
    if name.startswith("strict"):
        return "strict:1" if name in ("strict", "strict:0") else "strict"
    return "strict" if name.startswith("cpu") else "cpu"


def _run(module, code, other, device=None):
    """The exception ``code`` raises with ``torch`` bound to ``module`` (None if none)."""
    ns = {"torch": module, "OTHER": other}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if device is None:
                exec(code, ns)
            else:
                with module.default_device(device):
                    exec(code, ns)
        except Exception as e:  # noqa: BLE001
            return e
    return None


def _builtin_type(e) -> type:
    return next(c for c in type(e).__mro__ if c.__module__ == "builtins")


def _mentions(msg: str, item) -> bool:
    """Whether ``msg`` names a shape (tuple) or a size (int) in one of the usual ways."""
    if isinstance(item, int):
        return re.search(rf"(?<![\d.]){item}(?![\d.])", msg) is not None
    forms = {"x".join(map(str, item)), str(tuple(item)), str(list(item)), " x ".join(map(str, item)),
             ", ".join(map(str, item))}
    return any(f in msg for f in forms)


def _check_torch(row):
    err = _run(torch, row.code, "meta")
    assert err is not None, f"the table is wrong: PyTorch does not raise for {row.code!r}"
    assert isinstance(err, row.expected), (
        f"the table is wrong: PyTorch raises {type(err).__name__} ({err}) for {row.code!r}")
    return err


@pytest.mark.parametrize("row", ROWS, ids=str)
def test_error_like_pytorch(row, device):
    ref = _check_torch(row)
    got = _run(xgrad, row.code, _other_device(device), device)
    want = _builtin_type(ref)
    assert got is not None, f"xgrad raises nothing where PyTorch raises {want.__name__}: {ref}"
    assert isinstance(got, want), (
        f"xgrad raises {type(got).__name__} ({got}) where PyTorch raises {want.__name__} ({ref})")
    for item in row.shapes:
        assert _mentions(str(got), item), (
            f"xgrad's message does not name {item}: {got!r} (PyTorch: {ref})")


@pytest.mark.parametrize("row", PENDING, ids=str)
def test_pending_errors_raise(row, device, capsys):
    """Cases another owner is fixing: xgrad must at least raise (never be silent)."""
    ref = _check_torch(row)
    got = _run(xgrad, row.code, _other_device(device), device)
    with capsys.disabled():
        print(f"\n[errors PENDING, owner {row.owner}] {row.name}: PyTorch {type(ref).__name__}, "
              f"xgrad {type(got).__name__ if got is not None else 'nothing'}"
              + (f" ({str(got).splitlines()[0][:100]})" if got is not None else ""))
    if got is None and row.silent:
        pytest.xfail(f"silent today (owner {row.owner}): PyTorch raises {type(ref).__name__}: {ref}")
    assert got is not None, f"xgrad raises nothing where PyTorch raises {type(ref).__name__}: {ref}"


def test_table_size():
    assert len(ROWS) + len(PENDING) >= 40
    assert len({r.name for r in ROWS + PENDING}) == len(ROWS) + len(PENDING)
    assert all(builtins.__dict__.get(r.expected.__name__) is r.expected for r in ROWS + PENDING)
